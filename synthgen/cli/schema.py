"""``synthgen schema draft`` and ``synthgen schema validate``.

Privacy: a draft with ``--epsilon`` buys the schema with DP budget (charged to ``--ledger``); its noise comes from
OS entropy, never from a seed. Without ``--epsilon`` the draft is read off the data without noise and marked
``inferred``. Validation messages name columns and fixes, not values.
"""
from __future__ import annotations

import click

from ..exceptions import ConfigError
from ..release import pipeline
from .output import ChecksFailed, Out, common
from .params import check_privacy_request


@click.group("schema")
def schema_grp() -> None:
    """Draft or check declared table schemas."""


@schema_grp.command("draft")
@click.argument("data", type=click.Path())
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Schema JSON to write.")
@click.option("--epsilon", type=float, default=None, help="Spend this DP budget on kinds, bounds and categories.")
@click.option("--delta", type=float, default=None,
              help="DP delta for the draft (default: from declared row bounds, else a fixed 1e-9).")
@click.option("--ledger", type=click.Path(), default=None, help="Ledger that pays for the draft.")
@click.option("--seed", type=int, default=None,
              help="Ignored: a draft draws only privacy noise, and privacy noise is never seeded (OS entropy).")
@click.option("--identifier", "identifiers", multiple=True, help="Column that is a direct identifier (repeatable).")
@click.option("--kind", "kinds", multiple=True, metavar="COL=KIND",
              help="Declare a column's kind (numeric, integer, categorical, boolean, datetime, identifier) instead "
                   "of buying it with the draft's budget (repeatable).")
@click.option("--rows-max", type=int, default=None,
              help="Public upper bound on the table's row count (sets the default delta; never read off the data).")
@click.option("--partial", "partial_path", type=click.Path(dir_okay=False), default=None,
              help="Schema JSON of columns declared from public sources: kept as declared (they cost nothing); "
                   "only the other columns are drafted.")
@common
def schema_draft_cmd(out: Out, data: str, out_path: str, epsilon: float | None, delta: float | None,
                     ledger: str | None, seed: int | None, identifiers: tuple[str, ...], kinds: tuple[str, ...],
                     rows_max: int | None, partial_path: str | None) -> None:
    """Propose a schema from DATA (DP with --epsilon; otherwise marked 'inferred' for review)."""
    from ..schema import RowBounds, Schema

    if ledger is not None and epsilon is None:
        raise ConfigError("--ledger only applies to a DP draft; add --epsilon.")
    if seed is not None:
        out.warn("--seed is ignored: privacy noise is never drawn from a seed.")
    if epsilon is not None or delta is not None:
        check_privacy_request(out, dp=epsilon is not None, epsilon=epsilon, delta=delta, ledger=ledger, what="draft")
    led = pipeline.open_ledger(ledger, epsilon, delta)
    partial = pipeline.load_schema(partial_path) if partial_path else None
    rows = RowBounds(max=rows_max, source="public:--rows-max") if rows_max else (partial.rows if partial else None)
    draft_kwargs = {"epsilon": epsilon, "delta": delta, "ledger": led, "identifiers": identifiers,
                    "kinds": _parse_kinds(kinds) or None, "partial": partial, "rows": rows}
    schema = Schema.draft(pipeline.read_table(data), **draft_kwargs)
    schema.save(out_path)
    if epsilon is None:
        out.warn("the draft's bounds and categories were read off the data WITHOUT noise (source 'inferred'). "
                 "Review them and replace with public values, or redraft with --epsilon; DP generators refuse "
                 "it otherwise.")
    out.say(f"wrote {out_path} ({len(schema.fields)} fields)")
    out.emit({"status": "ok", "schema": out_path, "fields": len(schema.fields),
              "inferred_fields": list(schema.inferred_fields),
              "draft_spend": dict(schema.draft_spend) if schema.draft_spend else None,
              "dropped": list((schema.draft_spend or {}).get("details", {}).get("dropped", []))})


def _parse_kinds(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        col, sep, kind = item.partition("=")
        if not sep or not col or not kind:
            raise ConfigError(f"--kind takes COL=KIND; got {item!r}. Fix: e.g. --kind age=integer.")
        out[col] = kind
    return out


@schema_grp.command("validate")
@click.argument("data", type=click.Path())
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--release", is_flag=True, help="DATA is a synthetic release (dropped identifiers must be absent).")
@common
def schema_validate_cmd(out: Out, data: str, schema_path: str, release: bool) -> None:
    """Check DATA against a schema; every violation is listed (exit 1 if any)."""
    schema = pipeline.load_schema(schema_path)
    report = schema.validate(pipeline.read_table(data), release=release)
    for v in report.violations:
        out.say(f"  - {v}")
    out.say("schema check passed" if report.ok else f"{len(report.violations)} violation(s)")
    out.emit({"status": "ok" if report.ok else "failed", **report.to_dict()})
    if not report.ok:
        raise ChecksFailed("")
