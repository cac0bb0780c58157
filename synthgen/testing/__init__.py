"""Test helpers shipped with synthgen: the contract every registered generator must pass."""
