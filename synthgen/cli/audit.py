"""``synthgen audit``: the empirical privacy audit of a generator configuration (issue 11).

Plays the distinguishing game of :func:`evaluators.audit.audit` on worst-case tables built for the audit (never on
user data, so the JSON holds nothing private) and prints its ``synthgen-audit/1`` document; ``--game
count-one-run`` runs :func:`evaluators.audit.count_one_run_audit` instead (dp-ctgan's count release, many
unique-category canaries in a few release-only fits; ``--canary``, ``--score``, ``--trials``, ``--rows`` and
``--repeats`` do not apply to it). Exit 1 when the verdict is ``violation`` (the 95 % lower bound on epsilon
exceeds the claim), 0 otherwise.
"""
from __future__ import annotations

import click

from .output import ChecksFailed, Out, common
from .params import parse_params


@click.command("audit")
@click.option("--generator", required=True, help="Registry name of a DP table generator, e.g. dp-copula.")
@click.option("--epsilon", type=float, default=1.0, show_default=True, help="The claimed epsilon to audit.")
@click.option("--delta", type=float, default=None, help="The claimed delta (default: the generator's default).")
@click.option("--param", "params", multiple=True, help="Generator option key=value (repeatable).")
@click.option("--canary", type=click.Choice(["outlier", "unique-category", "repeated"]), default="outlier",
              show_default=True, help="The worst-case canary row (repeated: group privacy of --repeats rows).")
@click.option("--repeats", type=click.IntRange(1, 10), default=2, show_default=True,
              help="Copies of the canary for --canary repeated.")
@click.option("--score", type=click.Choice(["white-box", "model-based", "black-box"]), default="white-box",
              show_default=True, help="Attack strength: released statistics, fitted model, or synthetic rows only.")
@click.option("--trials", type=click.IntRange(min=4), default=200, show_default=True, help="Fits per world.")
@click.option("--rows", "n_rows", type=click.IntRange(2, 989), default=100, show_default=True,
              help="Rows of the audit table D (D' has the canary too).")
@click.option("--seed", type=int, default=None,
              help="Seed for the generator's initialisation and sampling only; privacy noise is never seeded.")
@click.option("--game", type=click.Choice(["distinguishing", "count-one-run"]), default="distinguishing",
              show_default=True, help="The distinguishing game, or the one-run audit of dp-ctgan's count release.")
@click.option("--accounting", is_flag=True, help="Also recompute the fit's epsilon with an independent accountant.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the JSON result to this file instead of stdout (like --json-out).")
@common
def audit_cmd(out: Out, generator: str, epsilon: float, delta: float | None, params: tuple[str, ...], canary: str,
              repeats: int, score: str, trials: int, n_rows: int, seed: int | None, game: str, accounting: bool,
              out_path: str | None) -> None:
    """Audit GENERATOR's privacy claim empirically: JSON of the audit result, exit 1 on a violation."""
    from evaluators.audit import audit, count_one_run_audit

    if out_path:
        out.json_out = out_path
    if game == "count-one-run":
        if delta is not None or accounting:
            raise click.UsageError("--delta and --accounting apply to the distinguishing game only.")
        res = count_one_run_audit(generator, epsilon=epsilon, params=parse_params(params), random_state=seed)
        what = f"count one-run, {res.game['trials']} canaries"
    else:
        res = audit(generator, params=parse_params(params), epsilon=epsilon, delta=delta, canary=canary,
                    score=score, trials=trials, random_state=seed, n_rows=n_rows, repeats=repeats,
                    progress=out.bars, accounting=accounting)
        what = f"{score}, {canary}, {trials} fits per world"
    doc = res.to_dict()
    emp = doc["empirical"]
    out.say(f"audit {generator} ({what}): claimed epsilon "
            f"{doc['claimed']['epsilon']:g}, 95% lower bound {emp['epsilon_lb']:.3f} (this run could certify at "
            f"most {doc['certifiable_epsilon']:.3f}); verdict {doc['verdict']}")
    out.emit({"status": "ok", **doc})
    if doc["verdict"] == "violation":
        raise ChecksFailed(f"{generator}: the measured epsilon lower bound {emp['epsilon_lb']:.3f} exceeds the "
                           f"claimed {doc['claimed']['epsilon']:g}")
