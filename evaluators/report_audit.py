"""The report's optional "audit" section: an empirical privacy audit (:mod:`evaluators.audit`) shown with the report.

An audit result (``synthgen-audit/1``, from ``synthgen audit`` or :func:`evaluators.audit.audit`) states the
epsilon a generator configuration claims, the empirical lower bound an attack reached, the Gaussian-DP estimate
mu-hat with its interval, the largest epsilon the run could have certified, the attack's strength and a verdict.

Privacy argument: an audit fits the generator on worst-case tables built for the audit (a small table and the same
table plus one canary row), never on the owner's training table, so the section holds no statistic of the private
data. It is validated by ``$defs/audit`` of ``schemas/report.schema.json`` before it is shown or stored.

:func:`verdict_problems` re-derives the verdict from the audit's own numbers, so a report, a gate or a reader
cannot be shown "consistent" for a run whose lower bound exceeds its claim or whose ceiling cannot reach it.
"""
from __future__ import annotations

import html
import json
from typing import Any, Mapping

from synthgen._json import jsonable

from .base import EvaluationError

AUDIT_FORMAT = "synthgen-audit/1"
VERDICTS = ("violation", "consistent", "inconclusive")
_TOL = 1e-9


def _audit_schema() -> dict:
    from synthgen.resources import load_json_schema

    root = load_json_schema("report")
    return {"$defs": root["$defs"], "$ref": "#/$defs/audit"}


