"""The ``synthgen`` command line.

Human text goes to stderr, machine JSON to stdout (or ``--json-out FILE``). Exit codes: 0 pass, 1 checks failed
(or a privacy budget would be overspent), 2 usage or input error, 3 internal error, 130 interrupted (nothing
released). Heavy libraries (pandas, torch, scikit-learn, Great Expectations) are imported inside the commands so
that ``synthgen --help`` answers at once.
"""
from __future__ import annotations

import functools
import json
import math
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .exceptions import (
    BudgetExceededError,
    ConfigError,
    InputError,
    SynthgenError,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

NO_DP_BANNER = (
    "\n" + "!" * 78 + "\n"
    "!!  WARNING: NO DP GUARANTEE. Generator {name!r} is not differentially private.\n"
    "!!  Its output can reveal training rows; do not release it as private data.\n"
    + "!" * 78 + "\n"
)


class ChecksFailed(Exception):
    """Raised inside a command to exit 1 after the JSON result has been written."""


# --------------------------------------------------------------------------------------------- helpers
class Out:
    """Per-command output: human text to stderr (unless quiet), one JSON document to stdout or a file."""

    def __init__(self, json_out: str | None, quiet: bool, debug: bool):
        self.json_out, self.quiet, self.debug = json_out, quiet, debug
        self.warnings: list[str] = []
        self.emitted = False

    def say(self, text: str = "") -> None:
        if not self.quiet:
            click.echo(text, err=True)

    def warn(self, text: str, loud: bool = False) -> None:
        self.warnings.append(text.strip())
        click.echo(text if loud else f"warning: {text}", err=True)  # warnings are shown even with --quiet

    def emit(self, doc: dict) -> None:
        doc = dict(doc)
        if self.warnings:
            doc.setdefault("warnings", list(self.warnings))
        text = json.dumps(_jsonable(doc), indent=2, allow_nan=False)
        self.emitted = True
        if self.json_out:
            from .io import atomic_write_text

            atomic_write_text(self.json_out, text + "\n")
        else:
            click.echo(text)

    def progress(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, file=sys.stderr, leave=False,
                    disable=self.quiet or not sys.stderr.isatty())


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item) and type(obj).__module__ == "numpy":
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, BudgetExceededError):
        return EXIT_FAILED
    if isinstance(exc, SynthgenError):
        return EXIT_USAGE
    return EXIT_INTERNAL


def common(fn: Callable) -> Callable:
    """Add --json-out/--quiet/--debug, route warnings, and map exceptions to exit codes."""

    @click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
    @click.option("--quiet", "-q", is_flag=True, help="No progress bars or human summaries (warnings still shown).")
    @click.option("--json-out", type=click.Path(dir_okay=False), default=None,
                  help="Write the machine-readable JSON result to this file instead of stdout.")
    @functools.wraps(fn)
    def wrapper(*args: Any, json_out: str | None, quiet: bool, debug: bool, **kwargs: Any) -> None:
        ctx = click.get_current_context()
        quiet = quiet or bool((ctx.find_root().params or {}).get("quiet"))
        debug = debug or bool((ctx.find_root().params or {}).get("debug"))
        out = Out(json_out, quiet, debug)
        code = EXIT_OK
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                try:
                    fn(out, *args, **kwargs)
                finally:
                    for w in caught:
                        fname = str(w.filename)
                        if issubclass(w.category, UserWarning) and ("site-packages" not in fname
                                                                    or "/synthgen/" in fname):
                            out.warn(str(w.message))
        except ChecksFailed as exc:
            if str(exc):
                click.echo(f"FAILED: {exc}", err=True)
            code = EXIT_FAILED
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was released and no budget was charged for unfinished work.",
                       err=True)
            code = EXIT_INTERRUPTED
        except SynthgenError as exc:
            code = exit_code_for(exc)
            click.echo(f"error: {exc}", err=True)
            if debug:
                traceback.print_exc(file=sys.stderr)
            if not out.emitted:
                _emit_error(out, exc, code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - the internal-error path: a short message, no private values
            code = EXIT_INTERNAL
            click.echo(f"internal error ({type(exc).__name__}). This is a bug in synthgen or a dependency; "
                       "rerun with --debug for the traceback.", err=True)
            if debug:
                traceback.print_exc(file=sys.stderr)
            if not out.emitted:
                _emit_error(out, exc, code, message=f"internal error ({type(exc).__name__})")
        sys.exit(code)

    return wrapper


def _emit_error(out: Out, exc: BaseException, code: int, message: str | None = None) -> None:
    try:
        out.emit({"status": "error", "exit_code": code,
                  "error": {"type": type(exc).__name__, "message": message or str(exc)}})
    except Exception:  # noqa: BLE001 - never mask the original error
        pass


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as JSON when possible (numbers, booleans, null, lists), else strings."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--param {item!r} must look like key=value, e.g. --param epochs=10.")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def _need_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} does not exist; check the path.")
    return p


