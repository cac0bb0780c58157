"""synthgen's own release checks, in the gate's result shape: DP required, max epsilon, budget, copies, report.

* ``require_dp`` passes only for a spend that :func:`synthgen.privacy.spend.spend_from_dict` reads as a valid
  :class:`~synthgen.privacy.spend.DPSpend`. A ``{"guarantee": "none", ...}`` spend fails, also when it carries the
  ``accounted`` epsilon of a fit that has no guarantee (seeded test noise, a schema inferred from the data); so
  does a malformed "dp" record (missing, negative or infinite epsilon).
* ``no_copied_rows`` counts copies with the evaluators' own exact-match code
  (:func:`evaluators.privacy.exact_match_rate`): the report and the gate cannot judge one release differently.
* ``report_matches_release`` compares the sha256 a report records for the table it evaluated
  (``summary.synthetic_table``, :func:`evaluators.base.table_sha256`) with the table being validated.
* ``audit_consistent`` (``thresholds.require_audit``) passes only for an empirical privacy audit
  (``synthgen audit``, ``synthgen-audit/1``) that exists, is valid, is at most ``max_age_days`` old, audits the same
  generator with the same parameters (defaults filled in from the generator's signature; seeds, threads and
  verbosity aside) and the epsilon the release claims, has an accepted verdict that follows from its own numbers,
  and whose independent accounting check (when run) did not disagree.

Privacy argument: the privacy checks read only the (DP or loudly non-DP) spend and the public budget; the audit
check reads an audit (computed on worst-case tables built for the audit, never on the private data) and the
model's public facts (generator, parameters, spend); the copy
check reports a share, never a row; the report check reports hashes of the synthetic table only. The pass/fail
of the copy and threshold checks is itself a function of the private data: a gate document computed with a
report or a training table is part of the owner's evaluation, not of the release.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from synthgen.exceptions import SynthgenError

from ..config import AuditRequirement, Thresholds

DEFAULT_MAX_EXACT_MATCH_RATE = 0.0
_NO_INFO = "is set but no privacy information was given. Fix: pass the report (--report) or the model (--model)."


def check_result(name: str, success: bool, message: str, **observed: Any) -> dict:
    """One synthgen check in GX's result shape (``expectation_config.meta.check`` names it)."""
    return {"expectation_config": {"type": f"synthgen_{name}", "kwargs": {}, "meta": {"check": name}},
            "success": bool(success), "result": {"observed_value": observed or None, "message": message},
            "exception_info": {"raised_exception": False, "exception_message": None}}


