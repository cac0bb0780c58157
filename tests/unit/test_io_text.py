"""Delimited text as real exports write it (synthgen.io.text): European ';' with decimal commas, tabs, a UTF-8
byte-order mark, Latin-1, gzip. Before, every CSV was read with commas and UTF-8: a ';' file became one text column
(which the draft then dropped) and a Latin-1 file an error."""
import gzip

import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import InputError
from synthgen.io import read_table


def _frame(n=40):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"name": [f"Zoë {i}" for i in range(n)], "price": np.round(rng.gamma(2, 3, n), 2),
                         "count": rng.integers(0, 9, n), "note": ["a, b" if i % 3 else "c" for i in range(n)]})


def test_commas_quotes_and_a_byte_order_mark(tmp_path):
    df = _frame()
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).encode())
    got = read_table(p)
    assert list(got.columns) == list(df.columns)  # the mark is not part of the first name
    pd.testing.assert_frame_equal(got, df)


def test_semicolons_with_decimal_commas(tmp_path):
    df = _frame()
    p = tmp_path / "eu.csv"
    p.write_text(df.to_csv(index=False, sep=";", decimal=","), encoding="utf-8")
    pd.testing.assert_frame_equal(read_table(p), df)
    p.write_text(df.to_csv(index=False, sep=";"), encoding="utf-8")  # ';' with decimal points
    pd.testing.assert_frame_equal(read_table(p), df)


@pytest.mark.parametrize("name", ["t.tsv", "t.txt", "t.csv"])
def test_tabs(tmp_path, name):
    df = _frame()
    (tmp_path / name).write_text(df.to_csv(index=False, sep="\t"), encoding="utf-8")
    pd.testing.assert_frame_equal(read_table(tmp_path / name), df)


def test_latin1_is_read_with_a_warning_and_gzip_is_opened(tmp_path):
    df = _frame()
    p = tmp_path / "l.csv"
    p.write_bytes(df.to_csv(index=False).encode("latin-1"))
    with pytest.warns(UserWarning, match="Latin-1"):
        got = read_table(p)
    assert got["name"].iloc[0] == "Zoë 0"
    g = tmp_path / "z.csv.gz"
    with gzip.open(g, "wt", encoding="utf-8") as f:
        f.write(df.to_csv(index=False, sep=";", decimal=","))
    pd.testing.assert_frame_equal(read_table(g), df)
    with pytest.raises(InputError, match=r"\.xlsx.*expected one of"):
        (tmp_path / "x.xlsx").write_bytes(b"PK")
        read_table(tmp_path / "x.xlsx")


def test_a_single_column_stays_one_column(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("city\nParis\nLyon; Rhône\nNice\n", encoding="utf-8")
    got = read_table(p)
    assert list(got.columns) == ["city"] and got["city"].tolist()[1] == "Lyon; Rhône"
