"""The owner's report page: header (dataset, generator, params, ledger, the GATE's result), DP spend by mechanism,
readable per-column plots with legends, no empty CI columns, attackers named.

Failing on old main: the page named no generator, dataset or ledger; showed the evaluator's WARN where the gate
FAILED; drew empty "(other)/(null)" bars, 7-pt tick labels that overlapped at 20 categories and clipped tails as
an edge spike; every CI cell of the fidelity and risk tables was a dash.
"""
from html.parser import HTMLParser

import jsonschema
import numpy as np
import pytest
from matplotlib.patches import Rectangle
from owner_report_case import EPSILON, REGIONS, THRESHOLDS, shared_owner_report

from evaluators import Report, report_columns, report_gate, report_plots, report_spend
from evaluators.report_sections import attacker_name
from synthgen.resources import load_json_schema


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return shared_owner_report(tmp_path_factory)


@pytest.fixture(scope="module")
def page(case):
    return case[0].to_html()


def test_header_names_the_release_and_shows_the_gates_result(case, page):
    report, gate, ledger = case
    assert gate["success"] is False and "threshold:min_fidelity" in gate["failed_checks"]
    d = report.to_dict()
    jsonschema.validate(d, load_json_schema("report"))
    assert Report.from_dict(d).to_dict() == d  # the release section round-trips
    rel = d["release"]
    assert rel["generator"] == "dp-copula" and rel["params"]["epsilon"] == EPSILON
    assert rel["ledger"]["spent"]["epsilon"] == pytest.approx(EPSILON) and rel["ledger"]["remaining"]["epsilon"] \
        == pytest.approx(3.0 - EPSILON)
    assert rel["gate"]["success"] is False and rel["gate"]["failed_checks"] == gate["failed_checks"]
    head = page[: page.index("id=spend")]
    assert "dp-copula" in head and "diamonds + region" in head and "epsilon=1.0" in head
    assert "spent <b>1</b> of 3, <b>2</b> left" in head
    assert "id=gate-verdict>FAILED" in head and "min_fidelity 0.99" in head
    assert "<a href=#audit>consistent</a>" in head  # the audit's verdict is named in the header too
    # the evaluator's own screen is shown too, but never as the release decision
    assert report.summary["verdict"]["status"] != "fail"
    assert "Evaluator's risk screen" in page


def test_gate_record_from_thresholds_agrees_with_the_gate(case):
    report, gate, _ = case
    rec = report_gate.from_thresholds(report.summary, THRESHOLDS)
    by_gate = {c["check"]: c["success"] for c in report_gate.from_gate_document(gate)["checks"]}
    assert rec["checks"] and all(by_gate[c["check"]] == c["success"] for c in rec["checks"])
    assert rec["success"] is False and "threshold:min_fidelity" in rec["failed_checks"]
    fid = report.summary["fidelity_score"]
    assert f"{fid:.4g}" in next(c["message"] for c in rec["checks"] if c["check"] == "threshold:min_fidelity")
    lenient = report_gate.from_thresholds(report.summary, {"min_fidelity": fid - 0.01})
    assert lenient["success"] is True
    from evaluators.privacy import FAIL_EXACT_EXCESS

    ref = report.summary["exact_match_reference"]  # the holdout's chance matches: the default limit adds the excess
    copied = {**report.summary, "exact_match_rate": ref + FAIL_EXACT_EXCESS + 0.01}
    assert report_gate.from_thresholds(copied)["failed_checks"] == ["no_copied_rows"]
    plain = Report(report.results, report.summary, report.meta, {}, report.not_computed)  # no plots: fast
    assert "the gate's default thresholds" in plain.to_html()


