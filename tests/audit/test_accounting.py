"""The independent accounting check (evaluators.audit.accounting): honest records agree with dp-accounting's PLD
reading; a record whose claim was edited lower, or whose noise multiplier was edited lower, is flagged."""
import copy
import math
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dp_accounting")

from evaluators.audit.accounting import AccountingCheckError, check_accounting  # noqa: E402
from synthgen.generators.copula.dp import DPGaussianCopula  # noqa: E402
from synthgen.generators.ctgan.model import DPCTGAN  # noqa: E402
from synthgen.persistence import describe_model  # noqa: E402
from synthgen.schema import CategoricalField, NumericField, Schema  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
TINY = dict(epochs=1, batch_size=32, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), n_bins=6,
            verbose=False)


def _table(n=300):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], size=n), "x": rng.random(n)})
    schema = Schema((CategoricalField("g", ("a", "b", "c"), categories_source="public:test"),
                     NumericField("x", 0, 1, bounds_source="public:test")))
    return df, schema


@pytest.fixture(scope="module")
def ctgan_manifest():
    df, schema = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return describe_model(DPCTGAN(epsilon=3.0, **TINY).fit(df, schema, random_state=0))


@pytest.fixture(scope="module")
def copula():
    df, schema = _table()
    return DPGaussianCopula(epsilon=1.0).fit(df, schema, random_state=0)


def test_honest_dp_ctgan_agrees(ctgan_manifest):
    r = check_accounting(ctgan_manifest)
    assert r["agrees"] and r["detail"]["status"] == "agrees"
    assert r["accountant"] == "dp-accounting PLD" and r["tolerance"] == 0.02
    assert r["epsilon_recomputed"] <= r["epsilon_claimed"] == 3.0
    assert r["epsilon_recomputed"] > 0.9 * 3.0  # the noise multiplier is solved to the target: PLD reads close
    assert r["detail"]["schedule"]["matches_record"]
    # PLD of the rest agrees with the Opacus PRV reading the fit recorded (two accountants, one mechanism)
    rest = r["detail"]["rest"]
    assert rest["epsilon_pld"] == pytest.approx(rest["epsilon_prv_recorded"], rel=0.02)


def test_dp_ctgan_epsilon_edited_lower_is_flagged(ctgan_manifest):
    m = copy.deepcopy(ctgan_manifest)
    m["privacy"]["epsilon"] = 2.0
    r = check_accounting(m)
    assert not r["agrees"] and r["detail"]["status"] == "under-claimed" and r["epsilon_claimed"] == 2.0


def test_dp_ctgan_noise_multiplier_edited_lower_is_flagged(ctgan_manifest):
    m = copy.deepcopy(ctgan_manifest)
    m["privacy"]["details"]["dpsgd"]["noise_multiplier"] *= 0.5
    r = check_accounting(m)
    assert not r["agrees"] and not r["detail"]["covers"]
    assert r["epsilon_recomputed"] > 1.2 * r["epsilon_claimed"]


def test_dp_ctgan_count_noise_edited_lower_is_flagged(ctgan_manifest):
    m = copy.deepcopy(ctgan_manifest)
    m["privacy"]["details"]["counts"]["noise_multiplier"] *= 0.2
    assert not check_accounting(m)["agrees"]


def test_dp_ctgan_schedule_inconsistent_with_the_noisy_count_is_flagged(ctgan_manifest):
    m = copy.deepcopy(ctgan_manifest)
    m["privacy"]["details"]["row_count"]["value"] *= 2  # the recorded rate is no longer batch_size / n_hat
    r = check_accounting(m)
    assert not r["detail"]["schedule"]["matches_record"] and not r["agrees"]


def test_honest_dp_copula_agrees_and_the_exact_gaussian_reads_below_the_zcdp_claim(copula):
    r = check_accounting(copula)
    assert r["agrees"], r
    d = r["detail"]
    assert r["epsilon_recomputed"] < r["epsilon_claimed"] <= d["epsilon_rdp"] * 1.02 < d["epsilon_classical"]
    assert d["rho"] == pytest.approx(copula.privacy_spent_.details["rho_spent"], rel=1e-12)


def test_dp_copula_epsilon_edited_lower_and_rho_edited_are_flagged(copula):
    m = describe_model(copula)
    low = copy.deepcopy(m)
    low["privacy"]["epsilon"] = 0.7
    assert check_accounting(low)["detail"]["status"] == "under-claimed"
    high_rho = copy.deepcopy(m)
    high_rho["privacy"]["details"]["rho_split"]["correlation"] *= 4  # less noise than the claim pays for
    assert not check_accounting(high_rho)["agrees"]
    over = copy.deepcopy(m)
    over["privacy"]["epsilon"] = 2.0  # a claim no accountant reads from the record
    r = check_accounting(over)
    assert not r["agrees"] and r["detail"]["status"] == "over-claimed"


def test_saved_model_directory_is_read(copula, tmp_path):
    copula.save(tmp_path / "m")
    assert check_accounting(tmp_path / "m")["agrees"]


def test_dp_image_zcdp_shares_agree():
    from sklearn.datasets import load_digits

    from synthgen.generators.images.dp_merf import DPImageGenerator

    d = load_digits()
    x, y = (d.images[:200] / 16.0).astype(np.float32), d.target[:200].astype(np.int64)
    g = DPImageGenerator(epsilon=2.0, classes=range(10), n_iter=2, n_features=100, hidden=16)
    g.fit((x, y), random_state=0)
    r = check_accounting(g)
    assert r["agrees"] and set(r["detail"]["rho_split"]) == {"counts", "embeddings"}


def test_unreadable_records_raise_typed_errors(copula):
    with pytest.raises(AccountingCheckError, match="privacy"):
        check_accounting({"generator": "x"})
    with pytest.raises(AccountingCheckError, match="no guarantee"):
        check_accounting({"privacy": {"guarantee": "none", "reason": "not DP", "accounted": None}})
    with pytest.raises(AccountingCheckError, match="no recomputation"):
        check_accounting({"privacy": {"guarantee": "dp", "epsilon": 1.0, "delta": 1e-9, "details": {}}})
    m = describe_model(copula)
    del m["privacy"]["delta"]
    with pytest.raises(AccountingCheckError, match="malformed"):
        check_accounting(m)
    assert math.isfinite(check_accounting(copula, tolerance=0.0)["epsilon_recomputed"])


def test_missing_dp_accounting_names_the_install(monkeypatch, copula):
    import builtins

    real = builtins.__import__

    def no_dpa(name, *a, **k):
        if name == "dp_accounting":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_dpa)
    with pytest.raises(AccountingCheckError, match="pip install dp-accounting"):
        check_accounting(copula)


def test_a_fit_without_guarantee_has_its_accountant_record_checked_and_says_so():
    from synthgen.privacy.noise import unsafe_seeded_noise

    df, schema = _table()
    with unsafe_seeded_noise(3):
        m = DPGaussianCopula(epsilon=1.0).fit(df, schema, random_state=0)
    assert not m.privacy_spent_.is_dp
    r = check_accounting(m)
    assert r["agrees"] and r["detail"]["no_guarantee"] and "seeded" in r["detail"]["no_guarantee"]
