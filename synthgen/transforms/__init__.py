"""Reversible, schema-driven transforms: normal scores, correlation repair and the fitted copula form."""
from .copula_model import ColumnModel, CopulaPart, calibrate_onehot_offsets, sample_parts
from .normal_scores import (cholesky_factor, corrected_correlation, nearest_correlation, score_variance,
                            slice_scores, slices_from_probs)

__all__ = ["ColumnModel", "CopulaPart", "calibrate_onehot_offsets", "sample_parts", "cholesky_factor",
           "corrected_correlation", "nearest_correlation", "score_variance", "slice_scores", "slices_from_probs"]
