"""``synthgen run`` (a release from release.yaml) and ``synthgen demo`` (a canned release over CPS1988).

Both are thin commands over :mod:`synthgen.release.pipeline`. Privacy: ``<out>/release/`` is the release bundle
(synthetic data and model card: DP outputs and public facts only); ``<out>/owner-evaluation/`` holds the report and
the gate result, statistics of the private data, marked not for release. The number of released rows defaults to
the generator's DP estimate of the training row count; the exact count is never printed for a DP fit. ``run
--scheduler`` (or ``scheduler:``) fits on Dask (:mod:`synthgen.release.scale_inputs`).
"""
from __future__ import annotations

import click

from ..release import bundle, pipeline
from .output import ChecksFailed, Out, common, headline, print_gate
from .params import check_privacy_request

SCHEDULER = click.option(
    "--scheduler", default=None, metavar="ADDR",
    help="Run on Dask (overrides the config's scheduler:): 'local' starts an embedded cluster, tcp://host:8786 uses "
         "a running scheduler. data.train is then a Parquet file, directory or glob read lazily; the owner's full "
         "evaluation runs on a seeded sample of at most 50,000 training rows, fidelity on the whole table.")
ENGINE = click.option("--engine", type=click.Choice(["auto", "gx", "native"]), default="auto", show_default=True)


def _report(out: Out, result: pipeline.ReleaseResult) -> None:
    if result.summary:
        out.say(f"report: {headline(result.summary)}")
    print_gate(out, result.gate)
    if getattr(result, "released", True):
        out.say(f"release bundle  : {result.release_dir} ({result.rows} rows; model card {bundle.MODEL_CARD})")
    else:
        out.say(f"release NOT written (gate failed); model kept in {result.out_dir / bundle.MODEL_DIR}")
    out.say(f"owner evaluation: {result.evaluation_dir} (PRIVATE statistics: not for release)")
    out.say(f"privacy         : {result.card['privacy_summary']}")


@click.command("run")
@click.argument("config_path", type=click.Path())
@ENGINE
@SCHEDULER
@common
def run_cmd(out: Out, config_path: str, engine: str, scheduler: str | None) -> None:
    """Run a release: fit -> sample -> evaluate -> validate -> write (one atomic folder).

    OUT/release/ is the bundle to publish; OUT/owner-evaluation/ is private. The config's seed seeds
    initialisation and sampling only, never privacy noise.

    With --scheduler (or scheduler: in the config) the training table is read lazily as a Dask frame and fitted
    on the cluster (copula, dp-copula, dp-marginal, dp-ctgan); the release rows are sampled in memory. The owner's
    report holds the fidelity of the whole table (merged statistics, full_table_fidelity) and the full evaluation
    on a seeded sample of at most 50,000 training rows (evaluation_sample says how many). A bad or unreachable
    scheduler fails before any budget is charged.
    """
    from dataclasses import replace

    from ..generators import registry
    from ..release.config import load_release_config
    from ..release.scale_inputs import check_scheduler

    cfg = load_release_config(config_path)
    if scheduler is not None:
        cfg = replace(cfg, scheduler=check_scheduler(scheduler, "--scheduler"))
    check_privacy_request(out, dp=registry.entry(cfg.generator).guarantee == "dp", ledger=cfg.ledger, what="release",
                          epsilon=cfg.epsilon if cfg.epsilon is not None else cfg.params.get("epsilon"),
                          delta=cfg.delta if cfg.delta is not None else cfg.params.get("delta"))
    refused = pipeline.preflight(cfg)
    if refused is not None:
        print_gate(out, refused)
        out.emit({"status": "failed", "refused_before_fit": True, "gate": refused})
        raise ChecksFailed(refused["failed_checks"][0])
    bar = out.progress(5, "release")
    try:
        result = pipeline.run_release(cfg, engine=engine, say=out.say, step=lambda: bar.update(1), bars=out.bars)
    finally:
        bar.close()
    if not result.dp:
        out.no_dp_warning(cfg.generator)
    _report(out, result)
    out.emit(result.to_json())
    if not result.success:
        raise ChecksFailed(f"checks failed: {', '.join(result.gate['failed_checks'])}")


@click.command("demo")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False))
@click.option("--epsilon", type=float, default=1.0, show_default=True)
@click.option("--delta", type=float, default=1e-6, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the train/holdout split, initialisation and sampling; never privacy noise (OS entropy).")
@ENGINE
@common
def demo_cmd(out: Out, out_dir: str, epsilon: float, delta: float, seed: int, engine: str) -> None:
    """The main job: a DP synthetic copy of a real public table (AER/CPS1988), bundle and owner's report in OUT."""
    from ..release.demo import run_demo

    check_privacy_request(out, dp=True, epsilon=epsilon, delta=delta, ledger="demo", what="demo")
    bar = out.progress(6, "demo")
    try:
        demo = run_demo(out_dir, epsilon=epsilon, delta=delta, seed=seed, engine=engine, say=out.say,
                        step=lambda: bar.update(1), bars=out.bars)
    finally:
        bar.close()
    if demo.note:
        out.warn(demo.note)
    _report(out, demo.result)
    led = demo.ledger
    out.say(f"ledger          : {demo.ledger_path}: spent epsilon={led['spent']['epsilon']:.4g} of "
            f"{led['budget']['epsilon']:.4g}")
    out.emit(demo.to_json())