def _read_table(path: str | Path, what: str = "Data file"):
    from .io import read_table

    _need_file(path, what)
    return read_table(path)


def _load_schema(path: str | Path):
    from .schema import Schema

    _need_file(path, "Schema file")
    return Schema.load(path)


def _check_columns(df: Any, schema: Any, path: str | Path, release: bool = False) -> None:
    """A table whose columns are not the schema's (e.g. a Parquet file of another table) is an input error."""
    expected = set(schema.release_names if release else schema.names)
    present = set(map(str, df.columns))
    missing, extra = sorted(expected - present), sorted(present - expected)
    if missing and len(missing) == len(expected):
        raise InputError(f"{path} has none of the schema's columns (expected {sorted(expected)}). "
                         "Fix: pass the table the schema describes.")


def _instantiate(name: str, params: dict[str, Any]):
    from . import registry

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


def _privacy_dict(spend: Any) -> dict:
    return spend.to_dict() if hasattr(spend, "to_dict") else dict(spend)


def _no_dp_warning(out: Out, name: str) -> None:
    out.warn(NO_DP_BANNER.format(name=name), loud=True)


def _precheck_budget(ledger: Any, epsilon: float | None, delta: float | None) -> None:
    """Refuse an overspend before reading any data (the ledger re-checks when it reserves)."""
    if ledger is None or epsilon is None:
        return
    r_eps, r_delta = ledger.remaining()
    if epsilon > r_eps + 1e-12 or (delta is not None and delta > r_delta + 1e-15):
        raise BudgetExceededError(
            f"Ledger {ledger.path} cannot pay epsilon={epsilon:g}" + (f", delta={delta:g}" if delta else "")
            + f": remaining (epsilon={r_eps:.4g}, delta={r_delta:.3g}). Nothing was run. "
            "Fix: ask for less epsilon/delta or use a ledger with budget left.")


def fit_model(out: Out, *, data_path: str | Path, schema_path: str | Path | None, generator: str,
              params: dict[str, Any], epsilon: float | None, delta: float | None, ledger_path: str | Path | None,
              seed: int | None, allow_inferred: bool, on_violation: str):
    """Shared by ``fit``, ``run`` and ``demo``: returns (model, entry, n_rows)."""
    from . import registry

    entry = registry.entry(generator)
    params = dict(params)
    for key, val in (("epsilon", epsilon), ("delta", delta)):
        if val is None:
            continue
        if key in params:
            raise ConfigError(f"{key} was given twice (--{key} and --param {key}=...); give it once.")
        params[key] = val
    if entry.guarantee != "dp" and ("epsilon" in params or ledger_path):
        raise ConfigError(f"Generator {generator!r} has NO DP guarantee, so --epsilon/--delta/--ledger do not apply. "
                          "Fix: use a DP generator (e.g. 'dp-copula') or drop those options.")
    entry, model = _instantiate(generator, params)
    ledger = None
    if ledger_path is not None:
        from .privacy.ledger import PrivacyLedger

        ledger = PrivacyLedger(ledger_path)
        _precheck_budget(ledger, getattr(model, "epsilon", None), params.get("delta"))
    if entry.data_kind == "image":
        try:
            from . import imageio
        except ImportError:
            raise InputError(f"Generator {generator!r} works on images but synthgen.imageio is not available in "
                             "this installation. Fix: install the images extra: pip install 'synthgen[images]'.") \
                from None
        _need_file(data_path, "Image data")
        data = imageio.read_image_data(data_path)
        schema = _load_schema(schema_path) if schema_path else None
        n_rows = len(data) if hasattr(data, "__len__") else None
    else:
        if schema_path is None:
            raise ConfigError("Table generators need a declared schema: pass --schema schema.json "
                              "(draft one with `synthgen schema draft`).")
        schema = _load_schema(schema_path)
        data = _read_table(data_path)
        _check_columns(data, schema, data_path)
        n_rows = len(data)
    if entry.guarantee != "dp":
        _no_dp_warning(out, generator)
    kwargs: dict[str, Any] = {"ledger": ledger, "random_state": seed}
    if entry.data_kind != "image":
        kwargs.update(allow_inferred=allow_inferred, on_violation=on_violation)
    out.say(f"fitting {generator!r} on {n_rows} rows ...")
    t0 = time.perf_counter()
    model.fit(data, schema, **kwargs)
    out.say(f"fitted in {time.perf_counter() - t0:.1f} s; privacy: {model.privacy_spent_.summary()}")
    return model, entry, n_rows


