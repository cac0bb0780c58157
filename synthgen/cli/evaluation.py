"""``synthgen evaluate`` (the owner's report) and ``synthgen validate`` (the release gate).

Privacy: both results are statistics of the private data computed without noise (the gate's pass/fail too, when
it uses a report or the training table); their files and JSON carry the ``private_statistics`` marker. They are
for the data owner, not for release.
"""
from __future__ import annotations

import click

from ..exceptions import ConfigError
from ..release import bundle, pipeline
from .output import ChecksFailed, Out, common, headline, print_gate
from .scale import scaled_evaluation


@click.command("evaluate")
@click.option("--real", required=True, type=click.Path(), help="Training table.")
@click.option("--holdout", required=True, type=click.Path(), help="Real rows not used for training.")
@click.option("--synthetic", required=True, type=click.Path(), help="Synthetic table.")
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--target", default=None, help="Target column for train-on-synthetic/test-on-real.")
@click.option("--model", "model_dir", type=click.Path(), default=None, help="Model directory (privacy spend).")
@click.option("--quasi-identifier", "quasi_identifiers", multiple=True, help="Quasi-identifier column (repeatable).")
@click.option("--metrics", default=None,
              help="Comma-separated metric groups/parts to compute, e.g. fidelity,utility,privacy (default: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the metrics' own sampling.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="report.json to write.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, help="report.html to write.")
@click.option("--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
              help="An audit JSON (`synthgen audit --out`) to show in the report's audit section.")
@click.option("--ledger", type=click.Path(dir_okay=False), default=None,
              help="The ledger that paid for the fit: its spent and remaining budget are shown in the report.")
@click.option("--scheduler", default=None, metavar="ADDR",
              help="Evaluate on Dask: 'local' (embedded cluster) or tcp://host:8786. --real and --synthetic are then "
                   "Parquet files, directories or globs read lazily: fidelity from merged statistics of both whole "
                   "tables (full_table_fidelity), every metric on seeded samples of at most 50,000 rows of each "
                   "(evaluation_sample in the summary says how many).")
@common
def evaluate_cmd(out: Out, real: str, holdout: str, synthetic: str, schema_path: str, target: str | None,
                 model_dir: str | None, quasi_identifiers: tuple[str, ...], metrics: str | None, seed: int,
                 out_path: str, html_path: str | None, audit_path: str | None, ledger: str | None,
                 scheduler: str | None) -> None:
    """Measure fidelity, utility and privacy risk of a synthetic table; write the owner's report (private)."""
    pipeline.evaluators_module()
    manifest = pipeline.read_manifest(model_dir) if model_dir else None
    kwargs = dict(target=target, privacy=manifest["privacy"] if manifest else None,
                  quasi_identifiers=quasi_identifiers, seed=seed, bars=out.bars, audit=audit_path,
                  metrics=[m.strip() for m in metrics.split(",") if m.strip()] if metrics else None)
    if scheduler is None:
        inputs = pipeline.read_inputs(real, schema_path, holdout)
        report = pipeline.evaluate(inputs, pipeline.read_table(synthetic, "Synthetic table"), **kwargs)
    else:
        report = scaled_evaluation(real, holdout, synthetic, schema_path, scheduler, out.say, kwargs)
    if hasattr(report, "with_release"):  # the report's header names what it evaluated (public facts only)
        report = report.with_release(dataset=real, generator=manifest["generator"] if manifest else None,
                                     params=manifest.get("params") if manifest else None, ledger=ledger)
    bundle.save_report(report, out_path, html_path)
    summary = dict(report.summary)
    out.say(f"report: {headline(summary)}")
    out.say(f"note: {bundle.OWNER_NOTICE}")
    out.emit({"status": "ok", **bundle.owner_mark(), "report": out_path, "html": html_path, "summary": summary})


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--synthetic", default=None, type=click.Path(), help="Synthetic release (.csv/.parquet).")
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--report", "report_path", type=click.Path(), default=None, help="report.json from `synthgen evaluate`.")
@click.option("--config", "config_path", type=click.Path(), default=None, help="release.yaml with thresholds.")
@click.option("--model", "model_dir", type=click.Path(), default=None, help="Model directory (its privacy spend).")
@click.option("--ledger", type=click.Path(), default=None,
              help="Ledger to check the budget against (default: the config's); with --model, the model's spend is "
                   "also cross-checked against the ledger entry it records (check 'ledger_entry').")
@click.option("--real", "real_path", type=click.Path(), default=None,
              help="Training table: count copied rows directly (only a share is reported).")
@click.option("--export-suite", "suite_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the GX ExpectationSuite JSON here.")
@click.option("--engine", type=click.Choice(["auto", "gx", "native"]), default="auto", show_default=True)
@click.option("--audit", "audit_path", type=click.Path(), default=None,
              help="Audit JSON from `synthgen audit`: require a recent accepted audit of this generator configuration "
                   "(check 'audit_consistent'; default: the config's thresholds.require_audit.file).")
@common
def validate_cmd(out: Out, files: tuple[str, ...], synthetic: str | None, schema_path: str,
                 report_path: str | None, config_path: str | None, model_dir: str | None, ledger: str | None,
                 real_path: str | None, suite_path: str | None, engine: str, audit_path: str | None) -> None:
    """The release gate: schema expectations (Great Expectations) + report thresholds + privacy checks.

    The release is --synthetic FILE; extra FILES (e.g. from a pre-commit hook) are each validated the same way.
    The result is the owner's evaluation: its pass/fail can itself depend on the private data.
    """
    from ..release.config import Thresholds, load_release_config
    from ..release.validate import combine, load_report_summary, validate_files

    paths = ([synthetic] if synthetic else []) + list(files)
    if not paths:
        raise ConfigError("Nothing to validate: pass --synthetic FILE (or file names as arguments).")
    cfg = load_release_config(config_path) if config_path else None
    schema = pipeline.load_schema(schema_path)
    docs = validate_files(
        paths, schema, thresholds=cfg.thresholds if cfg else Thresholds(),
        summary=load_report_summary(report_path) if report_path else None,
        manifest=pipeline.read_manifest(model_dir) if model_dir else None,
        budget=(cfg.epsilon, cfg.delta) if cfg else (None, None),
        ledger=ledger or (str(cfg.ledger) if cfg and cfg.ledger else None),
        real=pipeline.read_table(real_path, "Training table") if real_path else None, engine=engine,
        audit=audit_path)
    for doc in docs:
        if len(docs) > 1:
            out.say(f"{doc['file']}:")
        print_gate(out, doc)
    if suite_path:
        written = [str(p) for p in pipeline.gate_module().export_suite(schema, suite_path, cfg.thresholds if cfg
                                                                        else Thresholds())]
        for doc in docs:
            doc["meta"]["exported_suites"] = written
    doc = combine(docs)
    out.emit(doc)
    if not doc["success"]:
        raise ChecksFailed(f"checks failed: {', '.join(doc['failed_checks'])}")
