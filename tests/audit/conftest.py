"""The audit tests reuse the planted privacy bugs of tests/privacy/planted (imported as ``planted``)."""
import sys
from pathlib import Path

PRIVACY_TESTS = str(Path(__file__).resolve().parents[1] / "privacy")
if PRIVACY_TESTS not in sys.path:
    sys.path.insert(0, PRIVACY_TESTS)