def test_spend_is_split_by_mechanism(case, page):
    report, _, _ = case
    rows = report_spend.spend_split(report.summary["privacy"])
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    marg = next(r for r in rows if r["mechanism"].startswith("marginal"))
    assert len(marg["parts"]) == len(report.meta["columns"]) and "correlation" in {r["mechanism"] for r in rows}
    assert "id=spend-split" in page
    ctgan = report_spend.spend_split({"guarantee": "dp", "epsilon": 1.0, "delta": 1e-6, "details": {
        "row_count": {"epsilon": 0.05, "use": "schedule"}, "rest": {"epsilon": 0.95}, "counts": {"histograms": 4}}})
    assert [round(r["share"], 3) for r in ctgan] == [0.05, 0.95]
    whole = report_spend.spend_split({"guarantee": "dp", "epsilon": 2.0, "delta": 0.0, "details": {}})
    assert len(whole) == 1 and whole[0]["amount"] == 2.0
    assert report_spend.spend_split({"guarantee": "none", "reason": "plain"}) == []
    aim = report_spend.spend_split({"guarantee": "dp", "epsilon": 1.0, "delta": 1e-6, "details": {  # dp-marginal's
        "rho_total": 0.02, "rho_split": {"one-way": 0.005, "selection": 0.0015, "measurement": 0.0135},
        "mechanisms": {"one-way": "noisy 1-way", "selection": "exponential", "measurement": "noisy cliques"}}})
    assert [(r["mechanism"], round(r["share"], 3), r["description"]) for r in aim] == [
        ("one-way", 0.25, "noisy 1-way"), ("selection", 0.075, "exponential"), ("measurement", 0.675, "noisy cliques")]


def _categorical(n_labels: int, other: int = 0, null: int = 0) -> dict:
    rng = np.random.default_rng(n_labels)
    counts = {k: {"bins": rng.integers(1, 50, n_labels).tolist(), "other": other, "null": null, "n": 0}
              for k in ("real", "synthetic")}
    for c in counts.values():
        c["n"] = sum(c["bins"]) + other + null
    return {"column": "region", "kind": "categorical", "labels": REGIONS[:n_labels], "counts": counts}


def test_categorical_bars_top_k_other_and_no_empty_bars():
    labels, shares = report_columns.categorical_bars(_categorical(20))
    assert len(labels) == report_columns.TOP_K + 1 and labels[-1].startswith("other (8 named")
    assert not any(lb == "missing" for lb in labels)  # no row is missing: no empty bar
    for s in shares.values():
        assert s.sum() == pytest.approx(1.0)
    labels, _ = report_columns.categorical_bars(_categorical(5))
    assert len(labels) == 5  # nothing else: no "(other)" or "(null)" bar
    labels, _ = report_columns.categorical_bars(_categorical(5, other=3, null=2))
    assert labels[-2:] == ["other (unnamed categories)", "missing"]


def _figure_of(m):
    fig, ax = report_columns._categorical(m) if m["kind"] == "categorical" else report_columns._numeric(m)
    report_plots.style(ax)
    return fig


def test_plots_are_readable_at_20_categories(case):
    report, _, _ = case
    figs = [_figure_of(_categorical(20))] + [_figure_of(m) for m in report.plots["marginals"]]
    for fig in figs:
        assert report_plots.overlapping_labels(fig) == 0
        assert report_plots.min_font_pt(fig) >= 10
    tag = report_columns.column_figure(_categorical(20))
    assert 'data-min-font-pt="10.5"' in tag and f'data-dpi="{report_plots.DPI}"' in tag


def test_clipped_tail_is_drawn_apart_not_as_an_edge_spike():
    edges = np.linspace(0, 10, 11).tolist()
    bins = [55, 5, 5, 5, 5, 5, 5, 5, 5, 5]  # 50 rows below 0 folded into the first bin by the binning
    m = {"column": "x", "kind": "numeric", "edges": edges, "counts": {
        k: {"bins": bins, "below": 50, "above": 0, "null": 0, "n": 100} for k in ("real", "synthetic")}}
    assert report_columns.tail_free(m["counts"]["real"]).tolist() == [5.0] * 10
    fig = _figure_of(m)
    labels = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    assert "< 0" in labels and len(fig.axes) == 2  # a side panel for the mass below, none above
    main = max(fig.axes, key=lambda a: a.get_position().width)
    bars = [p.get_height() for p in main.patches if isinstance(p, Rectangle) and np.isfinite(p.get_height())]
    assert max(bars) == pytest.approx(0.05)  # the first bin holds its own 5 rows, not the 50 below the range
    assert "50.0% outside" in report_columns.column_caption(m, None)
    cap = report_columns.column_caption(m, None, {"share": 0.031, "below": 0.031, "above": 0.0})
    assert "3.1% of real rows outside the declared bounds (clipped by the fit)" in cap


