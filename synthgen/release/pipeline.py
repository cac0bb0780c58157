"""The release pipeline as plain functions: prepare -> read -> fit -> sample -> evaluate -> validate -> write.

``synthgen fit``, ``run`` and ``demo`` are thin commands over these; :func:`run_release` is the whole pipeline and
returns a frozen :class:`ReleaseResult`.

Privacy argument:

* Everything that can be refused is refused before any data is read: parameters, the DP requirement and the
  epsilon ceiling of the config (:func:`preflight`), the ledger's remaining budget (:func:`prepare`).
* The training table is read once (:func:`read_inputs`) and given to the fit and to the owner's evaluation; with
  ``scheduler`` it is a lazy Dask frame (:mod:`.scale_inputs`: the fit's passes, the owner's seeded sample).
* For a DP fit nothing that depends on the exact training row count n leaves this module: no log line, no JSON
  field, no error, no default. The default release size is ``round(model.rows_estimate_)``, the generator's DP
  estimate of n (post-processing of its noisy statistics), unless the config or a flag gives ``rows``.
* Seeds: the config's ``seed`` seeds the fit's initialisation (``random_state``) and the sampling (``seed + 1``)
  only. Privacy noise is drawn from OS entropy inside the generators; nothing here passes a seed to noise.
* The report and the gate result are statistics of the private data without noise: they are written to the
  owner's evaluation folder, marked, never into the release bundle (see :mod:`synthgen.release.bundle`).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..exceptions import ConfigError, InputError, ReleaseStepError, SynthgenError
from . import bundle
from .config import ReleaseConfig
from .preflight import check_epsilon, check_holdout, preflight, refusal
from .inputs import Inputs, check_columns, load_schema, need_file, read_inputs, read_manifest, read_table, split_holdout

__all__ = ["Inputs", "Prepared", "Fitted", "ReleaseResult", "check_columns", "evaluate", "evaluators_module", "fit",
           "gate", "instantiate", "load_schema", "need_file", "open_ledger", "precheck_budget", "preflight",
           "prepare", "read_inputs", "read_manifest", "read_table", "refusal", "release_rows", "run_release",
           "write_outputs", "write_synthetic"]

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def gate_module() -> Any:
    """:mod:`synthgen.release.gate`, imported on first use (it is heavier than the CLI's start-up allows)."""
    from . import gate

    return gate


# ----------------------------------------------------------------------------------------------- fit
def instantiate(name: str, params: Mapping[str, Any]) -> tuple[Any, Any]:
    """(registry entry, unfitted generator); unknown or rejected parameters are a ConfigError naming them."""
    from ..generators import registry

    entry = registry.entry(name)
    cls = registry.get(name)
    valid = cls._param_names() if hasattr(cls, "_param_names") else []
    unknown = sorted(k for k in params if k not in valid)
    if unknown:
        raise ConfigError(f"Generator {name!r} has no parameter(s) {unknown}. Valid parameters: "
                          f"{', '.join(valid) or '(none)'}. Fix the --param name.")
    try:
        return entry, cls(**params)
    except SynthgenError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Generator {name!r} rejected its parameters: {exc}. Fix the --param values.") from None


def precheck_budget(ledger: Any, epsilon: float | None, delta: float | None) -> None:
    """Refuse an overspend before reading any data (the ledger re-checks when it reserves)."""
    if ledger is None or epsilon is None:
        return
    ledger.check_affordable(epsilon, delta)  # a bad request is InvalidPrivacyParameterError, overspend BudgetExceeded


def open_ledger(path: str | Path | None, epsilon: float | None = None, delta: float | None = None) -> Any:
    if path is None:
        return None
    from ..privacy.ledger import PrivacyLedger

    ledger = PrivacyLedger(path)
    precheck_budget(ledger, epsilon, delta)
    return ledger


@dataclass(frozen=True)
class Prepared:
    """A generator ready to fit and the ledger that pays for it; nothing private has been read."""

    entry: Any
    model: Any
    ledger: Any = None

    @property
    def dp(self) -> bool:
        return self.entry.guarantee == "dp"


def prepare(generator: str, params: Mapping[str, Any], *, epsilon: float | None = None,
            delta: float | None = None, ledger: str | Path | None = None) -> Prepared:
    """Check the request and build the generator; refuse before any data is read."""
    from ..generators import registry

    entry = registry.entry(generator)
    params = dict(params)
    for key, val in (("epsilon", epsilon), ("delta", delta)):
        if val is None:
            continue
        if key in params:
            raise ConfigError(f"{key} was given twice (--{key} and --param {key}=...); give it once.")
        params[key] = val
    check_epsilon(params.get("epsilon"))  # an epsilon no accountant can compute with: refused before any ledger
    if entry.guarantee != "dp" and ("epsilon" in params or ledger):
        raise ConfigError(f"Generator {generator!r} has NO DP guarantee, so --epsilon/--delta/--ledger do not apply. "
                          "Fix: use a DP generator (e.g. 'dp-copula') or drop those options.")
    entry, model = instantiate(generator, params)
    return Prepared(entry, model, open_ledger(ledger, getattr(model, "epsilon", None), params.get("delta")))


@dataclass(frozen=True)
class Fitted:
    model: Any
    entry: Any
    seconds: float

    @property
    def dp(self) -> bool:
        """Whether this fit carries a DP guarantee (a DP generator on an inferred schema does not)."""
        return bool(self.model.privacy_spent_.is_dp)

    @property
    def privacy(self) -> dict:
        return self.model.privacy_spent_.to_dict()


def fit(prep: Prepared, inputs: Inputs, *, seed: int | None = None, allow_inferred: bool = False,
        on_violation: str = "raise", say: Say = _quiet) -> Fitted:
    """Fit ``prep.model`` on the inputs; ``seed`` seeds initialisation only (never privacy noise).

    The log line names the generator, not the number of rows (private for a DP fit)."""
    kwargs: dict[str, Any] = {"ledger": prep.ledger, "random_state": seed}
    if prep.entry.data_kind != "image":
        kwargs.update(allow_inferred=allow_inferred, on_violation=on_violation)
    say(f"fitting {prep.entry.name!r} ...")
    t0 = time.perf_counter()
    prep.model.fit(inputs.train, inputs.schema, **kwargs)
    seconds = time.perf_counter() - t0
    say(f"fitted in {seconds:.1f} s; privacy: {prep.model.privacy_spent_.summary()}")
    return Fitted(prep.model, prep.entry, seconds)


def release_rows(model: Any, rows: int | None) -> tuple[int, str]:
    """(rows to release, where the number came from): the given ``rows``, else ``round(model.rows_estimate_)``.

    ``rows_estimate_`` is a DP estimate for DP generators (the exact count only for generators without a
    guarantee), so the default never reveals the exact training row count of a DP fit."""
    if rows is not None:
        return int(rows), "config"
    estimate = getattr(model, "rows_estimate_", None)
    if estimate is None:
        raise ConfigError(f"Generator {model.registry_name!r} gives no estimate of the training row count. "
                          "Fix: say how many rows to release (rows: in the config, --rows on the command line).")
    return max(1, int(round(float(estimate)))), "dp_estimate" if model.privacy_spent_.is_dp else "training_rows"


def write_synthetic(synthetic: Any, path: str | Path, data_kind: str = "table") -> None:
    """A table as CSV/Parquet (by extension), images as .npz or a folder."""
    if data_kind == "image":
        try:
            from ..io import images as imageio
        except ImportError:
            raise InputError("Writing images needs synthgen.io.images; install the images extra.") from None
        imageio.write_image_data(synthetic, path)
    else:
        from ..io import write_table

        write_table(synthetic, path)


# ----------------------------------------------------------------------------------------------- evaluate, gate
def evaluators_module() -> Any:
    try:
        import evaluators

        evaluators.evaluate  # noqa: B018 - check the API exists
    except (ImportError, AttributeError):
        raise InputError("The evaluators package is not available in this installation, so no report can be "
                         "built. Fix: install synthgen with its evaluators (pip install -e .) or skip evaluation.") \
            from None
    return evaluators


def evaluate(inputs: Inputs, synthetic: Any, *, target: str | None, privacy: dict | None,
             quasi_identifiers: tuple[str, ...] = (), sensitive: str | None = None, metrics: Any = None,
             seed: int = 0, bars: bool = False, audit: str | Path | None = None) -> Any:
    """The owner's evaluation report (statistics of the private data without noise: never for release).
    ``audit``: an audit JSON file (``synthgen audit --out``) shown in the report's audit section."""
    audit_doc = json.loads(Path(audit).read_text(encoding="utf-8")) if audit is not None else None
    return evaluators_module().evaluate(
        inputs.train, synthetic, holdout=inputs.holdout, schema=inputs.schema, target=target, privacy=privacy,
        quasi_identifiers=tuple(quasi_identifiers), sensitive=sensitive, metrics=metrics, random_state=seed,
        quiet=not bars, audit=audit_doc)


def _audit_file(cfg: ReleaseConfig) -> Path | None:
    req = cfg.thresholds.require_audit
    return req.file if req is not None else None


def gate(synthetic: Any, cfg: ReleaseConfig, fitted: Fitted, summary: dict | None, engine: str = "auto") -> dict:
    g = gate_module()
    return g.gate_json(g.run_gate(synthetic, fitted.model.schema_, report_summary=summary,
                                  thresholds=cfg.thresholds, privacy=fitted.privacy, budget=(cfg.epsilon, cfg.delta),
                                  ledger=cfg.ledger, engine=engine))


# ----------------------------------------------------------------------------------------------- the whole run
@dataclass(frozen=True)
class ReleaseResult:
    """What a run produced. ``release_dir`` is the bundle; ``evaluation_dir`` holds the owner's evaluation."""

    out_dir: Path
    generator: str
    dp: bool
    rows: int
    rows_source: str
    privacy: dict
    card: dict
    gate: dict
    summary: dict | None = None
    fit_seconds: float = 0.0
    files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def released(self) -> bool:
        """Whether release/ was written: only when the gate passed."""
        return self.success

    @property
    def release_dir(self) -> Path:
        return self.out_dir / bundle.RELEASE_DIR

    @property
    def evaluation_dir(self) -> Path:
        return self.out_dir / bundle.EVALUATION_DIR

    @property
    def success(self) -> bool:
        return bool(self.gate["success"])

    def to_json(self) -> dict:
        """The command's JSON: the release part holds DP outputs only; the owner's part is marked private."""
        return {"status": "ok" if self.success else "failed", "outputs": str(self.out_dir),
                "generator": self.generator, "dp": self.dp, "privacy": self.privacy,
                "release": {"written": self.released, "dir": str(self.release_dir) if self.released else None,
                            "rows": self.rows, "rows_source": self.rows_source,
                            "model_card": str(self.release_dir / bundle.MODEL_CARD) if self.released else None,
                            "ledger_entry": self.card.get("ledger_entry")},
                "owner_evaluation": {**bundle.owner_mark(), "dir": str(self.evaluation_dir),
                                     "model_dir": str(self.out_dir / bundle.MODEL_DIR),
                                     "summary": self.summary,
                                     "gate": {"success": self.success, "failed_checks": self.gate["failed_checks"]}},
                "files": list(self.files)}


write_outputs = bundle.write_outputs


@dataclass
class _Progress:
    """How far a run got after its fit (what a failure keeps: the model, and the report when there is one)."""

    step: str = "sample"
    report: Any = None
    gate: dict | None = None


def _say_clipped(summary: dict | None, say: Say) -> None:
    """The owner's line on how much of the real table lay outside the declared bounds (a private statistic)."""
    clipped = (summary or {}).get("clipped") or {}
    if clipped:
        worst = sorted(clipped.items(), key=lambda kv: -kv[1])[:3]
        say("owner's evaluation (private): real rows outside the declared bounds/categories, clipped or dropped by "
            "the fit: " + ", ".join(f"{k} {v:.1%}" for k, v in worst) + (" ..." if len(clipped) > 3 else ""))


def _after_fit(cfg: ReleaseConfig, fitted: Fitted, inputs: Inputs, engine: str, bars: bool, step: Callable,
               at: _Progress, suite: dict | None, say: Say = _quiet) -> tuple:
    rows = release_rows(fitted.model, cfg.rows)
    synthetic = fitted.model.sample(rows[0], random_state=None if cfg.seed is None else cfg.seed + 1)
    step()
    summary = None
    if cfg.evaluate:
        at.step = "evaluate"
        kwargs = dict(target=cfg.target, privacy=fitted.privacy, quasi_identifiers=cfg.quasi_identifiers,
                      sensitive=cfg.sensitive, metrics=cfg.metrics, seed=cfg.seed or 0, bars=bars,
                      audit=_audit_file(cfg))
        if cfg.scheduler is None:
            at.report = evaluate(inputs, synthetic, **kwargs)
        else:  # the whole table's merged-statistics fidelity + the full evaluation on a seeded sample
            from .scale_inputs import scaled_report

            at.report = scaled_report(evaluate, inputs, synthetic, say=say, **kwargs)
        summary = dict(at.report.summary)
        _say_clipped(summary, say)
    step()
    at.step = "validate"
    at.gate = gate(synthetic, cfg, fitted, summary, engine)
    if at.report is not None and hasattr(at.report, "with_release"):  # the report's header names the release
        at.report = at.report.with_release(dataset=cfg.name or str(cfg.train), generator=cfg.generator,
                                           params=fitted.model.get_params(), ledger=cfg.ledger, gate=at.gate)
    step()
    at.step = "write"
    card, files = bundle.write_outputs(cfg, fitted.model, synthetic, rows, at.report, at.gate, suite)
    return rows, summary, card, files


def _kept(cfg: ReleaseConfig, fitted: Fitted, at: _Progress, exc: BaseException) -> ReleaseStepError:
    """Save the fitted model (its budget is spent) after a later step failed; the error to raise."""
    from .._json import jsonable

    internal = not isinstance(exc, SynthgenError)
    why = (f"internal error ({type(exc).__name__}): a bug in synthgen or a dependency; rerun with --debug for "
           "the traceback" if internal else str(exc).rstrip(". "))
    entry = (getattr(fitted.model, "ledger_entry_", None) or {}).get("id")
    paid = f"ledger entry {entry} is committed" if entry else "the fit's privacy spend counts"
    error = {"status": "failed", "step": at.step, "internal": internal,
             "error": {"type": type(exc).__name__, "message": why}, "ledger_entry": entry}
    out = Path(cfg.outputs_dir)
    try:
        bundle.write_failed(out, fitted.model, jsonable(error), at.report, at.gate, cfg.html)
        kept, model_dir = f"The fitted model is saved in {out / bundle.MODEL_DIR}", str(out / bundle.MODEL_DIR)
    except Exception as save_exc:  # noqa: BLE001 - say that the model is lost too, do not mask the first error
        kept, model_dir = f"The fitted model could not be saved either ({type(save_exc).__name__})", None
    return ReleaseStepError(
        f"The release failed at step {at.step!r} after the fit: {why}. The budget was spent ({paid}: the fit read "
        f"the data). {kept}; no release was written. Fix the cause, then sample from the saved model "
        "(`synthgen sample MODEL_DIR`) and evaluate/validate it, instead of refitting.",
        step=at.step, model_dir=model_dir, internal=internal)


def run_release(cfg: ReleaseConfig, *, engine: str = "auto", inputs: Inputs | None = None, say: Say = _quiet,
                step: Callable[[], None] = lambda: None, bars: bool = False) -> ReleaseResult:
    """fit -> sample -> evaluate -> validate -> write; call :func:`preflight` first. ``inputs``: tables already in
    memory (the demo); otherwise read once from the config's paths. ``step`` is called after each of 5 steps.

    Every check that needs no private value runs before the budget is reserved (:mod:`.preflight`). A step after
    the fit that fails keeps the fitted model (:class:`~synthgen.exceptions.ReleaseStepError` says where); a
    release is written only when the gate passed. With ``cfg.scheduler`` the training table is a lazy Dask frame
    fitted on that cluster and the owner's evaluation samples it (:mod:`synthgen.release.scale_inputs`)."""
    from .preflight import before_charge
    from .scale_inputs import cluster_for, partitioned_inputs

    checked = before_charge(cfg, engine, inputs.schema if inputs is not None else None)
    prep = prepare(cfg.generator, cfg.params, epsilon=cfg.epsilon if "epsilon" not in cfg.params else None,
                   delta=cfg.delta if "delta" not in cfg.params else None, ledger=cfg.ledger)
    if cfg.evaluate:
        evaluators_module()
    if inputs is None:
        inputs = (read_inputs(cfg.train, cfg.schema, cfg.holdout, data_kind=prep.entry.data_kind)
                  if cfg.scheduler is None else partitioned_inputs(cfg, prep))
    if cfg.holdout_fraction is not None and inputs.holdout is None:
        inputs = split_holdout(inputs, cfg.holdout_fraction, cfg.seed or 0, cfg.group_by)
    if cfg.evaluate:
        check_holdout(inputs.holdout, cfg.holdout_fraction)  # before the fit reserves the budget
    with cluster_for(cfg.scheduler):  # an unreachable scheduler fails here, before the fit charges
        fitted = fit(prep, inputs, seed=cfg.seed, allow_inferred=cfg.allow_inferred, on_violation=cfg.on_violation,
                     say=say)
        step()
        return _finish(cfg, fitted, inputs, checked, engine, say, step, bars)


def _finish(cfg: ReleaseConfig, fitted: Fitted, inputs: Inputs, checked: Any, engine: str, say: Say,
            step: Callable[[], None], bars: bool) -> ReleaseResult:
    at = _Progress()
    try:
        rows, summary, card, files = _after_fit(cfg, fitted, inputs, engine, bars, step, at, checked.suite, say)
    except Exception as exc:
        raise _kept(cfg, fitted, at, exc) from exc
    except BaseException as exc:  # interrupted: keep the model, then stop as asked
        _kept(cfg, fitted, at, exc)
        raise
    step()
    return ReleaseResult(Path(cfg.outputs_dir), cfg.generator, fitted.dp, rows[0], rows[1], fitted.privacy, card,
                         at.gate, summary, fitted.seconds, files)
