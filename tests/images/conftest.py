import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits():
    """sklearn digits as float32 images in [0, 1] with a fixed 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, d.target.astype(np.int64), test_size=0.2, random_state=0,
                                          stratify=d.target)
    return xtr, ytr, xte, yte
