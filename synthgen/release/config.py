"""Release configs (``release.yaml``): one unattended release, validated by ``schemas/release.schema.json``.

A config names the private data, the declared schema, the generator and its parameters, the privacy budget (and
the ledger that pays for it), how many rows to release, the evaluation and the thresholds the release gate
enforces. Unknown keys and out-of-range thresholds are :class:`~synthgen.exceptions.ConfigError` naming the key and
the fix. Relative paths are resolved from the folder holding the config file.

``scheduler: local`` (an embedded Dask cluster) or ``scheduler: tcp://host:8786`` runs the release on Dask
(:mod:`synthgen.release.scale_inputs`); ``synthgen run --scheduler`` overrides it. Default: none (in memory).

``thresholds.require_audit`` asks the gate for a recent empirical privacy audit (``synthgen audit``) of the very
generator configuration being released (check ``audit_consistent``, :mod:`synthgen.release.gate.checks`)::

    thresholds:
      require_audit:
        file: audits/dp-copula.json    # the JSON of `synthgen audit` (or `synthgen validate --audit FILE`)
        max_age_days: 30               # default 30
        accept: [consistent]           # default; add inconclusive to accept a run that could not reach the claim
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from ..exceptions import ConfigError, InputError
from ..resources import load_json_schema
from .scale_inputs import check_scheduler

THRESHOLD_KEYS = ("min_fidelity", "max_mia_auc", "min_tstr_ratio", "max_detection_auc", "max_exact_match_rate",
                  "max_dcr_share", "require_dp", "max_epsilon", "require_audit")
AUDIT_VERDICTS = ("consistent", "inconclusive")  # the verdicts a config may accept ("violation" never passes)

# Report-summary metric compared by each numeric threshold, and the direction that passes.
THRESHOLD_METRICS: dict[str, tuple[str, str]] = {
    "min_fidelity": ("fidelity_score", "min"),
    "max_mia_auc": ("mia_auc", "max"),
    "min_tstr_ratio": ("tstr_ratio", "min"),
    "max_detection_auc": ("detection_auc", "max"),
    "max_exact_match_rate": ("exact_match_rate", "max"),
    "max_dcr_share": ("dcr_share", "max"),
}


@dataclass(frozen=True)
class AuditRequirement:
    """A recent audit of the released generator configuration, with an accepted verdict.

    ``expected`` is not a config key: it is the configuration the release config asks for (``generator``,
    ``params`` with the privacy section's epsilon/delta merged in), filled by :func:`release_config_from_dict`; the
    gate compares the audit with it when no saved model (whose manifest says the same) is given."""

    file: Path | None = None
    max_age_days: float = 30.0
    accept: tuple[str, ...] = ("consistent",)
    expected: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", None if self.file is None else Path(self.file))
        object.__setattr__(self, "accept", tuple(self.accept))
        bad = [v for v in self.accept if v not in AUDIT_VERDICTS]
        if bad or not self.accept:
            raise ConfigError(f"thresholds.require_audit.accept: {bad or 'empty'} cannot be accepted. Fix: use "
                              f"one or both of {list(AUDIT_VERDICTS)} (a violation never passes).")
        age = self.max_age_days
        if isinstance(age, bool) or not isinstance(age, (int, float)) or not age > 0:
            raise ConfigError(f"thresholds.require_audit.max_age_days must be a number > 0; got {age!r}.")

    @classmethod
    def from_value(cls, value: Any) -> "AuditRequirement | None":
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError("thresholds.require_audit must be a mapping (file, max_age_days, accept). "
                              "Fix: see the example in synthgen/release/config.py.")
        return cls(**dict(value))

    def to_dict(self) -> dict:
        return {"file": None if self.file is None else str(self.file), "max_age_days": float(self.max_age_days),
                "accept": list(self.accept)}


@dataclass(frozen=True)
class Thresholds:
    """What a release must meet. ``None`` means "not checked" (except the copy check: :mod:`synthgen.release.gate`)."""

    min_fidelity: float | None = None
    max_mia_auc: float | None = None
    min_tstr_ratio: float | None = None
    max_detection_auc: float | None = None
    max_exact_match_rate: float | None = None
    max_dcr_share: float | None = None
    require_dp: bool = False
    max_epsilon: float | None = None
    require_audit: AuditRequirement | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "require_audit", AuditRequirement.from_value(self.require_audit))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Thresholds":
        d = dict(d or {})
        _validate_part(d, "thresholds")
        return cls(**d)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in THRESHOLD_KEYS if getattr(self, k) is not None}
        if self.require_audit is not None:
            d["require_audit"] = self.require_audit.to_dict()
        return d


@dataclass(frozen=True)
class ReleaseConfig:
    path: Path | None
    train: Path
    schema: Path
    generator: str
    outputs_dir: Path
    holdout: Path | None = None
    holdout_fraction: float | None = None  # without a holdout file: a seeded split of train (synthgen.splits)
    group_by: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    allow_inferred: bool = False
    on_violation: str = "raise"
    epsilon: float | None = None
    delta: float | None = None
    ledger: Path | None = None
    rows: int | None = None
    seed: int | None = None
    evaluate: bool = True
    target: str | None = None
    quasi_identifiers: tuple[str, ...] = ()
    sensitive: str | None = None
    metrics: tuple[str, ...] | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    output_format: str = "csv"
    html: bool = True
    export_suite: bool = True
    name: str | None = None
    recommended: Mapping[str, Any] | None = None  # `generator: {name: auto}`: what was picked and why
    scheduler: str | None = None  # Dask: 'local' or tcp://host:8786 (synthgen.release.scale_inputs); None: in memory

    @property
    def synthetic_filename(self) -> str:
        return "synthetic.parquet" if self.output_format == "parquet" else "synthetic.csv"


def _sub_schema(part: str) -> dict:
    root = load_json_schema("release")
    return root["properties"][part] if part else root


def _error_message(err: Any, prefix: str) -> str:
    """Turn one jsonschema error into 'where: what. Fix: how.' (values of private data never appear here)."""
    where = ".".join(str(p) for p in (([prefix] if prefix else []) + list(err.absolute_path))) or "(top level)"
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        parts = []
        for key in extra:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            parts.append(f"unknown key {key!r}{hint}")
        return (f"{where}: {'; '.join(parts)}. Fix: use only the keys {', '.join(allowed)}.")
    if v == "required":
        return f"{where}: {err.message}. Fix: add the missing key."
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo = err.schema.get("minimum", err.schema.get("exclusiveMinimum"))
        hi = err.schema.get("maximum", err.schema.get("exclusiveMaximum"))
        rng = f"between {lo} and {hi}" if hi is not None else (
            f"greater than {lo}" if "exclusiveMinimum" in err.schema else f"at least {lo}")
        return f"{where}: {err.instance!r} is out of range. Fix: use a value {rng}."
    if v == "pattern":  # the description's first sentence says what is allowed
        allowed = err.schema.get("description", "a value allowed by schemas/release.schema.json").split(". ")[0]
        return f"{where}: {err.instance!r} is not allowed. Fix: use {allowed.rstrip('.')}."
    if v in ("type", "enum", "const"):
        return f"{where}: {err.message}. Fix: see schemas/release.schema.json for the allowed values."
    return f"{where}: {err.message}."


def _validate_part(doc: Any, part: str = "") -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_sub_schema(part))
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        msgs = [_error_message(e, part) for e in errors[:10]]
        what = f"'{part}' section" if part else "release config"
        raise ConfigError(f"Invalid {what}:\n  - " + "\n  - ".join(msgs))


def load_release_config(path: str | os.PathLike) -> ReleaseConfig:
    """Read and validate ``release.yaml`` (YAML or JSON); raise :class:`ConfigError` naming each bad key."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(f"Release config {path} does not exist; check the path "
                         "(see examples/release.yaml for a template).")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"Release config {path} is not valid YAML{where}. Fix the syntax "
                          "(indentation, colons, quotes).") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"Release config {path} must be a mapping of keys (data, schema, generator, ...); "
                          "see examples/release.yaml.")
    return release_config_from_dict(doc, base_dir=path.parent, path=path)


