"""The CLI tests' fakes now live in :mod:`synthgen.testing.fakes` (one set of test fakes); this shim keeps the
CLI tests' ``import fakegen`` (also used in their subprocesses) working."""
from synthgen.testing.fakes import FakeDP, FakeNoDP, register, unregister  # noqa: F401
