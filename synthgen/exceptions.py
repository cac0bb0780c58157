"""Typed errors. Every error synthgen raises on purpose derives from :class:`SynthgenError`.

Messages say what was expected, what came, and how to fix it. They never quote private values.
"""
from __future__ import annotations


class SynthgenError(Exception):
    """Root of every error synthgen raises on purpose."""


class SchemaError(SynthgenError, ValueError):
    """A schema file or object is malformed or inconsistent."""


class DataValidationError(SynthgenError, ValueError):
    """Data does not conform to its declared schema.

    ``violations`` lists every problem found (never only the first), each a
    :class:`synthgen.schema.Violation` naming the column.
    """

    def __init__(self, message: str, violations: tuple = ()):
        super().__init__(message)
        self.violations = tuple(violations)


class NotFittedError(SynthgenError, RuntimeError):
    """A generator was used before ``fit``."""


class PrivacyError(SynthgenError):
    """Bad privacy parameters or a privacy rule would be broken."""


class InvalidPrivacyParameterError(PrivacyError, ValueError):
    """epsilon/delta/sigma out of range."""


class BudgetExceededError(PrivacyError):
    """A charge would exceed the ledger's total budget. Raised before any work is done."""


class LedgerError(PrivacyError):
    """A ledger file is missing, unreadable or in an invalid state."""


class InferredSchemaError(PrivacyError):
    """A DP generator was given a schema whose bounds/categories were inferred from the data."""


class ModelIntegrityError(SynthgenError):
    """A saved model directory is corrupt, tampered with or of an unknown format."""


class RegistryError(SynthgenError, KeyError):
    """Unknown or duplicate generator name."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ConfigError(SynthgenError, ValueError):
    """A release config or generator parameter is invalid."""


class InputError(SynthgenError, ValueError):
    """An input file or argument cannot be used (missing file, unreadable format, ...)."""


class ReleaseStepError(SynthgenError):
    """A step of ``synthgen run`` after the fit failed: the budget was spent (the fit read the data), the fitted
    model was kept (``model_dir``), no release was written. ``internal``: the cause was a bug, not bad input."""

    def __init__(self, message: str, *, step: str, model_dir: str | None, internal: bool = False):
        super().__init__(message)
        self.step, self.model_dir, self.internal = step, model_dir, internal