def release_config_from_dict(doc: Mapping[str, Any], base_dir: str | os.PathLike = ".",
                             path: Path | None = None) -> ReleaseConfig:
    _validate_part(dict(doc))
    base = Path(base_dir)

    def p(value: str | None) -> Path | None:
        if value is None:
            return None
        q = Path(os.path.expanduser(value))
        return q if q.is_absolute() else Path(os.path.normpath(base / q))

    priv = doc.get("privacy") or {}
    _check_privacy_request(priv, dict(doc["generator"].get("params") or {}))
    _check_split(doc["data"])
    doc = _resolve_auto(doc, p(doc["schema"]))
    gen = doc["generator"]
    ev = doc.get("evaluation") or {}
    out = doc["outputs"]
    thresholds = _with_expected_audit(Thresholds(**(doc.get("thresholds") or {})), doc, p)
    return ReleaseConfig(
        path=path, train=p(doc["data"]["train"]), holdout=p(doc["data"].get("holdout")), schema=p(doc["schema"]),
        holdout_fraction=doc["data"].get("holdout_fraction"), group_by=tuple(doc["data"].get("group_by") or ()),
        generator=gen["name"], params=dict(gen.get("params") or {}),
        allow_inferred=bool(gen.get("allow_inferred", False)), on_violation=gen.get("on_violation", "raise"),
        epsilon=priv.get("epsilon"), delta=priv.get("delta"), ledger=p(priv.get("ledger")),
        rows=doc.get("rows"), seed=doc.get("seed"), evaluate=bool(ev.get("enabled", True)),
        target=ev.get("target"), quasi_identifiers=tuple(ev.get("quasi_identifiers") or ()),
        sensitive=ev.get("sensitive"), metrics=tuple(ev["metrics"]) if ev.get("metrics") else None,
        thresholds=thresholds, outputs_dir=p(out["dir"]), output_format=out.get("format", "csv"),
        html=bool(out.get("html", True)), export_suite=bool(out.get("export_suite", True)), name=doc.get("name"),
        recommended=doc.get("recommended"), scheduler=check_scheduler(doc.get("scheduler")),
    )


