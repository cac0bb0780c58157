"""What ``synthgen run`` checks before any budget is charged, from public inputs only.

:func:`preflight` refuses a config that cannot pass the gate (``require_dp``, ``max_epsilon``, a missing or stale
audit) as a gate-shaped document, before any work.

:func:`before_charge` reads the release config, the declared schema and the machine (the gate engine, the output
folder), never the private table. It refuses, with a typed error naming the key or column and the fix:

* an epsilon that gives no protection and that the accountants cannot compute with (above :data:`MAX_EPSILON`:
  ``exp(epsilon)`` overflows beyond ~709, and PRV accounting fails before that);
* evaluation columns (target, quasi-identifiers, sensitive) the schema does not release, unknown metric names;
* an output folder that cannot be written (a file in the way, a read-only folder);
* a gate engine that is not installed, and an expectation suite that cannot be built (it is built here, from the
  declared schema and the thresholds, and written later: an export can no longer fail after the charge).

Generator-specific checks that need the schema (e.g. DP-CTGAN's memory estimate from the declared domain and the
batch size) run in the generator's ``_plan``, which ``fit`` calls before it reserves the budget.

Privacy argument: every input here is public (config, declared schema, installed packages, file-system state).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError, InputError, InvalidPrivacyParameterError, SynthgenError
from .config import ReleaseConfig

MAX_EPSILON = 100.0
_NOTHING_DONE = "Nothing was fitted and no budget was charged."


@dataclass(frozen=True)
class Checked:
    """What the checks built: the suite documents to export (``None`` when the config exports none)."""

    suite: dict | None = None


def check_epsilon(epsilon: Any) -> None:
    """Refuse an epsilon beyond :data:`MAX_EPSILON` (or not finite) before any ledger is touched."""
    if epsilon is None or isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
        return
    if not math.isfinite(float(epsilon)) or float(epsilon) > MAX_EPSILON:
        raise InvalidPrivacyParameterError(
            f"privacy.epsilon={epsilon:g} is above {MAX_EPSILON:g}: such a guarantee protects nothing "
            f"(e^epsilon > 10^43) and the privacy accountants cannot compute with it. Fix: use epsilon <= "
            f"{MAX_EPSILON:g} (1-3 is usual), or a generator without a DP guarantee ('copula') for an unprotected "
            f"copy. {_NOTHING_DONE}")


def check_evaluation(cfg: ReleaseConfig, schema: Any) -> None:
    """The evaluation's columns are released columns of the schema; the metric names are known."""
    if not cfg.evaluate or schema is None or not hasattr(schema, "release_names"):
        return
    released = list(schema.release_names)
    named = [("evaluation.target", cfg.target), ("evaluation.sensitive", cfg.sensitive)]
    named += [("evaluation.quasi_identifiers", q) for q in cfg.quasi_identifiers]
    for key, col in named:
        if col is not None and col not in released:
            raise ConfigError(f"{key}: column {col!r} is not a released column of the schema ({released}). "
                              f"Fix: name one of those columns. {_NOTHING_DONE}")
    if cfg.metrics:
        try:
            from evaluators import KNOWN_METRICS as known
        except ImportError:
            return  # no evaluators: the run says so before any work (pipeline.evaluators_module)
        bad = [m for m in cfg.metrics if m not in known]
        if bad:
            raise ConfigError(f"evaluation.metrics: unknown metric(s) {bad}. Fix: choose from {list(known)}. "
                              f"{_NOTHING_DONE}")


def check_thresholds(cfg: ReleaseConfig) -> None:
    """Every report threshold names a metric the configured evaluation computes (else the gate cannot pass)."""
    from .config import THRESHOLD_METRICS

    wanted = {k: m for k, (m, _) in THRESHOLD_METRICS.items() if getattr(cfg.thresholds, k) is not None}
    if not wanted:
        return
    if not cfg.evaluate:
        raise ConfigError(f"thresholds {sorted(wanted)} need the evaluation report, but evaluation.enabled is "
                          f"false. Fix: enable the evaluation or remove those thresholds. {_NOTHING_DONE}")
    try:
        from evaluators.suite import summary_metrics
    except ImportError:
        return  # no evaluators: the run says so before any work (pipeline.evaluators_module)
    computed = summary_metrics(cfg.metrics, cfg.target, cfg.holdout is not None)
    missing = {k: m for k, m in wanted.items() if m not in computed}
    if missing:
        shown = ", ".join(f"thresholds.{k} needs {m!r}" for k, m in sorted(missing.items()))
        raise ConfigError(f"{shown}, which the evaluation does not compute (evaluation.metrics "
                          f"{list(cfg.metrics) if cfg.metrics else 'all'}, target {cfg.target!r}, holdout "
                          f"{'given' if cfg.holdout else 'none'}). Fix: add the metric's group to evaluation.metrics "
                          f"(mia_auc and dcr_share also need a holdout, tstr_ratio a target) or remove the threshold. "
                          f"{_NOTHING_DONE}")