class _Tables(HTMLParser):
    """Tables of a page as lists of rows of cell texts (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def test_ci_and_holdout_columns_are_filled_or_absent(page, small_report):
    bare = Report(small_report.results, small_report.summary, small_report.meta, {}, small_report.not_computed)
    for html in (page, bare.to_html()):
        parser = _Tables()
        parser.feed(html)
        checked = 0
        for table in parser.tables:
            head = table[0]
            for j, name in enumerate(head):
                if "CI" in name or name == "real holdout":
                    cells = [row[j] for row in table[1:] if len(row) == len(head)]
                    assert cells and not all(c in ("\u2013", "") for c in cells), (name, head)
                    checked += 1
        assert checked >= 3


def test_every_risk_names_its_attacker(case, page):
    report, _, _ = case
    risks = [r for r in report.results if r.group == "privacy"]
    assert risks
    for r in risks:
        name = attacker_name(r.name)
        assert name != r.name, r.name  # a named attacker, not the metric's id
        assert f"<b>{name}</b>" in page


@pytest.mark.parametrize("k", [12, 45])
def test_association_matrices_stay_readable_on_wide_tables(k):
    rng = np.random.default_rng(k)
    m = np.clip(rng.normal(0, 0.3, (k, k)), -1, 1)
    assoc = {"columns": [f"column_{i:02d}_long_name" for i in range(k)], "real": m.tolist(),
             "synthetic": (m * 0.5).tolist()}
    figs = report_plots.association_figures(assoc)
    assert len(figs) == 2
    for fig, _ in figs:
        assert report_plots.overlapping_labels(fig) == 0 and report_plots.min_font_pt(fig) >= 10
        assert fig.get_size_inches()[0] * 72 <= 1132  # fits the page (1180 px less padding) at full size


def test_datetime_columns_are_labelled_as_dates():
    days = [18262.0 + 36.5 * i for i in range(11)]  # 2020-01-01 onwards, in days since 1970
    m = {"column": "when", "kind": "numeric", "edges": days, "datetime_days": True, "counts": {
        k: {"bins": [3] * 10, "below": 0, "above": 0, "null": 0, "n": 30} for k in ("real", "synthetic")}}
    fig = _figure_of(m)
    fig.canvas.draw() if hasattr(fig.canvas, "get_renderer") else report_plots.overlapping_labels(fig)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert labels and all(lb.startswith("20") for lb in labels), labels
    assert "range 2020-01-01" in report_columns.column_caption(m, None)


def test_ledger_in_the_header_shows_spent_left_and_pending(tmp_path):
    from evaluators.report_release import _ledger, ledger_state
    from synthgen.privacy.ledger import PrivacyLedger

    path = tmp_path / "ledger.json"
    led = PrivacyLedger.create(path, 3.0, 1e-5, dataset="t")
    led.charge(1.0, 0.0, "dp-copula", "fit")
    led.reserve(0.5, 0.0, "dp-copula", "fit killed before it closed")
    state = ledger_state(path)
    assert state["spent"]["epsilon"] == pytest.approx(1.5) and state["remaining"]["epsilon"] == pytest.approx(1.5)
    assert state["pending"] == 1 and "1 pending reservation(s)" in _ledger(state)
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    assert "unreadable" in _ledger(ledger_state(broken))  # shown as such, the report is still written
