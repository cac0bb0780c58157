"""Pure privacy math: no state, no randomness, no I/O."""
from .zcdp import (
    exponential_mechanism_rho,
    gaussian_exact_delta,
    gaussian_exact_epsilon,
    gaussian_rho,
    gaussian_sigma,
    pure_dp_rho,
    zcdp_delta,
    zcdp_epsilon,
    zcdp_epsilon_simple,
    zcdp_rho,
)

__all__ = [
    "exponential_mechanism_rho", "gaussian_exact_delta", "gaussian_exact_epsilon", "gaussian_rho", "gaussian_sigma",
    "pure_dp_rho", "zcdp_delta", "zcdp_epsilon", "zcdp_epsilon_simple", "zcdp_rho",
]
