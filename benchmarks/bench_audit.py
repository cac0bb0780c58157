"""Empirical privacy audit of every DP table generator (issue 11): the epsilon each one really gives.

    .venv/bin/python benchmarks/bench_audit.py            # full audit (an hour or more on 2 cores)
    .venv/bin/python benchmarks/bench_audit.py --quick    # tiny settings: proves the benchmark runs (a minute)
    .venv/bin/python benchmarks/bench_audit.py --only dp-copula --trials 4000

* Distinguishing game (:func:`evaluators.audit.audit`) for each DP table generator of the registry at claimed
  epsilon 1 and 4, with each score strength it has (white-box, model-based, black-box; a strength a generator
  does not expose is listed as "n/a"); ``TRIALS`` fits per world. dp-ctgan plays the white-box game only, with
  one epoch (its scores are its count release and metadata; training length does not change them).
* DP-CTGAN at claimed epsilon 1, 4 and 10: the count one-run audit (:func:`evaluators.audit.count_one_run_audit`:
  10 release-only fits, 100,000 unique-category canaries) and the one-run audit of its DP-SGD critic
  (:func:`evaluators.audit.one_run_audit`, Steinke-Nasr-Jagielski 2023: one training run, m canaries).

Prints one markdown table (generator, eps, score, trials, eps_lb, attainable, mu_hat, tightness, verdict,
seconds) for the README; "attainable" is the bound the game's pre-registered test reaches at these trial counts
against the mechanism's own mu when its counts come out at their expected values (what the trial count allows).
It writes and writes every audit's full ``synthgen-audit/1`` JSON to ``benchmarks/results/audit-<time>.json``
(ignored by git). Targets (issue 11): no honest generator's 95 % lower bound exceeds its claim; white-box at
epsilon 4 reaches eps_lb >= 0.6 x 4 for dp-copula, with mu_hat within 15 % of the mechanism's analytic mu (shown
after "mech" in the mu_hat column). Not run in CI; the fast audit tests live in tests/audit/.

The audits fit the generators on worst-case tables built for the audit, never on real data: nothing here is
private. Privacy noise comes from OS entropy in every fit; ``--seed`` seeds the auditor's choices only.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common as C  # noqa: E402

EPSILONS = (1.0, 4.0)
ONE_RUN_EPSILONS = (1.0, 4.0, 10.0)
STRENGTHS = ("white-box", "model-based", "black-box")
ONE_RUN_GENERATORS = ("dp-ctgan",)  # DP-SGD: audited in one training run, not thousands of fits
#: Fits per world: (generator, score) -> trials; "default" for the rest (about 12 minutes on 2 cores in all).
TRIALS = {("dp-copula", "white-box"): 1000, ("dp-marginal", "white-box"): 1000, ("dp-ctgan", "white-box"): 100,
          "default": 200}
GAME_PARAMS = {"dp-ctgan": {"epochs": 1, "batch_size": 500}}
QUICK_TRIALS = 16
ONE_RUN = {"m": 1000, "k_guesses": 100, "n_base": 1000}
QUICK_ONE_RUN = {"m": 40, "k_guesses": 10, "n_base": 60, "params": {"epochs": 1, "batch_size": 50}}


def _api() -> tuple[Callable[..., Any], Callable[..., Any]]:
    try:
        from evaluators.audit import audit, one_run_audit
    except ImportError:  # a checkout whose package __init__ does not re-export them yet
        from evaluators.audit.game import audit
        from evaluators.audit.one_run import one_run_audit
    return audit, one_run_audit


def dp_table_generators() -> list[str]:
    from synthgen.generators import registry

    out = []
    for name in registry.names():
        e = registry.entry(name)
        if e.guarantee == "dp" and e.data_kind == "table":
            out.append(name)
    return out


def _as_dict(result: Any) -> dict:
    return result.to_dict() if hasattr(result, "to_dict") else dict(result)


def _row(d: dict | None, generator: str, eps: float, score: str, seconds: float, note: str = "") -> dict:
    if d is None:
        return {"generator": generator, "epsilon": eps, "score": score, "trials": None, "note": note,
                "seconds": round(seconds, 1), "audit": None}
    return {"generator": generator, "epsilon": eps, "score": f"{d['game']['kind']} / {d['game']['score']}",
            "trials": d["game"]["trials"], "note": note, "seconds": round(seconds, 1), "audit": d}


def run_game(audit: Callable[..., Any], generator: str, eps: float, score: str, trials: int, seed: int) -> dict:
    from synthgen.exceptions import ConfigError

    t0 = time.perf_counter()
    try:
        d = _as_dict(audit(generator, params=GAME_PARAMS.get(generator), epsilon=eps, score=score, trials=trials,
                           random_state=seed, progress=False))
    except ConfigError as exc:  # this generator does not expose that strength
        return _row(None, generator, eps, score, time.perf_counter() - t0, f"n/a: {exc}")
    return _row(d, generator, eps, score, time.perf_counter() - t0)


def run_one_run(one_run_audit: Callable[..., Any], eps: float, settings: dict, seed: int) -> dict:
    t0 = time.perf_counter()
    d = _as_dict(one_run_audit(epsilon=eps, random_state=seed, **settings))
    row = _row(d, d["generator"], eps, "one-run", time.perf_counter() - t0)
    row["score"] = "one-run critic / white-box"
    return row


def run_count_one_run(eps: float, quick: bool, seed: int) -> dict:
    from evaluators.audit import count_one_run_audit

    t0 = time.perf_counter()
    settings = {"m": 500, "runs": 2, "k_guesses": 50} if quick else {}
    d = _as_dict(count_one_run_audit("dp-ctgan", epsilon=eps, random_state=seed, **settings))
    row = _row(d, d["generator"], eps, "one-run", time.perf_counter() - t0)
    row["score"] = "one-run counts / white-box"
    return row


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def _mu_cell(emp: dict) -> str:
    if emp.get("mu_hat") is None:
        return "–"
    cell = _fmt(emp["mu_hat"])
    if emp.get("mu_ci"):
        cell += f" [{_fmt(emp['mu_ci'][0], 2)}, {_fmt(emp['mu_ci'][1], 2)}]"
    if emp.get("mu_mechanism") is not None:
        cell += f"; mech {_fmt(emp['mu_mechanism'])}"
    return cell


def markdown(rows: list[dict]) -> str:
    lines = ["| generator | eps | score | trials | eps_lb | attainable | mu_hat | tightness | verdict | seconds |",
             "|---|---:|---|---:|---:|---:|---|---:|---|---:|"]
    for r in rows:
        d = r["audit"]
        if d is None:
            lines.append(f"| {r['generator']} | {r['epsilon']:g} | {r['score']} | – | – | – | – | – | n/a | "
                         f"{r['seconds']:.1f} |")
            continue
        emp = d["empirical"]
        lb = "inf" if emp["epsilon_lb"] is None else _fmt(emp["epsilon_lb"])
        lines.append(f"| {r['generator']} | {r['epsilon']:g} | {r['score']} | {r['trials']} | {lb} | "
                     f"{_fmt(emp.get('epsilon_lb_attainable'))} | {_mu_cell(emp)} | {_fmt(d['tightness'], 2)} | "
                     f"{d['verdict']} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def plan(args: argparse.Namespace) -> list[tuple[str, float, str]]:
    gens = [g for g in dp_table_generators() if not args.only or g in args.only]
    jobs = []
    for g in gens:
        if g in ONE_RUN_GENERATORS:
            one_eps = ONE_RUN_EPSILONS[:1] if args.quick else ONE_RUN_EPSILONS
            jobs += [(g, eps, "white-box") for eps in (EPSILONS[:1] if args.quick else EPSILONS)]
            jobs += [(g, eps, "count-one-run") for eps in one_eps] + [(g, eps, "one-run") for eps in one_eps]
            continue
        strengths = ("white-box", "black-box") if args.quick else STRENGTHS
        jobs += [(g, eps, s) for eps in (EPSILONS[:1] if args.quick else EPSILONS) for s in strengths]
    return jobs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (proves the benchmark runs)")
    ap.add_argument("--only", nargs="*", default=None, help="generator names to audit (default: every DP table one)")
    ap.add_argument("--trials", type=int, default=None, help="fits per world for every distinguishing game")
    ap.add_argument("--seed", type=int, default=0, help="the auditor's seed (never privacy noise)")
    ap.add_argument("--out", type=Path, default=None, help="JSON file (default benchmarks/results/audit-<time>.json)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", module="opacus")  # DP-SGD internals' notices, not results
    warnings.filterwarnings("ignore", message="Full backward hook")  # the one-run audit's critic read-out
    audit, one_run_audit = _api()
    rows = []
    for i, (g, eps, score) in enumerate(plan(args)):
        print(f"[{i + 1}] {g} eps={eps:g} {score} ...", file=sys.stderr, flush=True)
        if score == "count-one-run":
            rows.append(run_count_one_run(eps, args.quick, args.seed + i))
        elif score == "one-run":
            rows.append(run_one_run(one_run_audit, eps, QUICK_ONE_RUN if args.quick else ONE_RUN, args.seed + i))
        else:
            trials = args.trials or (QUICK_TRIALS if args.quick else TRIALS.get((g, score), TRIALS["default"]))
            rows.append(run_game(audit, g, eps, score, trials, args.seed + i))
        print(markdown(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)  # partial results survive a kill
    table = markdown(rows)
    print(table)
    out = args.out or C.RESULTS_DIR / f"audit-{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": "bench_audit", "quick": bool(args.quick), "machine": C.machine_info(), "rows": rows,
           "markdown": table}
    out.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
