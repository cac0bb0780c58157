"""``synthgen generators``, ``fit`` and ``sample``.

Privacy: ``fit`` prints the generator, the spend and the DP row estimate, never the exact number of training rows
(private for a DP fit). ``--seed`` seeds initialisation and sampling only; privacy noise is never seeded.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..exceptions import ConfigError, InputError
from ..release import pipeline
from .output import Out, common
from .params import check_privacy_request, parse_params
from .recommend import resolve_auto
from .scale import cluster, partitioned_inputs, sample_parts, scheduler_option

SEED_HELP = "Seed for initialisation and sampling only, never for privacy noise (default: fresh entropy)."


@click.command("generators")
@click.option("--params", "params_of", metavar="NAME", default=None,
              help="Show the --param keys of generator NAME (types, defaults, docs) instead of the list.")
@common
def generators_cmd(out: Out, params_of: str | None) -> None:
    """List registered generators with their privacy guarantee and availability."""
    from ..generators import registry

    if params_of is not None:
        _show_params(out, params_of)
        return
    rows = [{"name": e.name, "guarantee": "dp" if e.guarantee == "dp" else "NONE (no DP guarantee)",
             "data_kind": e.data_kind, "available": registry.is_available(e.name), "extra": e.extra,
             "summary": e.summary} for e in registry.entries()]
    for r in rows:
        avail = "available" if r["available"] else (f"needs synthgen[{r['extra']}]" if r["extra"] else "not installed")
        out.say(f"{r['name']:<16} {r['guarantee']:<24} {r['data_kind']:<6} {avail:<22} {r['summary']}")
    out.emit({"status": "ok", "generators": rows})


def _show_params(out: Out, name: str) -> None:
    from ..generators import registry
    from .generator_params import describe_params, first_sentence

    entry = registry.entry(name)
    rows = describe_params(registry.get(name))
    out.say(f"{name}: --param KEY=VALUE keys (values are JSON: numbers, true/false, null, lists; else text)")
    for r in rows:
        default = "required" if r["required"] else f"default {json.dumps(r['default'])}"
        out.say(f"  {r['name']:<20} {r['type'] or '-':<18} {default:<22} {first_sentence(r['doc'])}")
    out.emit({"status": "ok", "generator": name, "guarantee": entry.guarantee, "params": rows})


@click.command("fit")
@click.argument("data", type=click.Path())
@click.option("--schema", "schema_path", type=click.Path(), default=None, help="Declared schema JSON.")
@click.option("--generator", required=True,
              help="Registry name, e.g. dp-copula (see `synthgen generators`), or 'auto' (`synthgen recommend`).")
@click.option("--epsilon", type=float, default=None, help="DP epsilon for the fit.")
@click.option("--delta", type=float, default=None,
              help="DP delta (default: from the schema's declared maximum row count, else a fixed 1e-9).")
@click.option("--ledger", type=click.Path(), default=None, help="Privacy ledger that pays for the fit.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--seed", type=int, default=None, help=SEED_HELP)
@click.option("--param", "params", multiple=True, help="Generator option key=value (repeatable).")
@click.option("--allow-inferred", is_flag=True,
              help="Let a DP generator use a schema with inferred fields (the fit then has NO DP guarantee).")
@click.option("--on-violation", type=click.Choice(["raise", "clip"]), default="raise", show_default=True)
@scheduler_option
@common
def fit_cmd(out: Out, data: str, schema_path: str | None, generator: str, epsilon: float | None,
            delta: float | None, ledger: str | None, out_dir: str, seed: int | None, params: tuple[str, ...],
            allow_inferred: bool, on_violation: str, scheduler: str | None) -> None:
    """Fit a generator on DATA and save the model directory (written atomically)."""
    from ..generators import registry

    generator, given = resolve_auto(out, generator, schema_path, epsilon, parse_params(params))
    check_privacy_request(out, dp=registry.entry(generator).guarantee == "dp", ledger=ledger,
                          epsilon=epsilon if epsilon is not None else given.get("epsilon"),
                          delta=delta if delta is not None else given.get("delta"))
    prep = pipeline.prepare(generator, given, epsilon=epsilon, delta=delta, ledger=ledger)
    if not prep.dp:
        out.no_dp_warning(generator)
    inputs = (partitioned_inputs(prep, data, schema_path) if scheduler is not None
              else pipeline.read_inputs(data, schema_path, data_kind=prep.entry.data_kind))
    with cluster(scheduler):
        fitted = pipeline.fit(prep, inputs, seed=seed, allow_inferred=allow_inferred, on_violation=on_violation,
                              say=out.say)
    if prep.dp and not fitted.dp:
        out.no_dp_warning(generator)
    fitted.model.save(out_dir)
    out.say(f"wrote model to {out_dir}")
    out.emit({"status": "ok", "model": out_dir, "generator": generator, "privacy": fitted.privacy, "dp": fitted.dp,
              "rows_estimate": getattr(fitted.model, "rows_estimate_", None),
              "ledger_entry": getattr(fitted.model, "ledger_entry_", None)})


@click.command("sample")
@click.argument("model_dir", type=click.Path())
@click.option("--rows", required=True, type=click.IntRange(min=1), help="Number of rows (or images) to draw.")
@click.option("--out", "out_path", required=True, type=click.Path(),
              help="Output .csv/.parquet, or a folder (no extension) of Parquet parts (.npz/folder for images).")
@click.option("--seed", type=int, default=None,
              help="Seed for sampling from the fitted model (default: fresh entropy).")
@scheduler_option
@common
def sample_cmd(out: Out, model_dir: str, rows: int, out_path: str, seed: int | None, scheduler: str | None) -> None:
    """Draw synthetic rows from a saved model (CSV or Parquet by extension; a folder: Parquet parts via Dask)."""
    from ..generators import registry
    from ..persistence import load_model, read_manifest

    entry = registry.entry(read_manifest(pipeline.need_file(model_dir, "Model directory"))["generator"])
    parts = entry.data_kind == "table" and Path(out_path).suffix == ""
    if entry.data_kind == "table" and not parts and Path(out_path).suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"Unsupported output format for {out_path}; use .csv or .parquet (or a folder name for "
                         "Parquet parts).")
    if scheduler is not None and not parts:
        raise ConfigError("--scheduler samples into a folder of Parquet parts: give --out a folder name.")
    model = load_model(model_dir)
    if entry.guarantee != "dp":
        out.no_dp_warning(entry.name)
    if parts:
        sample_parts(model, rows, out_path, seed, scheduler, out.bars)
    else:
        pipeline.write_synthetic(model.sample(rows, random_state=seed), out_path, entry.data_kind)
    out.say(f"wrote {rows} rows to {out_path}; privacy: {model.privacy_spent_.summary()}")
    out.emit({"status": "ok", "out": out_path, "rows": rows, "generator": entry.name,
              "privacy": model.privacy_spent_.to_dict(), "dp": entry.guarantee == "dp"})