# --------------------------------------------------------------------------------------------- CLI
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="synthgen")
@click.option("--quiet", "-q", is_flag=True, help="Quiet for every subcommand.")
@click.option("--debug", is_flag=True, help="Tracebacks for every subcommand.")
def main(quiet: bool, debug: bool) -> None:
    """synthgen: differentially private synthetic data, measured and gated before release.

    Exit codes: 0 pass, 1 checks failed or budget would be overspent, 2 usage/input error, 3 internal error.
    """


@main.command("generators")
@common
def generators_cmd(out: Out) -> None:
    """List registered generators with their privacy guarantee and availability."""
    from . import registry

    rows = []
    for e in registry.entries():
        rows.append({"name": e.name, "guarantee": "dp" if e.guarantee == "dp" else "NONE (no DP guarantee)",
                     "data_kind": e.data_kind, "available": registry.is_available(e.name), "extra": e.extra,
                     "summary": e.summary})
    for r in rows:
        avail = "available" if r["available"] else (f"needs synthgen[{r['extra']}]" if r["extra"] else "not installed")
        out.say(f"{r['name']:<16} {r['guarantee']:<24} {r['data_kind']:<6} {avail:<22} {r['summary']}")
    out.emit({"status": "ok", "generators": rows})


# ----- schema
@main.group("schema")
def schema_grp() -> None:
    """Draft or check declared table schemas."""


@schema_grp.command("draft")
@click.argument("data", type=click.Path())
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Schema JSON to write.")
@click.option("--epsilon", type=float, default=None, help="Spend this DP budget on bounds/categories.")
@click.option("--delta", type=float, default=None, help="DP delta for the draft (default: below 1/n).")
@click.option("--ledger", type=click.Path(), default=None, help="Ledger that pays for the draft.")
@click.option("--seed", type=int, default=None, help="Seed for the DP noise (default: fresh entropy).")
@click.option("--identifier", "identifiers", multiple=True, help="Column that is a direct identifier (repeatable).")
@common
def schema_draft_cmd(out: Out, data: str, out_path: str, epsilon: float | None, delta: float | None,
                     ledger: str | None, seed: int | None, identifiers: tuple[str, ...]) -> None:
    """Propose a schema from DATA (DP with --epsilon; otherwise marked 'inferred' for review)."""
    from .schema import Schema

    led = None
    if ledger is not None:
        if epsilon is None:
            raise ConfigError("--ledger only applies to a DP draft; add --epsilon.")
        from .privacy.ledger import PrivacyLedger

        led = PrivacyLedger(ledger)
        _precheck_budget(led, epsilon, delta)
    df = _read_table(data)
    schema = Schema.draft(df, epsilon=epsilon, delta=delta, ledger=led, random_state=seed,
                          identifiers=identifiers)
    schema.save(out_path)
    if epsilon is None:
        out.warn("the draft's bounds and categories were read off the data WITHOUT noise (source 'inferred'). "
                 "Review them and replace with public values, or redraft with --epsilon; DP generators refuse "
                 "it otherwise.")
    out.say(f"wrote {out_path} ({len(schema.fields)} fields)")
    out.emit({"status": "ok", "schema": out_path, "fields": len(schema.fields),
              "inferred_fields": list(schema.inferred_fields),
              "draft_spend": dict(schema.draft_spend) if schema.draft_spend else None})


@schema_grp.command("validate")
@click.argument("data", type=click.Path())
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--release", is_flag=True, help="DATA is a synthetic release (dropped identifiers must be absent).")
@common
def schema_validate_cmd(out: Out, data: str, schema_path: str, release: bool) -> None:
    """Check DATA against a schema; every violation is listed (exit 1 if any)."""
    schema = _load_schema(schema_path)
    df = _read_table(data)
    report = schema.validate(df, release=release)
    for v in report.violations:
        out.say(f"  - {v}")
    out.say("schema check passed" if report.ok else f"{len(report.violations)} violation(s)")
    out.emit({"status": "ok" if report.ok else "failed", **report.to_dict()})
    if not report.ok:
        raise ChecksFailed("")


