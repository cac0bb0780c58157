import numpy as np
import pytest
from PIL import Image

from synthgen.exceptions import DataValidationError, InputError, SynthgenError
from synthgen.io.images import ImageData, read_image_data, write_image_data


def _imgs(n=6, shape=(8, 8), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n,) + shape) / 255.0).astype(np.float32), np.arange(n) % 3


@pytest.mark.parametrize("shape", [(8, 8), (5, 7, 3), (4, 4, 4)])
@pytest.mark.parametrize("target", ["data.npz", "folder"])
def test_roundtrip_exact(tmp_path, shape, target):
    x, y = _imgs(shape=shape)
    out = write_image_data((x, y), tmp_path / target)
    back = read_image_data(out)
    assert back.images.shape == x.shape and back.images.dtype == np.float32
    np.testing.assert_array_equal(back.images, x)  # values on the 1/255 grid survive exactly
    np.testing.assert_array_equal(back.labels, y)


def test_folder_without_labels_and_uint8_npz(tmp_path):
    x, _ = _imgs()
    write_image_data(ImageData(x), tmp_path / "f")
    assert not (tmp_path / "f" / "labels.csv").exists()
    assert read_image_data(tmp_path / "f").labels is None
    np.savez(tmp_path / "u.npz", images=(x * 255).round().astype(np.uint8))
    np.testing.assert_allclose(read_image_data(tmp_path / "u.npz").images, x, atol=1e-6)


def _png(path, arr):
    Image.fromarray(arr).save(path)


def test_mixed_sizes_folder(tmp_path):
    _png(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    _png(tmp_path / "b.png", np.zeros((9, 8), np.uint8))
    with pytest.raises(DataValidationError, match="mixed sizes"):
        read_image_data(tmp_path)


def test_mixed_sizes_array():
    with pytest.raises(DataValidationError, match="mixed sizes"):
        ImageData([np.zeros((8, 8)), np.zeros((9, 8))])


def test_wrong_channels(tmp_path):
    with pytest.raises(DataValidationError, match="channels"):
        ImageData(np.zeros((3, 8, 8, 2), np.float32))
    _png(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    _png(tmp_path / "b.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DataValidationError, match="channel counts"):
        read_image_data(tmp_path)


def test_labels_not_matching_files(tmp_path):
    for n in ("a.png", "b.png"):
        _png(tmp_path / n, np.zeros((8, 8), np.uint8))
    (tmp_path / "labels.csv").write_text("filename,label\na.png,1\nc.png,2\n")
    with pytest.raises(DataValidationError, match="without a label") as e:
        read_image_data(tmp_path)
    assert "b.png" in str(e.value) and "c.png" in str(e.value)
    (tmp_path / "labels.csv").write_text("filename,label\na.png,1\nb.png,cat\n")
    with pytest.raises(DataValidationError, match="integer"):
        read_image_data(tmp_path)
    with pytest.raises(DataValidationError, match="one label per image"):
        ImageData(np.zeros((3, 4, 4), np.float32), [1, 2])


def test_empty_folder_and_missing_path(tmp_path):
    with pytest.raises(InputError, match="no PNG/JPEG"):
        read_image_data(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        read_image_data(tmp_path / "nope")


def test_corrupt_image_file(tmp_path):
    _png(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    with pytest.raises(InputError, match="b.png is not a readable image"):
        read_image_data(tmp_path)
    (tmp_path / "c.npz").write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a readable .npz"):
        read_image_data(tmp_path / "c.npz")


def test_non_numeric_pixels(tmp_path):
    with pytest.raises(DataValidationError, match="numeric"):
        ImageData(np.array([[["a"] * 4] * 4] * 2))
    np.savez(tmp_path / "s.npz", images=np.array([[["x"] * 4] * 4] * 2))
    with pytest.raises(DataValidationError, match="numeric"):
        read_image_data(tmp_path / "s.npz")
    np.savez(tmp_path / "o.npz", images=np.array([None, 1], dtype=object))
    with pytest.raises(SynthgenError):
        read_image_data(tmp_path / "o.npz")
    with pytest.raises(DataValidationError, match="NaN"):
        ImageData(np.full((2, 4, 4), np.nan, np.float32))
    with pytest.raises(DataValidationError, match=r"outside \[0, 1\]"):
        ImageData(np.full((2, 4, 4), 3.0, np.float32))


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(DataValidationError):
        write_image_data((np.zeros((2, 4, 4, 2)), [0, 1]), tmp_path / "out")
    with pytest.raises(InputError):
        write_image_data(_imgs(), tmp_path / "one.png")
    assert list(tmp_path.iterdir()) == []
    # an existing output is replaced as a whole or not at all
    x, y = _imgs()
    write_image_data((x, y), tmp_path / "out")
    with pytest.raises(InputError):
        write_image_data((x, y), tmp_path / "out", overwrite=False)
    assert len(list((tmp_path / "out").glob("*.png"))) == len(x)
