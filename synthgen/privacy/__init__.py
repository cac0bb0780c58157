"""Everything about privacy in one reviewable place: mechanisms (the only noise), where noise comes from
(OS entropy, never a user seed), accounting, the ledger.

Neighbouring relation throughout: datasets differing by adding or removing one row.
"""
from .accountants import ZCDPBudget
from .ledger import Charge, PrivacyLedger, Reservation, charge
from .mechanisms import SecureRandom
from .noise import privacy_noise, unsafe_seeded_noise
from .spend import (NEIGHBOURING, DPSpend, NoGuarantee, PrivacySpend, check_epsilon_delta, default_delta,
                    resolve_delta, spend_from_dict)

__all__ = [
    "NEIGHBOURING", "Charge", "DPSpend", "NoGuarantee", "PrivacyLedger", "PrivacySpend", "Reservation",
    "SecureRandom", "ZCDPBudget", "charge", "check_epsilon_delta", "default_delta", "privacy_noise",
    "resolve_delta", "spend_from_dict", "unsafe_seeded_noise",
]