# ----- fit / sample
@main.command("fit")
@click.argument("data", type=click.Path())
@click.option("--schema", "schema_path", type=click.Path(), default=None, help="Declared schema JSON.")
@click.option("--generator", required=True, help="Registry name, e.g. dp-copula (see `synthgen generators`).")
@click.option("--epsilon", type=float, default=None, help="DP epsilon for the fit.")
@click.option("--delta", type=float, default=None, help="DP delta (default: well below 1/n).")
@click.option("--ledger", type=click.Path(), default=None, help="Privacy ledger that pays for the fit.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--seed", type=int, default=None, help="Random seed (default: fresh entropy).")
@click.option("--param", "params", multiple=True, help="Generator option key=value (repeatable).")
@click.option("--allow-inferred", is_flag=True, help="Let a DP generator use a schema with inferred fields.")
@click.option("--on-violation", type=click.Choice(["raise", "clip"]), default="raise", show_default=True)
@common
def fit_cmd(out: Out, data: str, schema_path: str | None, generator: str, epsilon: float | None,
            delta: float | None, ledger: str | None, out_dir: str, seed: int | None, params: tuple[str, ...],
            allow_inferred: bool, on_violation: str) -> None:
    """Fit a generator on DATA and save the model directory (written atomically)."""
    model, entry, n = fit_model(out, data_path=data, schema_path=schema_path, generator=generator,
                                params=parse_params(params), epsilon=epsilon, delta=delta, ledger_path=ledger,
                                seed=seed, allow_inferred=allow_inferred, on_violation=on_violation)
    model.save(out_dir)
    out.say(f"wrote model to {out_dir}")
    out.emit({"status": "ok", "model": out_dir, "generator": generator, "rows": n,
              "privacy": _privacy_dict(model.privacy_spent_), "dp": entry.guarantee == "dp"})


@main.command("sample")
@click.argument("model_dir", type=click.Path())
@click.option("--rows", required=True, type=click.IntRange(min=1), help="Number of rows (or images) to draw.")
@click.option("--out", "out_path", required=True, type=click.Path(),
              help="Output .csv/.parquet (.npz/folder for images).")
@click.option("--seed", type=int, default=None, help="Random seed (default: fresh entropy).")
@common
def sample_cmd(out: Out, model_dir: str, rows: int, out_path: str, seed: int | None) -> None:
    """Draw synthetic rows from a saved model (CSV or Parquet by extension)."""
    from . import registry
    from .persistence import load_model, read_manifest

    _need_file(model_dir, "Model directory")
    manifest = read_manifest(model_dir)
    entry = registry.entry(manifest["generator"])
    if entry.data_kind == "table" and Path(out_path).suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"Unsupported output format for {out_path}; use .csv or .parquet.")
    model = load_model(model_dir)
    if entry.guarantee != "dp":
        _no_dp_warning(out, entry.name)
    synth = model.sample(rows, random_state=seed)
    if entry.data_kind == "image":
        try:
            from . import imageio
        except ImportError:
            raise InputError("Writing images needs synthgen.imageio; install the images extra.") from None
        imageio.write_image_data(synth, out_path)
    else:
        from .io import write_table

        write_table(synth, out_path)
    out.say(f"wrote {rows} rows to {out_path}; privacy: {model.privacy_spent_.summary()}")
    out.emit({"status": "ok", "out": out_path, "rows": rows, "generator": entry.name,
              "privacy": _privacy_dict(model.privacy_spent_), "dp": entry.guarantee == "dp"})


# ----- evaluate
def _evaluators():
    try:
        import evaluators
        evaluators.evaluate  # noqa: B018 - check the API exists
    except (ImportError, AttributeError):
        raise InputError("The evaluators package is not available in this installation, so no report can be "
                         "built. Fix: install synthgen with its evaluators (pip install -e .) or skip evaluation.") \
            from None
    return evaluators


def evaluate_release(*, real: Any, holdout: Any, synthetic: Any, schema: Any, target: str | None,
                     privacy: dict | None, quasi_identifiers: tuple[str, ...] = (), sensitive: str | None = None,
                     metrics: Any = None, seed: int = 0, quiet: bool = True):
    ev = _evaluators()
    return ev.evaluate(real, synthetic, holdout=holdout, schema=schema, target=target, privacy=privacy,
                       quasi_identifiers=tuple(quasi_identifiers), sensitive=sensitive, metrics=metrics,
                       random_state=seed, quiet=quiet)


def _headline(summary: dict) -> str:
    keys = ("verdict", "fidelity_score", "tstr_ratio", "detection_auc", "mia_auc", "dcr_share", "exact_match_rate")
    parts = []
    for k in keys:
        v = summary.get(k)
        if isinstance(v, dict):  # e.g. verdict = {"status": ..., "reasons": [...]}
            v = v.get("status")
        if v is None:
            continue
        parts.append(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts)


