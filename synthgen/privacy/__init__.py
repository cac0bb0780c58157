"""Everything about privacy in one reviewable place: mechanisms (the only noise), accounting, the ledger.

Neighbouring relation throughout: datasets differing by adding or removing one row.
"""
from .accountants import ZCDPBudget
from .ledger import Charge, PrivacyLedger, Reservation
from .mechanisms import SecureRandom, noise_source
from .spend import NEIGHBOURING, DPSpend, NoGuarantee, PrivacySpend, check_epsilon_delta, spend_from_dict

__all__ = [
    "NEIGHBOURING", "Charge", "DPSpend", "NoGuarantee", "PrivacyLedger", "PrivacySpend", "Reservation",
    "SecureRandom", "ZCDPBudget", "check_epsilon_delta", "noise_source", "spend_from_dict",
]
