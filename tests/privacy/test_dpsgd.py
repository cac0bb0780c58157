"""DP-SGD accounting: golden values, the noise-multiplier solver, the per-step budget check, no global seeding."""
import ast
from pathlib import Path

import numpy as np
import pytest

from synthgen.exceptions import BudgetExceededError, InvalidPrivacyParameterError
from synthgen.privacy.accountants import DPSGDAccountant
from synthgen.privacy.analysis.dpsgd_plan import (dpsgd_steps, max_steps_within, solve_noise_multiplier,
                                                  split_budget)
from synthgen.privacy.dpsgd import epsilon_prv, epsilon_rdp, poisson_sample, torch_threads, auto_threads

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sigma,batch,epochs,rdp,prv", [(1.0, 256, 10, 1.84, 1.59), (1.1, 500, 30, 3.77, 3.45)])
def test_golden_values_from_field_notes(sigma, batch, epochs, rdp, prv):
    n, delta = 32_561, 1e-5
    q = batch / n
    steps = dpsgd_steps(epochs, q)
    assert steps == int(epochs * n / batch)
    assert epsilon_rdp(sigma, q, steps, delta) == pytest.approx(rdp, abs=0.006)
    assert epsilon_prv(sigma, q, steps, delta) == pytest.approx(prv, abs=0.006)


def test_solver_never_exceeds_target_and_is_tight():
    q, steps, delta = 0.02, 500, 1e-6
    for target in (0.5, 1.0, 3.0):
        sigma = solve_noise_multiplier(lambda s: epsilon_prv(s, q, steps, delta), target)
        eps = epsilon_prv(sigma, q, steps, delta)
        assert eps <= target
        assert epsilon_prv(sigma * 0.97, q, steps, delta) > target * 0.97  # not wastefully loose


def test_solver_with_a_synthetic_monotone_function():
    f = lambda s: 10.0 / s  # noqa: E731
    s = solve_noise_multiplier(f, 2.0, rel_tol=1e-4)
    assert f(s) <= 2.0 and s == pytest.approx(5.0, rel=1e-3)
    with pytest.raises(InvalidPrivacyParameterError):
        solve_noise_multiplier(f, 0.01, sigma_max=50)


def test_max_steps_and_split():
    eps_of = lambda k: 0.01 * k  # noqa: E731
    assert max_steps_within(eps_of, 1.0, 1000) == 100
    assert max_steps_within(eps_of, 1.0, 50) == 50
    assert max_steps_within(eps_of, 0.001, 50) == 0
    (ep, dp), (es, ds) = split_budget(1.0, 1e-6, 0.1)
    assert ep + es == pytest.approx(1.0) and dp + ds == pytest.approx(1e-6) and ep == pytest.approx(0.1)


def test_accountant_checks_before_each_step_and_reports_prv_and_rdp():
    acc = DPSGDAccountant(1.0, 1e-6, 0.05, 40)
    assert acc.max_steps == 40
    assert epsilon_prv(acc.noise_multiplier, 0.05, 40, 1e-6) <= 1.0
    for _ in range(40):
        acc.record_step()
    assert not acc.can_step()
    with pytest.raises(BudgetExceededError):
        acc.record_step()  # the 41st step is refused before it is taken
    assert acc.steps == 40
    spend = acc.to_spend()
    assert spend.epsilon <= 1.0 and spend.details["epsilon_rdp"] >= spend.epsilon * 0.9
    assert spend.details["steps"] == 40 and spend.details["sampling"] == "Poisson"


def test_cheap_per_epoch_reading_bounds_the_prv_spend_and_never_reads_above_target():
    acc = DPSGDAccountant(1.0, 1e-6, 0.05, 40)
    assert acc.epsilon_reading() == 0.0
    for k in range(1, 41):
        acc.record_step()
        if k in (1, 20, 40):
            reading = acc.epsilon_reading()
            assert acc.epsilon_spent("prv") <= reading + 1e-12 and reading <= 1.0
    assert acc.epsilon_reading() < acc.epsilon_spent("rdp")  # near the end the PRV cap is the tighter bound


def test_torch_threads_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert 1 <= auto_threads() <= before


def test_accountant_with_fixed_sigma_caps_steps():
    acc = DPSGDAccountant(1.0, 1e-6, 0.05, 10_000, noise_multiplier=2.0)
    assert 0 < acc.max_steps < 10_000
    assert epsilon_prv(2.0, 0.05, acc.max_steps, 1e-6) <= 1.0 < epsilon_prv(2.0, 0.05, acc.max_steps + 1, 1e-6)


def test_epsilon_too_small_for_one_step():
    with pytest.raises(InvalidPrivacyParameterError, match="too small"):
        DPSGDAccountant(1e-4, 1e-6, 0.5, 10)