@main.command("evaluate")
@click.option("--real", required=True, type=click.Path(), help="Training table.")
@click.option("--holdout", required=True, type=click.Path(), help="Real rows not used for training.")
@click.option("--synthetic", required=True, type=click.Path(), help="Synthetic table.")
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--target", default=None, help="Target column for train-on-synthetic/test-on-real.")
@click.option("--model", "model_dir", type=click.Path(), default=None, help="Model directory (privacy spend).")
@click.option("--quasi-identifier", "quasi_identifiers", multiple=True, help="Quasi-identifier column (repeatable).")
@click.option("--metrics", default=None,
              help="Comma-separated metric groups/parts to compute, e.g. fidelity,utility,privacy (default: all).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="report.json to write.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, help="report.html to write.")
@common
def evaluate_cmd(out: Out, real: str, holdout: str, synthetic: str, schema_path: str, target: str | None,
                 model_dir: str | None, quasi_identifiers: tuple[str, ...], metrics: str | None, seed: int,
                 out_path: str, html_path: str | None) -> None:
    """Measure fidelity, utility and privacy risk of a synthetic table; write the report."""
    _evaluators()
    schema = _load_schema(schema_path)
    tables = {name: _read_table(p, f"{name} table") for name, p in
              (("real", real), ("holdout", holdout), ("synthetic", synthetic))}
    privacy = None
    if model_dir is not None:
        from .persistence import read_manifest

        privacy = read_manifest(model_dir)["privacy"]
    report = evaluate_release(real=tables["real"], holdout=tables["holdout"], synthetic=tables["synthetic"],
                              schema=schema, target=target, privacy=privacy, quasi_identifiers=quasi_identifiers,
                              metrics=[m.strip() for m in metrics.split(",") if m.strip()] if metrics else None,
                              seed=seed, quiet=out.quiet or not sys.stderr.isatty())
    report.save_json(out_path)
    if html_path:
        report.save_html(html_path)
    summary = dict(report.summary)
    out.say(f"report: {_headline(summary)}")
    out.emit({"status": "ok", "report": out_path, "html": html_path, "summary": summary})