def audit_dict(audit: Any) -> dict:
    """The audit as a validated JSON dictionary: ``audit`` is a dict or an object with ``to_dict()``."""
    import jsonschema

    if hasattr(audit, "to_dict") and not isinstance(audit, Mapping):
        audit = audit.to_dict()
    if not isinstance(audit, Mapping):
        raise EvaluationError(f"audit must be an audit result (with to_dict()) or its dict; got "
                              f"{type(audit).__name__}. Fix: pass evaluators.audit.audit(...) or the JSON of "
                              "`synthgen audit`.")
    d = jsonable(dict(audit))
    try:
        jsonschema.validate(d, _audit_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise EvaluationError(f"The audit does not match $defs/audit of schemas/report.schema.json at {where}: "
                              f"{exc.message}. Fix: pass the unmodified output of `synthgen audit`.") from None
    return d


def epsilon_lb(d: Mapping[str, Any]) -> float:
    """The audit's 95% lower bound on epsilon; JSON null (an infinite bound, as the audit writes it) is inf."""
    lb = d["empirical"]["epsilon_lb"]
    return float("inf") if lb is None else float(lb)


def verdict_problems(d: Mapping[str, Any]) -> list[str]:
    """Why the recorded verdict does not follow from the audit's numbers ([] when it does)."""
    claimed = float(d["claimed"]["epsilon"])
    lb = epsilon_lb(d)
    ceiling = d.get("certifiable_epsilon")
    verdict = d["verdict"]
    problems = []
    if lb > claimed * (1 + _TOL) and verdict != "violation":
        problems.append(f"its lower bound epsilon {lb:.4g} exceeds the claimed {claimed:.4g}, yet its verdict is "
                        f"{verdict!r} (it must be 'violation')")
    if verdict == "consistent" and ceiling is not None and float(ceiling) < claimed * (1 - _TOL):
        problems.append(f"it could certify at most epsilon {float(ceiling):.4g} < the claimed {claimed:.4g}, yet "
                        "its verdict is 'consistent' (it must be 'inconclusive')")
    return problems


# ============================================================================================= HTML
def _num(x: Any, digits: int = 3) -> str:
    if x is None:
        return "&ndash;"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"
    return html.escape(str(x))


def _interval(c: Any) -> str:
    if not c:
        return "&ndash;"
    return f"[{_num(c[0])}, {_num(c[1])}]"


def audit_banner(d: Mapping[str, Any]) -> str:
    """A red banner for a violation (like NO DP GUARANTEE); empty otherwise."""
    if d["verdict"] != "violation":
        return ""
    return (f'<div class="banner nodp" id="audit-violation">DP VIOLATION &mdash; a privacy audit of '
            f'{html.escape(str(d["generator"]))} found empirical &epsilon; &ge; '
            f'{_num(epsilon_lb(d))} (95% lower bound), above the claimed &epsilon; = '
            f'{_num(float(d["claimed"]["epsilon"]))}. This generator configuration does not give the privacy it '
            f'claims: do not release its output.</div>')


_VERDICT_TEXT = {
    "violation": ("fail", "the 95% lower bound lies above the claimed epsilon: the claim is false"),
    "consistent": ("pass", "no attack beat the claim, and the run could have certified the claimed epsilon"),
    "inconclusive": ("warn", "no violation found, but the run (its trial count) cannot certify the claimed "
                             "epsilon: run more trials"),
}


def _accounting_rows(acc: Mapping[str, Any] | None) -> str:
    if not acc:
        return ""
    rows = []
    for key, value in acc.items():
        shown = value if isinstance(value, (int, float, str, bool)) or value is None else \
            json.dumps(jsonable(value), sort_keys=True)[:300]
        rows.append(f"<tr><td class=l>{html.escape(str(key))}</td><td class=l>{_num(shown)}</td></tr>")
    return ("<h3>Independent accounting check</h3><table id=audit-accounting>"
            "<tr><th class=l>field</th><th class=l>value</th></tr>" + "".join(rows) + "</table>")


def audit_section(d: Mapping[str, Any] | None) -> list[str]:
    """The "Privacy audit" section of the HTML report (nothing when the report has no audit)."""
    if not d:
        return []
    emp, game, claimed = d["empirical"], d["game"], d["claimed"]
    css, meaning = _VERDICT_TEXT[d["verdict"]]
    split = game.get("split") or {}
    trials = _num(game.get("trials")) + (f" (threshold {_num(split.get('threshold'))}, bound "
                                         f"{_num(split.get('bound'))})" if split else "")
    rows = [("generator", html.escape(str(d["generator"]))),
            ("claimed &epsilon;, &delta;", f"{_num(float(claimed['epsilon']))}, {float(claimed['delta']):.3g}"),
            ("attack", f"{html.escape(str(game['kind']))} game, {html.escape(str(game['score']))} score"
                       + (f" ({html.escape(str(game['statistic']))})" if game.get("statistic") else "")
                       + (f", {html.escape(str(game['canary']))} canary" if game.get("canary") else "")
                       + (f" &times;{_num(game['repeats'])}" if (game.get("repeats") or 1) > 1 else "")),
            ("trials", trials),
            ("empirical &epsilon; lower bound (95%)", _num(emp.get("epsilon_lb"))),
            ("TPR / FPR at the chosen threshold", f"{_num(emp.get('tpr'))} / {_num(emp.get('fpr'))}"),
            ("&mu;&#770; (Gaussian DP) with 95% interval", f"{_num(emp.get('mu_hat'))} {_interval(emp.get('mu_ci'))}"),
            ("&epsilon; from &mu;&#770; at the claimed &delta;", _num(emp.get("epsilon_from_mu"))),
            *([("&mu; of the mechanism (analytic)", _num(emp["mu_mechanism"]))] if emp.get("mu_mechanism") else []),
            ("certifiable ceiling (largest &epsilon; this run could certify)", _num(d.get("certifiable_epsilon"))),
            ("tightness &epsilon;<sub>lb</sub> / &epsilon;<sub>claimed</sub>", _num(d.get("tightness")))]
    parts = ["<h2 id=audit>Privacy audit</h2>",
             "<p class=note>An empirical audit of the generator configuration on worst-case tables built for the "
             "audit (not on the training data): a lower bound on the epsilon it really gives.</p>",
             audit_banner(d),
             f'<div class="verdict {css}" id="audit-verdict">{html.escape(d["verdict"].upper())}</div>',
             f"<p>{html.escape(meaning)}. Audited {html.escape(str(d.get('created', '')))}.</p>",
             "<table id=audit-table>" + "".join(f"<tr><td class=l>{k}</td><td>{v}</td></tr>" for k, v in rows)
             + "</table>"]
    problems = verdict_problems(d)
    if problems:
        parts.append('<div class="banner nodp">The audit\'s verdict does not follow from its numbers: '
                     + html.escape("; ".join(problems)) + "</div>")
    parts.append(_accounting_rows(d.get("accounting")))
    return parts
