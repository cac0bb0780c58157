"""Issue 11, item 6: every planted bug of tests/privacy/planted is classified a violation at claimed epsilon = 1,
for dp-copula, dp-marginal and dp-ctgan, and the honest generators never are.

Trial counts. A deterministic leak gives a perfect test. dp-copula's game runs two tests (pre-registered and
selected, each at 97.5 %), so its selected test needs 16 fits per world in the bound half (bound 1.155 > 1): 32 fits
per world; noise ten times too small turns the honest mu ~0.22 of the white-box statistic into ~2.2, which 300 fits
per world certify above 1 (at least 1.12 in 1,000 simulated games of both tests; 240 fits failed 0.3 %). dp-marginal's
small-noise separation comes out lower (mu_hat 1.84, CI 1.65-2.03, in a CI run where 300 fits per world certified only
0.99): at mu 1.84, 300 fits fail 2 % of simulated games and 400 fail none of 300 (least bound 1.17); with heaped
values (part of a column's fine share moved to its heap counts, which a one-row canary never reaches) a CI run
measured mu_hat 1.81 and 400 fits failed once (selected bound 0.84), so dp-marginal's small-noise game plays 500.
dp-ctgan's game runs the selected test only (95 %): 13 fits in the bound half certify
1.11, so 26 fits per world. dp-ctgan's count noise ten times too small (its DP-SGD noise comes from a torch generator
the plant does not touch) has mu ~0.68 on its counts, which no affordable game certifies: the count one-run audit (10
release-only fits, 100,000 canaries, 500 guesses) gives 1.56-2.1 in simulation.
"""
import pytest

from evaluators.audit import audit
from evaluators.audit.one_run_counts import count_one_run_audit
from planted.plants import PLANTS, planted
from synthgen.generators import registry

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# plant -> (fits per world, the statistics allowed to catch it)
COPULA = {
    "no_noise": (32, {"release-lr"}),
    "seeded_noise": (32, {"release-lr"}),  # identical noise in both worlds: the difference is deterministic
    "sigma_too_small": (32, {"release-lr"}),
    "exact_n": (32, {"rows-estimate", "metadata:rows_estimate"}),
    "data_bounds": (32, {"declared-support"}),  # the canary's value becomes a bound of the model's schema
    "n_in_spend": (32, {"metadata:privacy.details.sample_rate"}),  # 1/n in the spend: the metadata score
    "small_noise": (300, {"release-lr"}),
}
MARGINAL_TRIALS = {"small_noise": 500}  # its separation is lower (module docstring)
# dp-marginal alone thresholds in a fit (its heaped values): with the threshold gone every distinct value of the
# canary's column is released, the canary's own among them, so a field of the saved state tells the worlds apart in
# every fit. dp-copula and dp-ctgan draw no threshold in a fit: the plant does nothing there.
MARGINAL_ONLY = {"no_threshold": (32, "metadata:")}
# dp-ctgan: batch_size 500 keeps the DP-SGD rate at its 0.5 cap for every noisy row count (one accountant solve);
# one epoch. Its scores are read from the count release and the metadata, which training does not change.
CTGAN_FAST = {"epochs": 1, "batch_size": 500}
CTGAN = {
    "no_noise": {"released-count"},
    "seeded_noise": {"released-count"},
    "sigma_too_small": {"released-count"},
    "exact_n": {"rows-estimate", "metadata:rows_estimate"},
    "data_bounds": {"declared-support"},
    "n_in_spend": {"metadata:privacy.details.sample_rate"},
}
CTGAN_ONE_RUN = {"small_noise"}
needs_ctgan = pytest.mark.skipif(not registry.is_available("dp-ctgan"), reason="dp-ctgan needs torch")


def test_every_plant_is_audited_for_every_dp_table_generator():
    assert sorted(set(COPULA) | set(MARGINAL_ONLY)) == sorted(PLANTS)
    assert sorted(set(CTGAN) | CTGAN_ONE_RUN | set(MARGINAL_ONLY)) == sorted(PLANTS)
    dp_tables = {n for n in registry.names() if registry.entry(n).guarantee == "dp"
                 and registry.entry(n).data_kind == "table"}
    assert dp_tables <= {"dp-copula", "dp-marginal", "dp-ctgan"}, f"a DP table generator is not audited: {dp_tables}"


