"""The evaluation :class:`Report`: JSON (validated by ``schemas/report.schema.json``) and one self-contained HTML page.

A report is the data owner's evaluation, not part of a release: its numbers (exact row counts, binned counts with
edges from the real data, TRTR scores, attack results) are statistics of the private training table computed
without differential privacy. Both forms therefore carry :data:`~evaluators.base.PRIVATE_NOTICE` at the top
(JSON: ``contains_private_statistics`` and ``notice``; HTML: the page title and a banner at its top and bottom).

:meth:`Report.with_release` adds what the report describes (dataset, generator, parameters, ledger, the release
gate's result: :mod:`evaluators.report_release`). The HTML (:mod:`evaluators.report_html`) is rendered from the
JSON dictionary alone, and the JSON holds statistics and pre-binned counts only,
so the page cannot show a raw private value. Plots are matplotlib PNGs inlined as base64; a Content-Security-Policy
forbids every network request.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from synthgen._json import jsonable
from synthgen.io import atomic_write_text

from .base import PRIVATE_NOTICE, EvaluationError, Result
from .report_audit import audit_dict
from .report_html import render_html
from .report_release import release_context

FORMAT = "synthgen-report/1"
SUMMARY_KEYS = ("verdict", "fidelity_score", "detection_auc", "tstr_ratio", "mia_auc", "dcr_share",
                "exact_match_rate", "privacy")


def validate_report_dict(d: Mapping[str, Any]) -> None:
    import jsonschema

    from synthgen.resources import load_json_schema

    try:
        jsonschema.validate(d, load_json_schema("report"))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise EvaluationError(f"The report does not match schemas/report.schema.json at {where}: {exc.message}. "
                              "Fix: regenerate it with evaluators.evaluate().") from None


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    summary: Mapping[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)
    plots: Mapping[str, Any] = field(default_factory=dict)
    not_computed: tuple[Mapping[str, str], ...] = ()
    audit: Mapping[str, Any] | None = None  # an audit result or its dict (see evaluators.report_audit)
    release: Mapping[str, Any] | None = None  # dataset, generator, params, ledger, gate (evaluators.report_release)

    def __post_init__(self) -> None:
        object.__setattr__(self, "audit", None if self.audit is None else audit_dict(self.audit))
        object.__setattr__(self, "release", None if self.release is None else jsonable(dict(self.release)))
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "summary", dict(self.summary))
        object.__setattr__(self, "not_computed", tuple(dict(x) for x in self.not_computed))

    # ----- access
    def __getitem__(self, name: str) -> Result:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def get(self, name: str) -> Result | None:
        try:
            return self[name]
        except KeyError:
            return None

    # ----- the release it describes
    def with_release(self, *, dataset: str | None = None, generator: str | None = None,
                     params: Mapping[str, Any] | None = None, ledger: Any = None,
                     gate: Mapping[str, Any] | None = None, thresholds: Any = None) -> "Report":
        """This report naming what it evaluated (:func:`evaluators.report_release.release_context`).

        ``dataset``: the dataset's name or path.
        ``generator``: the generator's registry name; ``params``: its parameters.
        ``ledger``: the ledger file (or PrivacyLedger) that paid for the fit: spent and left are shown.
        ``gate``: the release gate's document; the header shows its decision.
        ``thresholds``: without ``gate``, the release thresholds the gate's report-level checks are run with.
        """
        ctx = release_context(self.summary, dataset=dataset, generator=generator, params=params, ledger=ledger,
                              gate=gate, thresholds=thresholds)
        return replace(self, release=ctx)

    # ----- JSON
    def to_dict(self) -> dict:
        d = {"format": FORMAT, "contains_private_statistics": True, "notice": PRIVATE_NOTICE,
             "meta": dict(self.meta), "summary": dict(self.summary), "results": [r.to_dict() for r in self.results],
             "not_computed": [dict(x) for x in self.not_computed], "plots": dict(self.plots)}
        if self.audit is not None:
            d["audit"] = dict(self.audit)
        if self.release is not None:
            d["release"] = dict(self.release)
        return jsonable(d)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save_json(self, path: str | os.PathLike) -> None:
        d = self.to_dict()
        validate_report_dict(d)
        atomic_write_text(path, json.dumps(d, indent=2, allow_nan=False) + "\n")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Report":
        validate_report_dict(d)
        return cls(tuple(Result.from_dict(r) for r in d["results"]), d["summary"], d.get("meta", {}),
                   d.get("plots", {}), tuple(d.get("not_computed", ())), d.get("audit"), d.get("release"))

    @classmethod
    def load_json(cls, path: str | os.PathLike) -> "Report":
        try:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
        except FileNotFoundError:
            raise EvaluationError(f"Report file {path} does not exist; check the path.") from None
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"Report file {path} is not valid JSON (line {exc.lineno}).") from None
        return cls.from_dict(d)

    # ----- HTML
    def to_html(self) -> str:
        return render_html(self.to_dict())

    def save_html(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_html())