def read_spend(privacy: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """``(spend or None, problem)``: the spend object of a privacy record, or why it is not a valid one."""
    from synthgen.privacy.spend import spend_from_dict

    if privacy is None:
        return None, None
    try:
        return spend_from_dict(privacy), None
    except (SynthgenError, KeyError, TypeError, ValueError) as exc:
        return None, f"the privacy record is not a valid spend ({type(exc).__name__}: {exc})"


def _require_dp(privacy: Mapping[str, Any] | None, spend: Any, problem: str | None) -> dict:
    if privacy is None:
        return check_result("require_dp", False, f"require_dp {_NO_INFO}")
    if spend is not None and spend.is_dp:
        return check_result("require_dp", True, "the release carries a DP guarantee", guarantee="dp")
    if spend is None:
        why = problem or "unreadable privacy record"
    else:
        why = str(getattr(spend, "reason", "no guarantee"))
        acc = getattr(spend, "accounted", None)
        if acc is not None:
            why += f" (its accountant computed epsilon={acc.epsilon:.4g}, which does not hold)"
    return check_result("require_dp", False, f"the release has NO differential-privacy guarantee ({why}) but the "
                        "config requires one. Fix: fit a DP generator such as 'dp-copula' on a declared schema, "
                        "without test switches.", guarantee=(privacy or {}).get("guarantee"))


def _max_epsilon(spend: Any, limit: float) -> dict:
    if spend is None:
        return check_result("max_epsilon", False, f"max_epsilon {_NO_INFO}", max_epsilon=limit)
    eps = spend.epsilon if spend.is_dp else math.inf
    ok = eps <= limit + 1e-12
    return check_result("max_epsilon", ok, f"epsilon {eps:g} {'<=' if ok else '>'} max_epsilon {limit:g}"
                        + ("" if ok else ". Fix: fit with a smaller epsilon (and with a DP guarantee)."),
                        epsilon=None if math.isinf(eps) else eps, max_epsilon=limit)


def _budget(spend: Any, budget: tuple[float | None, float | None], ledger: Any) -> dict:
    b_eps, b_delta = budget
    problems: list[str] = []
    observed: dict[str, Any] = {}
    if b_eps is not None and spend is not None:
        eps = spend.epsilon if spend.is_dp else math.inf  # a release without a guarantee exceeds every budget
        observed.update(epsilon=None if math.isinf(eps) else eps, budget_epsilon=b_eps)
        if eps > b_eps + 1e-12:
            problems.append(f"the release spent epsilon {eps:g}, over the configured budget {b_eps:g}")
        if spend.is_dp and b_delta is not None and spend.delta > b_delta + 1e-15:
            problems.append(f"the release spent delta {spend.delta:g}, over the configured {b_delta:g}")
    if ledger is not None:
        from synthgen.exceptions import LedgerError
        from synthgen.privacy.ledger import PrivacyLedger

        try:
            info = PrivacyLedger(ledger).to_dict()
            observed["ledger_spent"] = info["spent"]
            observed["ledger_budget"] = info["budget"]
        except LedgerError as exc:
            problems.append(str(exc))
    return check_result("budget_not_exceeded", not problems,
                        "; ".join(problems) if problems else "privacy budget respected", **observed)


def privacy_checks(privacy: Mapping[str, Any] | None, thresholds: Thresholds | None,
                   budget: tuple[float | None, float | None] = (None, None), ledger: Any = None) -> list[dict]:
    """synthgen's own checks on the privacy of a release: DP required, max epsilon, budget not exceeded."""
    t = thresholds or Thresholds()
    spend, problem = read_spend(privacy)
    out = []
    if t.require_dp:
        out.append(_require_dp(privacy, spend, problem))
    if t.max_epsilon is not None:
        out.append(_max_epsilon(spend, t.max_epsilon))
    if budget[0] is not None or ledger is not None:
        out.append(_budget(spend, budget, ledger))
    return out


def copy_check(report_summary: Mapping[str, Any] | None, thresholds: Thresholds | None,
               synthetic: Any = None, real: Any = None, schema: Any = None) -> list[dict]:
    """``no_copied_rows``: the share of synthetic rows equal to a training row must not exceed the threshold.

    With ``real``, the share is computed here (the evaluators' exact-match code); otherwise it is the report's.
    The threshold is ``max_exact_match_rate`` when declared; else, when the report has a holdout reference (the
    share of real rows the generator never saw that equal a training row by chance), that share plus the excess at
    which the report's verdict fails a release (``evaluators.privacy.FAIL_EXACT_EXCESS``: the two never judge one
    release differently): on a table of few, small categorical columns many fresh real rows equal some training
    row, and more model rows do (a model smoother than the data draws its frequent combinations more often);
    else 0.
    """
    from evaluators.privacy import FAIL_EXACT_EXCESS

    ref = report_summary.get("exact_match_reference") if report_summary is not None else None
    if thresholds and thresholds.max_exact_match_rate is not None:
        limit, basis = thresholds.max_exact_match_rate, "declared max_exact_match_rate"
    elif ref is not None:
        limit = float(ref) + FAIL_EXACT_EXCESS
        basis = f"the holdout's chance matches {float(ref):.4%} + {FAIL_EXACT_EXCESS:.0%}"
    else:
        limit, basis = DEFAULT_MAX_EXACT_MATCH_RATE, "default (no holdout reference)"
    rate, source = None, None
    if real is not None:
        from evaluators.base import EvaluationError
        from evaluators.privacy import exact_match_rate

        try:
            rate, source = exact_match_rate(synthetic, real, schema), "computed against the training table"
        except EvaluationError as exc:
            return [check_result("no_copied_rows", False, f"copied rows could not be counted: {exc}")]
    elif report_summary is not None and report_summary.get("exact_match_rate") is not None:
        rate, source = float(report_summary["exact_match_rate"]), "report exact_match_rate"
    if rate is None:
        return []
    ok = rate <= limit + 1e-12
    dp = ((report_summary or {}).get("privacy") or {}).get("guarantee") == "dp"
    fix = ("the release is DP, so these rows repeat combinations frequent in its model rather than copy a row; "
           "accept them with thresholds.max_exact_match_rate, or spend a smaller epsilon" if dp else
           "use a DP generator or a smaller epsilon; do not release copied rows")
    msg = (f"{rate:.4%} of synthetic rows copy a training row ({source}); limit {limit:.4%} ({basis})"
           + ("" if ok else f". Fix: {fix}"
              + ("" if ref is not None else "; evaluate with a holdout to compare with chance matches") + "."))
    return [check_result("no_copied_rows", ok, msg, exact_match_rate=rate, max_exact_match_rate=limit)]


def report_check(report_summary: Mapping[str, Any], synthetic: Any, schema: Any) -> dict:
    """``report_matches_release``: the report describes this very table (sha256 of its content)."""
    from evaluators.base import table_sha256

    rec = report_summary.get("synthetic_table")
    if not isinstance(rec, Mapping) or not isinstance(rec.get("sha256"), str):
        return check_result("report_matches_release", False, "the report does not record the sha256 of the table "
                            "it evaluated, so it may describe another file. Fix: regenerate the report "
                            "(`synthgen evaluate`) on this synthetic file.")
    actual = table_sha256(synthetic, schema if rec.get("basis") == "schema" else None)
    ok = actual == rec["sha256"]
    return check_result("report_matches_release", ok, "the report evaluated this table" if ok else
                        "the report describes another table (its recorded sha256 differs from this file's). "
                        "Fix: pass the report made for this file, or regenerate it with `synthgen evaluate`.",
                        report_sha256=rec["sha256"], table_sha256=actual)


# ============================================================================================= audit_consistent
#: Parameters that do not change the mechanism, so an audit covers every value of them.
AUDIT_IGNORED_PARAMS = ("random_state", "verbose", "n_threads", "n_jobs")
_AUDIT_FIX = ("Fix: run `synthgen audit` on the generator configuration being released and pass its JSON "
              "(thresholds.require_audit.file or --audit).")


def load_audit(path: str | Path | None) -> tuple[dict | None, str | None]:
    """``(audit dict, None)`` or ``(None, why it cannot be used)``: the file exists, is JSON and is a valid audit."""
    from evaluators.base import EvaluationError
    from evaluators.report_audit import audit_dict

    if path is None:
        return None, "no audit file was given"
    p = Path(path)
    if not p.is_file():
        return None, f"the audit file {p} does not exist"
    try:
        return audit_dict(json.loads(p.read_text(encoding="utf-8"))), None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, f"the audit file {p} is not valid JSON"
    except EvaluationError as exc:
        return None, f"the audit file {p} is not a valid synthgen audit ({exc})"


def _age_problem(created: str, max_age_days: float) -> tuple[str | None, float | None]:
    try:
        when = datetime.fromisoformat(str(created))
    except ValueError:
        return f"its creation time {created!r} is not an ISO time", None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - when).total_seconds() / 86400.0
    if age < -1.0 / 24:  # an hour of clock skew is tolerated
        return f"it is dated in the future ({created})", age
    if age > max_age_days:
        return f"it is {age:.1f} days old, older than max_age_days {max_age_days:g}", age
    return None, age