# ----- validate (the gate)
def _load_report_summary(path: str | Path) -> dict:
    p = _need_file(path, "Report file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"Report {p} is not valid JSON; regenerate it with `synthgen evaluate`.") from None
    if not isinstance(doc, dict):
        raise InputError(f"Report {p} is not a synthgen report (expected a JSON object).")
    summary = doc.get("summary", doc)
    if not isinstance(summary, dict):
        raise InputError(f"Report {p} has no 'summary' object; regenerate it with `synthgen evaluate`.")
    return summary


def print_gate(out: Out, doc: dict) -> None:
    for r in doc["results"]:
        if not r["success"]:
            cfg = r["expectation_config"]
            name = cfg["meta"].get("check", cfg["type"])
            res = r.get("result") or {}
            detail = res.get("message") or r["exception_info"].get("exception_message") or ""
            if not detail and "unexpected_count" in res:
                detail = f"{res['unexpected_count']} value(s) fail"
            if not detail and "observed_value" in res:
                detail = f"observed {res['observed_value']}"
            out.say(f"  FAILED {name}: {detail}")
    st = doc["statistics"]
    out.say(f"gate {'PASSED' if doc['success'] else 'FAILED'}: {st['successful_expectations']}/"
            f"{st['evaluated_expectations']} checks passed ({doc['meta']['engine']})")


@main.command("validate")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--synthetic", default=None, type=click.Path(), help="Synthetic release (.csv/.parquet).")
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--report", "report_path", type=click.Path(), default=None, help="report.json from `synthgen evaluate`.")
@click.option("--config", "config_path", type=click.Path(), default=None, help="release.yaml with thresholds.")
@click.option("--model", "model_dir", type=click.Path(), default=None, help="Model directory (its privacy spend).")
@click.option("--ledger", type=click.Path(), default=None, help="Ledger to check (default: the config's).")
@click.option("--real", "real_path", type=click.Path(), default=None,
              help="Training table: count copied rows directly (only a share is reported).")
@click.option("--export-suite", "suite_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the GX ExpectationSuite JSON here.")
@click.option("--engine", type=click.Choice(["auto", "gx", "native"]), default="auto", show_default=True)
@common
def validate_cmd(out: Out, files: tuple[str, ...], synthetic: str | None, schema_path: str,
                 report_path: str | None, config_path: str | None, model_dir: str | None, ledger: str | None,
                 real_path: str | None, suite_path: str | None, engine: str) -> None:
    """The release gate: schema expectations (Great Expectations) + report thresholds + privacy checks.

    The release is --synthetic FILE; extra FILES (e.g. from a pre-commit hook) are each validated the same way.
    """
    from .gate import export_suite, gate_json, run_gate
    from .release import Thresholds, load_release_config

    paths = ([synthetic] if synthetic else []) + list(files)
    if not paths:
        raise ConfigError("Nothing to validate: pass --synthetic FILE (or file names as arguments).")
    cfg = load_release_config(config_path) if config_path else None
    thresholds = cfg.thresholds if cfg else Thresholds()
    schema = _load_schema(schema_path)
    summary = _load_report_summary(report_path) if report_path else None
    privacy = None
    if model_dir is not None:
        from .persistence import read_manifest

        _need_file(model_dir, "Model directory")
        privacy = read_manifest(model_dir)["privacy"]
    real = _read_table(real_path, "Training table") if real_path else None
    ledger_path = ledger or (str(cfg.ledger) if cfg and cfg.ledger else None)
    budget = (cfg.epsilon, cfg.delta) if cfg else (None, None)
    frames = []
    for path in paths:
        df = _read_table(path, "Synthetic file")
        _check_columns(df, schema, path, release=True)
        frames.append((path, df))
    docs = []
    for path, df in frames:
        doc = gate_json(run_gate(df, schema, report_summary=summary, thresholds=thresholds, privacy=privacy,
                                 budget=budget, ledger=ledger_path, real=real, engine=engine))
        if len(frames) > 1:
            out.say(f"{path}:")
        print_gate(out, doc)
        docs.append(dict(doc, file=str(path)))
    if suite_path:
        written = [str(p) for p in export_suite(schema, suite_path, thresholds)]
        for doc in docs:
            doc["meta"]["exported_suites"] = written
    if len(docs) == 1:
        doc = docs[0]
    else:
        failed = sorted({f"{d['file']}: {c}" for d in docs for c in d["failed_checks"]})
        doc = {"success": all(d["success"] for d in docs), "failed_checks": failed, "releases": docs}
    out.emit(doc)
    if not doc["success"]:
        raise ChecksFailed(f"checks failed: {', '.join(doc['failed_checks'])}")


# ----- run
def _refusal(check: str, message: str) -> dict:
    from .gate import _check

    r = _check(check, False, message)
    return {"success": False, "statistics": {"evaluated_expectations": 1, "successful_expectations": 0,
                                             "unsuccessful_expectations": 1, "success_percent": 0.0},
            "results": [r], "failed_checks": [check], "meta": {"engine": "preflight", "refused_before_fit": True}}


@main.command("run")
@click.argument("config_path", type=click.Path())
@click.option("--engine", type=click.Choice(["auto", "gx", "native"]), default="auto", show_default=True)
@common
def run_cmd(out: Out, config_path: str, engine: str) -> None:
    """Run a release: fit -> sample -> evaluate -> validate -> write outputs (one atomic folder)."""
    from . import registry
    from .release import load_release_config

    cfg = load_release_config(config_path)
    entry = registry.entry(cfg.generator)
    t = cfg.thresholds
    # Preflight: refuse before any work (no data read, no budget charged).
    if t.require_dp and entry.guarantee != "dp":
        doc = _refusal("require_dp", f"generator {cfg.generator!r} has NO DP guarantee but the config requires "
                       "one. Fix: use a DP generator such as 'dp-copula'.")
        print_gate(out, doc)
        out.emit({"status": "failed", "gate": doc})
        raise ChecksFailed("require_dp")
    eps = cfg.epsilon if cfg.epsilon is not None else cfg.params.get("epsilon")
    if t.max_epsilon is not None and entry.guarantee == "dp" and eps is not None and eps > t.max_epsilon:
        doc = _refusal("max_epsilon", f"privacy.epsilon {eps:g} exceeds thresholds.max_epsilon {t.max_epsilon:g}. "
                       "Fix: lower privacy.epsilon. Nothing was fitted and no budget was charged.")
        print_gate(out, doc)
        out.emit({"status": "failed", "gate": doc})
        raise ChecksFailed("max_epsilon")
    for label, p in (("Training table", cfg.train), ("Schema file", cfg.schema),
                     ("Holdout table", cfg.holdout)):
        if p is not None:
            _need_file(p, label)
    if cfg.evaluate:
        _evaluators()
    steps = 5 if cfg.evaluate else 4
    bar = out.progress(steps, "release")
    try:
        model, entry, n_train = fit_model(out, data_path=cfg.train, schema_path=cfg.schema,
                                          generator=cfg.generator, params=dict(cfg.params),
                                          epsilon=cfg.epsilon if "epsilon" not in cfg.params else None,
                                          delta=cfg.delta if "delta" not in cfg.params else None,
                                          ledger_path=cfg.ledger, seed=cfg.seed,
                                          allow_inferred=cfg.allow_inferred, on_violation=cfg.on_violation)
        bar.update(1)
        rows = cfg.rows or n_train
        synth = model.sample(rows, random_state=None if cfg.seed is None else cfg.seed + 1)
        bar.update(1)
        privacy = _privacy_dict(model.privacy_spent_)
        schema = model.schema_
        report = None
        summary = None
        if cfg.evaluate:
            real = _read_table(cfg.train)
            holdout = _read_table(cfg.holdout) if cfg.holdout else None
            report = evaluate_release(real=real, holdout=holdout, synthetic=synth, schema=schema, target=cfg.target,
                                      privacy=privacy, quasi_identifiers=cfg.quasi_identifiers,
                                      sensitive=cfg.sensitive, metrics=cfg.metrics, seed=cfg.seed or 0,
                                      quiet=out.quiet or not sys.stderr.isatty())
            summary = dict(report.summary)
            bar.update(1)
        gate = _gate_release(synth, schema, cfg, summary, privacy, engine)
        bar.update(1)
        _write_outputs(cfg, model, synth, report, gate, schema)
        bar.update(1)
    finally:
        bar.close()
    if summary:
        out.say(f"report: {_headline(summary)}")
    print_gate(out, gate)
    out.say(f"outputs in {cfg.outputs_dir}; privacy: {model.privacy_spent_.summary()}")
    out.emit({"status": "ok" if gate["success"] else "failed", "outputs": str(cfg.outputs_dir),
              "generator": cfg.generator, "rows": rows, "privacy": privacy, "dp": entry.guarantee == "dp",
              "summary": summary, "gate": gate})
    if not gate["success"]:
        raise ChecksFailed(f"checks failed: {', '.join(gate['failed_checks'])}")


def _gate_release(synth: Any, schema: Any, cfg: Any, summary: dict | None, privacy: dict, engine: str) -> dict:
    from .gate import gate_json, run_gate

    return gate_json(run_gate(synth, schema, report_summary=summary, thresholds=cfg.thresholds, privacy=privacy,
                              budget=(cfg.epsilon, cfg.delta), ledger=cfg.ledger, engine=engine))


def _write_outputs(cfg: Any, model: Any, synth: Any, report: Any, gate: dict, schema: Any) -> None:
    from .gate import export_suite
    from .io import atomic_directory, atomic_write_json, write_table

    with atomic_directory(cfg.outputs_dir) as tmp:
        write_table(synth, tmp / cfg.synthetic_filename)
        model.save(tmp / "model")
        if report is not None:
            report.save_json(tmp / "report.json")
            if cfg.html:
                report.save_html(tmp / "report.html")
        atomic_write_json(tmp / "gate.json", gate)
        if cfg.export_suite:
            export_suite(schema, tmp / "suite.json", cfg.thresholds)


# ----- ledger
@main.group("ledger")
def ledger_grp() -> None:
    """Create and inspect privacy ledgers (one per dataset)."""


@ledger_grp.command("init")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--epsilon", type=float, required=True, help="Total epsilon budget for the dataset.")
@click.option("--delta", type=float, required=True, help="Total delta budget for the dataset.")
@click.option("--dataset", default=None, help="Dataset name (default: the file name).")
@common
def ledger_init_cmd(out: Out, path: str, epsilon: float, delta: float, dataset: str | None) -> None:
    """Create a ledger file with a total (epsilon, delta) budget."""
    from .privacy.ledger import PrivacyLedger

    led = PrivacyLedger.create(path, epsilon=epsilon, delta=delta, dataset=dataset)
    out.say(f"created ledger {path}: budget epsilon={epsilon:g}, delta={delta:g}")
    out.emit({"status": "ok", **led.to_dict()})


@ledger_grp.command("show")
@click.argument("path", type=click.Path())
@common
def ledger_show_cmd(out: Out, path: str) -> None:
    """Show a ledger's budget, spend and every charge."""
    from .privacy.ledger import PrivacyLedger

    info = PrivacyLedger(path).to_dict()
    b, s, r = info["budget"], info["spent"], info["remaining"]
    out.say(f"ledger {path} (dataset {info['dataset']!r}, neighbouring: {info['neighbouring']})")
    out.say(f"  budget    epsilon={b['epsilon']:.4g} delta={b['delta']:.3g}")
    out.say(f"  spent     epsilon={s['epsilon']:.4g} delta={s['delta']:.3g}")
    out.say(f"  remaining epsilon={r['epsilon']:.4g} delta={r['delta']:.3g}")
    for c in info["charges"]:
        out.say(f"  {c['time']}  {c['status']:<9} eps={c['epsilon']:.4g} delta={c['delta']:.3g} "
                f"{c['generator']}: {c['purpose']}")
    out.emit({"status": "ok", **info})


# ----- demo
@main.command("demo")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False))
@click.option("--epsilon", type=float, default=1.0, show_default=True)
@click.option("--delta", type=float, default=1e-6, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@common
def demo_cmd(out: Out, out_dir: str, epsilon: float, delta: float, seed: int) -> None:
    """The main job: a DP synthetic copy of a real public table (AER/CPS1988) with a report, in OUT."""
    from . import datasets, registry
    from .io import write_table
    from .privacy.ledger import PrivacyLedger

    generator = "dp-copula"
    if not registry.is_available(generator):
        raise InputError(f"The demo needs the {generator!r} generator, which is not available in this "
                         "installation. Fix: reinstall synthgen (make install).")
    bar = out.progress(5, "demo")
    out_path = Path(out_dir)
    try:
        df, schema = datasets.load("cps1988")
        train, holdout = datasets.train_holdout(df, seed=seed)
        bar.update(1)
        out.say(f"CPS1988: {len(df)} real rows -> {len(train)} train / {len(holdout)} holdout")
        out_path.mkdir(parents=True, exist_ok=True)
        # The demo's ledger covers exactly this run (the table is public); a rerun starts a fresh demo ledger.
        ledger_path = out_path / "ledger.json"
        ledger_path.unlink(missing_ok=True)
        ledger = PrivacyLedger.create(ledger_path, epsilon=epsilon, delta=delta, dataset="cps1988 (demo)")
        _, model = _instantiate(generator, {"epsilon": epsilon, "delta": delta})
        out.say(f"fitting {generator} (epsilon={epsilon:g}, delta={delta:g}) ...")
        t0 = time.perf_counter()
        model.fit(train, schema, ledger=ledger, random_state=seed)
        fit_s = time.perf_counter() - t0
        bar.update(1)
        synth = model.sample(len(train), random_state=seed + 1)
        bar.update(1)
        write_table(synth, out_path / "synthetic.csv")
        model.save(out_path / "model")
        privacy = _privacy_dict(model.privacy_spent_)
        summary = None
        note = None
        try:
            _evaluators()
            report = evaluate_release(real=train, holdout=holdout, synthetic=synth, schema=schema,
                                      target="parttime", privacy=privacy, seed=seed,
                                      quiet=out.quiet or not sys.stderr.isatty())
            report.save_json(out_path / "report.json")
            report.save_html(out_path / "report.html")
            summary = dict(report.summary)
        except InputError as exc:
            note = f"report skipped: {exc}"
            out.warn(note)
        bar.update(1)
        gate = None
        if summary is not None:
            from .gate import gate_json, run_gate
            from .release import Thresholds

            gate = gate_json(run_gate(synth, schema, report_summary=summary, privacy=privacy,
                                      thresholds=Thresholds(require_dp=True, max_epsilon=epsilon)))
            from .io import atomic_write_json

            atomic_write_json(out_path / "gate.json", gate)
        bar.update(1)
    finally:
        bar.close()
    led = ledger.to_dict()
    out.say("")
    out.say(f"synthetic table : {out_path / 'synthetic.csv'} ({len(synth)} rows, fit {fit_s:.1f} s)")
    out.say(f"model           : {out_path / 'model'}")
    if summary is not None:
        out.say(f"report          : {out_path / 'report.json'}, {out_path / 'report.html'}")
        out.say(f"headline        : {_headline(summary)}")
        out.say(f"release gate    : {'PASSED' if gate['success'] else 'FAILED ' + ', '.join(gate['failed_checks'])}")
    out.say(f"privacy         : {model.privacy_spent_.summary()}")
    out.say(f"ledger          : {ledger_path}: spent epsilon={led['spent']['epsilon']:.4g} of "
            f"{led['budget']['epsilon']:.4g}")
    out.emit({"status": "ok", "out": str(out_path), "rows": len(synth), "generator": generator,
              "privacy": privacy, "dp": True, "fit_seconds": fit_s, "summary": summary, "note": note,
              "gate": {"success": gate["success"], "failed_checks": gate["failed_checks"]} if gate else None,
              "ledger": {"path": str(ledger_path), "spent": led["spent"], "budget": led["budget"]}})


if __name__ == "__main__":  # pragma: no cover
    main()