def _resolve_auto(doc: Mapping[str, Any], schema_path: Path | None) -> Mapping[str, Any]:
    """``generator: {name: auto}``: the registered generator :func:`~synthgen.generators.recommend.recommend` picks
    from the DECLARED schema (no data read, nothing spent), its parameters under the config's own ``params``. The
    resolved name is what the run, the model card and the audit requirement see; the reasons are kept."""
    gen = dict(doc["generator"])
    if gen["name"] != "auto":
        return doc
    from ..generators.recommend import recommend
    from .inputs import load_schema

    ev = doc.get("evaluation") or {}
    eps = (doc.get("privacy") or {}).get("epsilon", (gen.get("params") or {}).get("epsilon"))
    rec = recommend(load_schema(schema_path), epsilon=eps, target=ev.get("target"))
    user = dict(gen.get("params") or {})
    gen["params"] = {**{k: v for k, v in rec.params.items() if k not in ("epsilon", "delta")}, **user}
    gen["name"] = rec.generator
    out = dict(doc)
    out["generator"] = gen
    out["recommended"] = {"from": "auto", "generator": rec.generator, "reasons": list(rec.reasons)}
    return out


def _check_split(data: Mapping[str, Any]) -> None:
    if "holdout" in data and "holdout_fraction" in data:
        raise ConfigError("data.holdout and data.holdout_fraction are both set. Fix: keep one: a holdout file, or "
                          "the share of data.train to hold out.")
    if "group_by" in data and "holdout_fraction" not in data:
        raise ConfigError("data.group_by is set without data.holdout_fraction. Fix: add data.holdout_fraction "
                          "(e.g. 0.2), or remove data.group_by.")


def _check_privacy_request(priv: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """A bad epsilon/delta (``.inf``, delta >= 0.5, ...) is an InvalidPrivacyParameterError at load, never a later
    "cannot pay" (YAML's ``.inf`` passes the JSON schema's "number")."""
    from ..privacy.spend import check_request

    for where in (priv, params):
        eps, delta = where.get("epsilon"), where.get("delta")
        if isinstance(eps, (int, float)) or isinstance(delta, (int, float)):
            check_request(eps if isinstance(eps, (int, float)) else None,
                          delta if isinstance(delta, (int, float)) else None)


def _with_expected_audit(t: Thresholds, doc: Mapping[str, Any], resolve: Any) -> Thresholds:
    """The audit requirement with its file resolved from the config's folder and the configuration it must match."""
    req = t.require_audit
    if req is None:
        return t
    params = dict(doc["generator"].get("params") or {})
    for key in ("epsilon", "delta"):
        value = (doc.get("privacy") or {}).get(key)
        if value is not None:
            params.setdefault(key, value)
    expected = {"generator": doc["generator"]["name"], "params": params, "source": "release config"}
    file = resolve(str(req.file)) if req.file is not None else None
    return replace(t, require_audit=replace(req, file=file, expected=expected))
