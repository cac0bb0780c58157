"""The release gate: expectation specs from the declared schema and thresholds, two engines, synthgen's checks.

* :mod:`.expectations`: the specs (public values only: schema and release config, nothing read off the data);
* :mod:`.engines`: Great Expectations (optional, ``pip install 'synthgen[gx]'``) and a native engine with the same
  result shape; suite export;
* :mod:`.checks`: require_dp, max_epsilon, budget_not_exceeded, no_copied_rows (the evaluators' exact-match
  code), report_matches_release (the report's recorded table sha256);
* :mod:`.run`: :func:`run_gate`, one JSON document in GX's validation-result shape.

Privacy argument: see each module; in short, specs are public, results keep counts and shares only, and a gate
document computed with a report or the training table is labelled as containing private statistics.
"""
from .checks import DEFAULT_MAX_EXACT_MATCH_RATE, check_result, copy_check, privacy_checks, report_check
from .engines import export_suite, gx_available, run_gx, run_native, suite_documents
from .expectations import data_expectations, report_expectations
from .run import gate_json, run_gate

__all__ = ["DEFAULT_MAX_EXACT_MATCH_RATE", "check_result", "copy_check", "data_expectations", "export_suite",
           "gate_json", "gx_available", "privacy_checks", "report_check", "report_expectations", "run_gate",
           "run_gx", "run_native", "suite_documents"]