def check_holdout(holdout: Any, fraction: float | None = None) -> None:
    """The evaluators' minimum holdout size, checked after the tables are read and before the budget is reserved
    (the message does not say how many rows the holdout or the table has)."""
    try:
        from evaluators import MIN_HOLDOUT_ROWS
    except ImportError:
        return
    if holdout is not None and len(holdout) < MIN_HOLDOUT_ROWS:
        how = (f"raise data.holdout_fraction (at most 0.5) so that at least {MIN_HOLDOUT_ROWS} rows are held out, or "
               f"remove it: on a table too small to spare them the report runs without a holdout (no membership "
               f"attack, no DCR share; TSTR tests on rows the generator saw, and says so)" if fraction is not None else
               f"hold out at least {MIN_HOLDOUT_ROWS} real rows the generator never sees, or drop data.holdout")
        raise InputError(f"The holdout has fewer than {MIN_HOLDOUT_ROWS} rows, the evaluators' minimum (the privacy "
                         f"attacks split it). Fix: {how}. {_NOTHING_DONE}")


def check_outputs(path: str | Path) -> None:
    """``outputs.dir`` can be created and replaced: no file in the way, the nearest existing folder writable."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"outputs.dir {p} exists and is not a folder. Fix: choose another outputs.dir or move "
                         f"the file away. {_NOTHING_DONE}")
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir() or not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(f"outputs.dir {p} cannot be written: {anc} is not a writable folder. Fix: choose a "
                         f"writable outputs.dir or fix the permissions. {_NOTHING_DONE}")


def build_suite(cfg: ReleaseConfig, schema: Any, engine: str) -> dict | None:
    """The expectation suite documents, built now (public inputs) so that exporting cannot fail after the charge."""
    if not cfg.export_suite or schema is None:
        return None
    from .gate import suite_documents

    try:
        return suite_documents(schema, cfg.thresholds, engine=engine)
    except SynthgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - GX raises its own types (e.g. DataContextRequiredError)
        raise ConfigError(f"The expectation suite cannot be built with engine {engine!r} ({type(exc).__name__}). "
                          "Fix: run with --engine native (a suite without Great Expectations), set "
                          f"outputs.export_suite: false, or repair the GX installation. {_NOTHING_DONE}") from None


def before_charge(cfg: ReleaseConfig, engine: str = "auto", schema: Any = None) -> Checked:
    """Every check of a run that needs no private value (see the module docstring). ``schema``: the declared
    schema when already loaded (the demo); otherwise it is read from ``cfg.schema``."""
    from .gate.run import engine_runner
    from .inputs import load_schema

    check_epsilon(cfg.epsilon if cfg.epsilon is not None else cfg.params.get("epsilon"))
    engine_runner(engine)  # an unknown or missing engine is an InputError
    check_outputs(cfg.outputs_dir)
    if schema is None and cfg.schema is not None:
        schema = load_schema(cfg.schema)
    check_evaluation(cfg, schema)
    check_thresholds(cfg)
    check_split(cfg, schema)
    return Checked(build_suite(cfg, schema, engine))


def check_split(cfg: ReleaseConfig, schema: Any) -> None:
    """``data.holdout_fraction`` splits an in-memory table; ``data.group_by`` names declared columns."""
    from ..generators import registry

    if cfg.holdout_fraction is None:
        return
    if cfg.scheduler is not None or registry.entry(cfg.generator).data_kind != "table":
        raise ConfigError("data.holdout_fraction splits an in-memory table; this run is on a Dask cluster or of "
                          "images. Fix: split the data first (`synthgen split`) and name the holdout in "
                          "data.holdout.")
    names = set(getattr(schema, "names", ()) or ())
    missing = [c for c in cfg.group_by if c not in names]
    if missing:
        raise ConfigError(f"data.group_by names {missing}, which the schema does not declare. Fix: name declared "
                          "columns.")


def refusal(check: str, message: str) -> dict:
    """A gate document for a release refused from the config alone (before any data is read)."""
    from .gate import check_result

    r = check_result(check, False, message)
    return {"success": False, "statistics": {"evaluated_expectations": 1, "successful_expectations": 0,
                                             "unsuccessful_expectations": 1, "success_percent": 0.0},
            "results": [r], "failed_checks": [check], "meta": {"engine": "preflight", "refused_before_fit": True}}


def preflight(cfg: ReleaseConfig) -> dict | None:
    """Refuse a config that cannot pass before any work: no data read, no budget charged. None when fine."""
    from ..generators import registry
    from .gate.checks import audit_check

    entry = registry.entry(cfg.generator)
    t = cfg.thresholds
    if t.require_dp and entry.guarantee != "dp":
        return refusal("require_dp", f"generator {cfg.generator!r} has NO DP guarantee but the config requires "
                       "one. Fix: use a DP generator such as 'dp-copula'.")
    eps = cfg.epsilon if cfg.epsilon is not None else cfg.params.get("epsilon")
    if t.max_epsilon is not None and entry.guarantee == "dp" and eps is not None and eps > t.max_epsilon:
        return refusal("max_epsilon", f"privacy.epsilon {eps:g} exceeds thresholds.max_epsilon {t.max_epsilon:g}. "
                       "Fix: lower privacy.epsilon. Nothing was fitted and no budget was charged.")
    if t.require_audit is not None:  # a missing, stale or mismatched audit is refused before any budget is spent
        check = audit_check(t.require_audit)
        if not check["success"]:
            return refusal("audit_consistent", f"{check['result']['message']} Nothing was fitted and no budget "
                           "was charged.")
    return None
