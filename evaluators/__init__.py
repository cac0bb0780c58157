"""Evaluators of synthetic data: fidelity, downstream utility and privacy risk, reported as JSON and HTML.

``evaluate(real, synthetic, holdout, schema, target=...)`` returns a frozen :class:`Report`; every fidelity and
risk number sits beside the same number for a real holdout.
"""
from __future__ import annotations

from .base import MIN_HOLDOUT_ROWS, EvaluationError, Result
from .report import Report, render_html, validate_report_dict
from .suite import KNOWN_METRICS, evaluate

__all__ = ["EvaluationError", "KNOWN_METRICS", "MIN_HOLDOUT_ROWS", "Report", "Result", "evaluate", "render_html",
           "validate_report_dict"]