def _full_params(generator: str, params: Mapping[str, Any]) -> dict:
    """``params`` with the generator's defaults filled in (the audit and the model may each omit defaults)."""
    import inspect

    from synthgen._json import jsonable

    defaults: dict[str, Any] = {}
    try:
        from synthgen.generators import registry

        sig = inspect.signature(registry.get(generator).__init__)
        defaults = {k: p.default for k, p in sig.parameters.items()
                    if k != "self" and p.default is not inspect.Parameter.empty}
    except (SynthgenError, TypeError, ValueError):
        pass  # unknown or unavailable generator: compare the given parameters only
    full = jsonable({**defaults, **dict(params)})
    return {k: v for k, v in full.items() if k not in AUDIT_IGNORED_PARAMS}


def _identity_problems(audit: Mapping[str, Any], model: Mapping[str, Any] | None) -> list[str]:
    if not model or not model.get("generator"):
        return ["it cannot be matched to the released model: no model (--model) or release config (--config) "
                "says which generator configuration is released"]
    where = str(model.get("source", "the model"))
    if audit["generator"] != model["generator"]:
        return [f"it audits generator {audit['generator']!r}, but {where} is {model['generator']!r}"]
    a = _full_params(audit["generator"], audit.get("params") or {})
    m = _full_params(model["generator"], model.get("params") or {})
    diff = sorted(k for k in set(a) | set(m) if a.get(k, "(unset)") != m.get(k, "(unset)"))
    if not diff:
        return []
    shown = ", ".join(f"{k} (audit {a.get(k, '(unset)')!r}, release {m.get(k, '(unset)')!r})" for k in diff[:6])
    return [f"its parameters differ from {where}'s: {shown}"[:600]]