def test_poisson_sample_is_seeded_and_has_the_right_rate():
    import torch

    a = poisson_sample(10_000, 0.1, torch.Generator().manual_seed(1))
    b = poisson_sample(10_000, 0.1, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and 900 < len(a) < 1100
    assert len(torch.unique(a)) == len(a)  # without replacement within a step


def _calls(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, (ast.Name, ast.Attribute)):
                base = f.value.id if isinstance(f.value, ast.Name) else f.value.attr
                names.add(f"{base}.{f.attr}")
    return names


def test_no_global_seeding_in_our_code_or_the_opacus_paths_we_use():
    ours = ["synthgen/privacy/dpsgd.py", "synthgen/privacy/accountants.py",
            *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "synthgen/generators/ctgan").glob("*.py"))]
    assert len(ours) > 6
    for p in ours:
        calls = _calls(ROOT / p)
        assert not calls & {"torch.manual_seed", "random.seed", "np.random.seed", "torch.seed"}, p
    import opacus

    base = Path(opacus.__file__).parent
    for rel in ["grad_sample/grad_sample_module_fast_gradient_clipping.py",
                "optimizers/optimizer_fast_gradient_clipping.py", "optimizers/optimizer.py",
                "utils/fast_gradient_clipping_utils.py", "accountants/prv.py", "accountants/rdp.py"]:
        assert "manual_seed" not in (base / rel).read_text(), rel


def test_only_dpsgd_imports_opacus():
    offenders = []
    for p in (ROOT / "synthgen").rglob("*.py"):
        if p.name == "dpsgd.py" and p.parent.name == "privacy":
            continue
        tree = ast.parse(p.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "opacus" for a in node.names):
                offenders.append(str(p))
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "opacus":
                offenders.append(str(p))
    assert not offenders


def test_dp_sgd_step_clips_and_noises_with_the_given_generator():
    """One ghost-clipping step: the update equals (sum of clipped grads + seeded noise) / expected batch."""
    import torch

    from synthgen.privacy.dpsgd import make_private_ghost

    def run(seed):
        lin = torch.nn.Linear(3, 1)
        with torch.no_grad():
            lin.weight.zero_()
            lin.bias.zero_()
        opt = torch.optim.SGD(lin.parameters(), lr=1.0)
        priv = make_private_ghost(lin, opt, torch.nn.BCEWithLogitsLoss(), noise_multiplier=0.0 if seed is None
                                  else 1.0, max_grad_norm=0.1, expected_batch_size=4,
                                  noise_generator=torch.Generator().manual_seed(seed or 0))
        x = torch.tensor([[100.0, 0, 0], [0, 100.0, 0], [0, 0, 100.0], [1.0, 1.0, 1.0]])
        y = torch.ones(4)
        loss = priv.criterion(priv.module(x).squeeze(1), y)
        loss.backward()
        priv.optimizer.step()
        return torch.cat([lin.weight.flatten(), lin.bias]).detach().numpy()

    no_noise = run(None)
    # each row's gradient is clipped to norm 0.1, so the summed update has norm <= 4 * 0.1, divided by 4
    assert np.linalg.norm(no_noise) <= 0.1 + 1e-6
    assert np.allclose(run(3), run(3)) and not np.allclose(run(3), run(4))


def test_row_count_split_adds_up_and_its_gaussian_is_exactly_dp():
    from synthgen.privacy.analysis.dpsgd_plan import gaussian_noise_multiplier, row_count_split
    from synthgen.privacy.analysis.zcdp import gaussian_exact_delta

    eps0, dlt0, eps1, dlt1 = row_count_split(1.0, 1e-6)
    assert eps0 + eps1 == pytest.approx(1.0) and dlt0 + dlt1 == pytest.approx(1e-6) and 0 < eps0 < 0.1
    m = gaussian_noise_multiplier(eps0, dlt0)
    assert gaussian_exact_delta(eps0, m) <= dlt0 < gaussian_exact_delta(eps0, m * 0.999)


def test_sample_rate_comes_from_the_estimate_and_is_clamped_to_public_bounds():
    from synthgen.privacy.analysis.dpsgd_plan import (MAX_SAMPLE_RATE, clamp_rows, rows_estimate, sample_rate,
                                                      worst_case_rate)

    assert sample_rate(250, 25_000.0) == pytest.approx(0.01)
    assert sample_rate(250, 10.0) == MAX_SAMPLE_RATE and sample_rate(250, -40.0) == MAX_SAMPLE_RATE
    assert worst_case_rate(250, None) == MAX_SAMPLE_RATE and worst_case_rate(250, 10_000) == pytest.approx(0.025)
    assert clamp_rows(5.0, 100, 1000) == 100 and clamp_rows(5000.0, 100, 1000) == 1000 and clamp_rows(-3.0) == 1
    # inverse-variance weighted mean of the noisy totals: a 2-cell and an 8-cell histogram
    est, sd = rows_estimate([100.0, 120.0], [2, 8], 1.0)
    assert est == pytest.approx((100 / 2 + 120 / 8) / (1 / 2 + 1 / 8)) and sd == pytest.approx((1 / 2 + 1 / 8) ** -0.5)