# dp-marginal's white-box release-lr reads its noisy measurements like dp-copula's histograms: the same cases.
GAME_CASES = [("dp-copula", bug) for bug in sorted(COPULA)] + [("dp-marginal", bug) for bug in sorted(COPULA)
                                                                if registry.is_available("dp-marginal")]


@pytest.mark.parametrize("name,bug", GAME_CASES)
def test_planted_zcdp_generator_bug_is_a_violation(name, bug):
    trials, caught_by = COPULA[bug]
    if name == "dp-marginal":
        trials = MARGINAL_TRIALS.get(bug, trials)
    with planted(name, bug):
        d = audit(name, epsilon=1.0, trials=trials, random_state=1).to_dict()
    assert d["verdict"] == "violation", \
        f"planted {bug!r} in {name} not caught: {d['empirical']} (ceiling {d['certifiable_epsilon']})"
    assert d["empirical"]["epsilon_lb"] > 1.0
    assert d["game"]["statistic"] in caught_by


@pytest.mark.parametrize("name", ["dp-copula", "dp-marginal"])
@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_honest_zcdp_generator_is_never_a_violation(name, epsilon):
    if not registry.is_available(name):
        pytest.skip(f"{name} is not available")
    res = audit(name, epsilon=epsilon, trials=32, random_state=2)
    assert res.verdict in ("consistent", "inconclusive")
    assert res.epsilon_lb <= epsilon
    assert res.to_dict()["claimed"]["epsilon"] == pytest.approx(epsilon)


@needs_ctgan
@pytest.mark.parametrize("bug", sorted(CTGAN))
def test_planted_dp_ctgan_bug_is_a_violation(bug):
    with planted("dp-ctgan", bug):
        d = audit("dp-ctgan", params=CTGAN_FAST, epsilon=1.0, trials=26, random_state=1).to_dict()
    assert d["verdict"] == "violation", f"planted {bug!r} not caught: {d['empirical']}"
    assert d["game"]["statistic"] in CTGAN[bug]


@needs_ctgan
def test_honest_dp_ctgan_game_is_not_a_violation():
    """The metadata score must not flag an honest fit: its only varying fields are DP outputs."""
    d = audit("dp-ctgan", params=CTGAN_FAST, epsilon=1.0, trials=26, random_state=2).to_dict()
    assert d["verdict"] != "violation" and d["empirical"]["epsilon_lb"] <= 1.0


@needs_ctgan
@pytest.mark.parametrize("bug", sorted(CTGAN_ONE_RUN))
def test_planted_dp_ctgan_count_bug_is_a_violation_in_the_count_one_run_audit(bug):
    with planted("dp-ctgan", bug):
        d = count_one_run_audit("dp-ctgan", epsilon=1.0, random_state=1).to_dict()
    assert d["verdict"] == "violation", f"planted {bug!r} not caught: {d['game']['one_run']}"
    assert d["game"]["statistic"] == "released-count" and d["game"]["trials"] == 100_000


@needs_ctgan
@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_honest_dp_ctgan_count_one_run_is_not_a_violation(epsilon):
    d = count_one_run_audit("dp-ctgan", epsilon=epsilon, random_state=3).to_dict()
    assert d["verdict"] == "consistent" and d["empirical"]["epsilon_lb"] <= epsilon
    assert d["claimed"]["epsilon"] == pytest.approx(epsilon)
    assert d["game"]["one_run"]["guesses"] == 500 and 0 < d["game"]["one_run"]["included"] < 100_000


@pytest.mark.skipif(not registry.is_available("dp-marginal"), reason="mbi not installed")
@pytest.mark.parametrize("bug", sorted(MARGINAL_ONLY))
def test_planted_dp_marginal_bug_is_a_violation(bug):
    trials, prefix = MARGINAL_ONLY[bug]
    with planted("dp-marginal", bug):
        d = audit("dp-marginal", epsilon=1.0, trials=trials, random_state=1).to_dict()
    assert d["verdict"] == "violation", f"planted {bug!r} not caught: {d['empirical']}"
    assert d["empirical"]["epsilon_lb"] > 1.0 and d["game"]["statistic"].startswith(prefix), d["game"]["statistic"]
