"""What a release writes, and where: the release bundle apart from the owner's evaluation.

Privacy argument. A run's output folder ``<out>/`` holds three parts, written atomically together:

* ``<out>/release/`` is the RELEASE BUNDLE, the only part meant to leave the data owner: the synthetic table, the
  model card (:func:`model_card`) and the expectation suite. For a DP generator each is either DP output
  (the synthetic rows, sampled from a model fitted on noisy statistics; the number of rows, which is the config's
  ``rows`` or the generator's DP estimate of the row count) or public (the declared schema, the config's
  thresholds, the generator's parameters, the DP spend and the ledger entry that paid for it). Nothing computed
  from the private data without noise is written here: no report, no gate result, no exact row count.
* ``<out>/owner-evaluation/`` is the OWNER'S EVALUATION: the report and the gate result. They are computed from the
  private training (and holdout) rows WITHOUT noise (exact counts, distances to training rows, metrics), and the
  gate's pass/fail is itself a function of the private data. Every file there is marked: JSON documents carry
  ``contains_private_statistics: true`` and a ``notice`` at their top level, the HTML report a banner (both
  written by the evaluators for the report), and ``NOT-FOR-RELEASE.txt`` lies beside them.
* ``<out>/model/`` is the fitted model, kept by the owner to sample more rows (DP for a DP generator, like the
  synthetic data; not part of the bundle).

A release is written only when the gate passed (:func:`write_outputs`): a failed gate, or a step that failed
after the fit (:func:`write_failed`, with ``owner-evaluation/error.json``), leaves ``model/`` and the owner's
evaluation but no ``release/``. Everything goes into a temporary folder renamed into place: nothing half-written.
The fitted model is always kept, because the budget it cost was spent once the fit read the data.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RELEASE_DIR, EVALUATION_DIR, MODEL_DIR = "release", "owner-evaluation", "model"
MODEL_CARD = "model_card.json"
CARD_FORMAT = "synthgen-model-card/1"

OWNER_NOTICE = (
    "PRIVATE - NOT FOR RELEASE. Statistics of the private training data computed WITHOUT differential-privacy "
    "noise (exact counts, metrics and distances against the real rows). The release gate's pass/fail is itself "
    "a function of the private data. For the data owner only; publish only the files in the release/ folder.")
SEED_NOTE = ("Seeds (random_state, --seed, the config's seed) seed initialisation and sampling only; privacy noise "
             "is always drawn from OS entropy and is never reproducible from a seed.")


def owner_mark() -> dict:
    """The marker every owner's-evaluation JSON document carries at its top level."""
    return {"contains_private_statistics": True, "not_for_release": True, "notice": OWNER_NOTICE}


def model_card(model: Any, *, rows: int, rows_source: str, synthetic_file: str | None = None,
               synthetic_sha256: str | None = None) -> dict:
    """The release's model card, from the fitted model's public attributes only.

    ``rows_source``: ``"config"`` (the config/flag gave the number) or ``"dp_estimate"`` (the generator's DP
    estimate of the training row count, rounded). Holds no statistic of the private data beyond the DP outputs.
    """
    from .._json import jsonable
    from ..persistence import describe_model

    spend = model.privacy_spent_
    card = {
        "format": CARD_FORMAT,
        **describe_model(model, nonfinite="null"),
        "dp": bool(spend.is_dp),
        "privacy_summary": spend.summary(),
        "release": {"file": synthetic_file, "rows": int(rows), "rows_source": rows_source,
                    "sha256": synthetic_sha256},
        "seeds": SEED_NOTE,
    }
    if not spend.is_dp:
        card["warning"] = ("NO DP GUARANTEE: this release can reveal training rows; "
                           + str(spend.to_dict().get("reason", "see privacy")))
    return jsonable(card)


def write_owner_json(path: str | Path, doc: dict) -> None:
    """Write an owner's-evaluation JSON document, marked at its top level as holding private statistics."""
    from .._json import jsonable
    from ..io import atomic_write_text

    marked = {**dict(doc), **owner_mark()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(jsonable(marked), indent=2, allow_nan=False) + "\n")


def save_report(report: Any, json_path: str | Path, html_path: str | Path | None = None) -> None:
    """Write the evaluation report (the evaluators mark both forms as private statistics, not for release)."""
    Path(json_path).parent.mkdir(parents=True, exist_ok=True)
    report.save_json(json_path)
    if html_path:
        report.save_html(html_path)


def write_notice(folder: str | Path) -> None:
    """``NOT-FOR-RELEASE.txt`` in an owner's-evaluation folder."""
    from ..io import atomic_write_text

    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(folder) / "NOT-FOR-RELEASE.txt", OWNER_NOTICE + "\n")


def is_owner_marked(path: str | Path) -> bool:
    """Whether a JSON file carries the private-statistics marker at its top level."""
    return json.loads(Path(path).read_text(encoding="utf-8")).get("contains_private_statistics") is True


def _files(tmp: Path) -> tuple[str, ...]:
    return tuple(sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()))


def _write_owner(own: Path, report: Any, gate_doc: dict | None, error: dict | None = None, html: bool = True
                 ) -> None:
    if report is not None:
        save_report(report, own / "report.json", own / "report.html" if html else None)
    if gate_doc is not None:
        write_owner_json(own / "gate.json", gate_doc)
    if error is not None:
        write_owner_json(own / "error.json", error)
    write_notice(own)


def _write_release(rel: Path, cfg: Any, model: Any, synthetic: Any, rows: tuple[int, str], suite: dict | None
                   ) -> dict:
    from ..io import atomic_write_json, sha256_file, write_table

    from .gate import export_suite

    rel.mkdir()
    write_table(synthetic, rel / cfg.synthetic_filename)
    card = model_card(model, rows=rows[0], rows_source=rows[1], synthetic_file=cfg.synthetic_filename,
                      synthetic_sha256=sha256_file(rel / cfg.synthetic_filename))
    atomic_write_json(rel / MODEL_CARD, card)
    if cfg.export_suite:  # from the declared schema and the config's thresholds only: public
        export_suite(model.schema_, rel / "suite.json", cfg.thresholds, docs=suite)
    return card


def write_outputs(cfg: Any, model: Any, synthetic: Any, rows: tuple[int, str], report: Any, gate_doc: dict,
                  suite: dict | None = None) -> tuple[dict, tuple[str, ...]]:
    """Write ``cfg.outputs_dir`` as one atomic folder: release/ (only if the gate passed), owner-evaluation/, model/.
    Returns the model card (written into release/ only when released) and the files written."""
    from ..io import atomic_directory

    card = model_card(model, rows=rows[0], rows_source=rows[1])
    with atomic_directory(cfg.outputs_dir) as tmp:
        if gate_doc["success"]:
            card = _write_release(tmp / RELEASE_DIR, cfg, model, synthetic, rows, suite)
        model.save(tmp / MODEL_DIR)
        _write_owner(tmp / EVALUATION_DIR, report, gate_doc, html=cfg.html)
        files = _files(tmp)
    return card, files


def write_failed(out_dir: str | Path, model: Any, error: dict, report: Any = None, gate_doc: dict | None = None,
                 html: bool = True) -> tuple[str, ...]:
    """A run that failed after its fit: model/ and the owner's evaluation (``error.json``), no release/."""
    from ..io import atomic_directory

    with atomic_directory(out_dir) as tmp:
        model.save(tmp / MODEL_DIR)
        _write_owner(tmp / EVALUATION_DIR, report, gate_doc, error, html)
        files = _files(tmp)
    return files