def _epsilon_problems(audit: Mapping[str, Any], privacy: Mapping[str, Any] | None) -> list[str]:
    if privacy is None:
        return []
    src = privacy if privacy.get("guarantee") == "dp" else (privacy.get("accounted") or {})
    eps = src.get("epsilon")
    claimed = float(audit["claimed"]["epsilon"])
    if eps is None:
        return ["the release states no epsilon to compare with the audited claim"]
    repeats = int(audit["game"].get("repeats") or 1)  # a repeated canary audits the group claim r * epsilon
    if abs(repeats * float(eps) - claimed) > 1e-6 * max(1.0, claimed):
        group = f" (a group of {repeats} rows)" if repeats > 1 else ""
        return [f"it audits a claim of epsilon {claimed:g}{group}, but the release claims epsilon {float(eps):g}"]
    return []


def _accounting_problems(acc: Mapping[str, Any] | None) -> list[str]:
    """An independent accounting check that disagreed (``agrees`` / ``ok`` false, or a disagreeing status)."""
    if not acc:
        return []
    disagrees = acc.get("agrees") is False or acc.get("ok") is False or \
        str(acc.get("status", acc.get("verdict", ""))).lower() in ("disagree", "disagreement", "mismatch", "fail")
    return ["its independent accounting check disagrees with the recorded spend"] if disagrees else []


def audit_check(req: AuditRequirement, *, audit: str | Path | None = None, model: Mapping[str, Any] | None = None,
                privacy: Mapping[str, Any] | None = None) -> dict:
    """``audit_consistent``: a recent, accepted audit of the generator configuration being released.

    ``audit`` overrides ``req.file``; ``model`` holds the released model's public facts (a manifest: generator,
    params), else ``req.expected`` (the release config's) is used; ``privacy`` is the release's spend."""
    from evaluators.report_audit import verdict_problems

    path = audit if audit is not None else req.file
    d, why = load_audit(path)
    if d is None:
        return check_result("audit_consistent", False, f"require_audit: {why}. {_AUDIT_FIX}",
                            file=None if path is None else str(path))
    problems = []
    age_problem, age = _age_problem(d["created"], float(req.max_age_days))
    problems += [age_problem] if age_problem else []
    problems += _identity_problems(d, model if model is not None else req.expected)
    problems += _epsilon_problems(d, privacy)
    if d["verdict"] not in req.accept:
        problems.append(f"its verdict is {d['verdict']!r}, not one of the accepted {list(req.accept)}")
    problems += verdict_problems(d) + _accounting_problems(d.get("accounting"))
    observed = dict(file=str(path), generator=d["generator"], verdict=d["verdict"], created=d["created"],
                    age_days=None if age is None else round(age, 3), claimed_epsilon=d["claimed"]["epsilon"],
                    epsilon_lb=d["empirical"]["epsilon_lb"], score=d["game"]["score"], trials=d["game"]["trials"])
    # epsilon_lb None: an infinite lower bound (the audit writes infinities as null)
    if problems:
        return check_result("audit_consistent", False, "the privacy audit does not cover this release: "
                            + "; ".join(problems) + ". " + _AUDIT_FIX, **observed)
    return check_result("audit_consistent", True, f"a {d['verdict']} {d['game']['score']} audit of this generator "
                        f"configuration at epsilon {d['claimed']['epsilon']:g}", **observed)
