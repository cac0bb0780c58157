"""What every command shares: human text to stderr, one JSON document to stdout (or ``--json-out FILE``), exit codes.

Exit codes: 0 pass, 1 checks failed (or a privacy budget would be overspent), 2 usage or input error, 3 internal
error, 130 interrupted (nothing released). Errors are emitted as ``{"status": "error", ...}`` JSON; an internal
error names only the exception type, never its message (which may hold private values). Progress bars are drawn
only on a terminal. Nothing here computes anything from data: commands hand it documents that are already safe to
print (see :mod:`synthgen.release.pipeline` for what may be printed about a DP fit).
"""
from __future__ import annotations

import functools
import json
import sys
import traceback
import warnings
from typing import Any, Callable

import click

from ..exceptions import BudgetExceededError, ReleaseStepError, SynthgenError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

NO_DP_BANNER = (
    "\n" + "!" * 78 + "\n"
    "!!  WARNING: NO DP GUARANTEE. Generator {name!r} is not differentially private.\n"
    "!!  Its output can reveal training rows; do not release it as private data.\n"
    + "!" * 78 + "\n"
)
INTERRUPTED = ("interrupted: nothing was released. A fit that had already read the data is charged to its ledger "
               "(the partial work may depend on the data); one interrupted before that is cancelled.")


def status(text: str) -> None:
    """One status line on stderr that does not break a progress bar: while tqdm bars are drawn (ours or the
    evaluators'), it goes through ``tqdm.write``, which clears the bars, prints the line and redraws them."""
    tqdm_mod = sys.modules.get("tqdm")
    if tqdm_mod is not None and getattr(tqdm_mod.tqdm, "_instances", None):
        tqdm_mod.tqdm.write(text, file=sys.stderr)
    else:
        click.echo(text, err=True)


class ChecksFailed(Exception):
    """Raised inside a command to exit 1 after the JSON result has been written."""


class Out:
    """Per-command output: human text to stderr (unless quiet), one JSON document to stdout or a file."""

    def __init__(self, json_out: str | None, quiet: bool, debug: bool):
        self.json_out, self.quiet, self.debug = json_out, quiet, debug
        self.warnings: list[str] = []
        self.emitted = False

    def say(self, text: str = "") -> None:
        if not self.quiet:
            status(text)

    def warn(self, text: str, loud: bool = False) -> None:
        self.warnings.append(text.strip())
        status(text if loud else f"warning: {text}")  # warnings are shown even with --quiet

    def no_dp_warning(self, name: str) -> None:
        self.warn(NO_DP_BANNER.format(name=name), loud=True)

    def emit(self, doc: dict) -> None:
        from .._json import jsonable

        doc = dict(doc)
        if self.warnings:
            doc.setdefault("warnings", list(self.warnings))
        text = json.dumps(jsonable(doc), indent=2, allow_nan=False)
        self.emitted = True
        if self.json_out:
            from ..io import atomic_write_text

            atomic_write_text(self.json_out, text + "\n")
        else:
            click.echo(text)

    @property
    def bars(self) -> bool:
        """Whether progress bars (and the evaluators' own) may be drawn: not quiet and stderr is a terminal."""
        return not self.quiet and sys.stderr.isatty()

    def progress(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, disable=not self.bars)


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, BudgetExceededError):
        return EXIT_FAILED
    if isinstance(exc, ReleaseStepError):  # a step after the fit failed: a bug (3) or bad input (2)
        return EXIT_INTERNAL if exc.internal else EXIT_USAGE
    if isinstance(exc, SynthgenError):
        return EXIT_USAGE
    return EXIT_INTERNAL


def emit_error(out: Out, exc: BaseException, code: int, message: str | None = None) -> None:
    try:
        error = {"type": type(exc).__name__, "message": message or str(exc)}
        if isinstance(exc, ReleaseStepError):  # where the run stopped and where its fitted model was kept
            error.update(step=exc.step, model_dir=exc.model_dir)
        out.emit({"status": "error", "exit_code": code, "error": error})
    except Exception:  # noqa: BLE001 - never mask the original error
        pass


def _route_warnings(out: Out, caught: list) -> None:
    for w in caught:
        fname = str(w.filename)
        if issubclass(w.category, UserWarning) and ("site-packages" not in fname or "/synthgen/" in fname):
            out.warn(str(w.message))


def _run(out: Out, fn: Callable, args: tuple, kwargs: dict) -> int:
    """Call one command; map its outcome to an exit code (the JSON for errors is emitted here)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            try:
                fn(out, *args, **kwargs)
            finally:
                _route_warnings(out, caught)
    except ChecksFailed as exc:
        if str(exc):
            click.echo(f"FAILED: {exc}", err=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        return EXIT_INTERRUPTED
    except SynthgenError as exc:
        code = exit_code_for(exc)
        click.echo(f"error: {exc}", err=True)
        if out.debug:
            traceback.print_exc(file=sys.stderr)
        if not out.emitted:
            emit_error(out, exc, code)
        return code
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except Exception as exc:  # noqa: BLE001 - the internal-error path: a short message, no private values
        click.echo(f"internal error ({type(exc).__name__}). This is a bug in synthgen or a dependency; "
                   "rerun with --debug for the traceback.", err=True)
        if out.debug:
            traceback.print_exc(file=sys.stderr)
        if not out.emitted:
            emit_error(out, exc, EXIT_INTERNAL, message=f"internal error ({type(exc).__name__})")
        return EXIT_INTERNAL
    return EXIT_OK


def common(fn: Callable) -> Callable:
    """Add --json-out/--quiet/--debug, route warnings, and map exceptions to exit codes."""

    @click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
    @click.option("--quiet", "-q", is_flag=True, help="No progress bars or human summaries (warnings still shown).")
    @click.option("--json-out", type=click.Path(dir_okay=False), default=None,
                  help="Write the machine-readable JSON result to this file instead of stdout.")
    @functools.wraps(fn)
    def wrapper(*args: Any, json_out: str | None, quiet: bool, debug: bool, **kwargs: Any) -> None:
        root = click.get_current_context().find_root().params or {}
        out = Out(json_out, quiet or bool(root.get("quiet")), debug or bool(root.get("debug")))
        sys.exit(_run(out, fn, args, kwargs))

    return wrapper


def print_gate(out: Out, doc: dict) -> None:
    """One line per failed check, then the tally."""
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


def headline(summary: dict) -> str:
    """The report's key numbers on one line."""
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
