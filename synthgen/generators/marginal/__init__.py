"""dp-marginal: AIM-style marginal-based DP synthesis on mbi (see :mod:`.dp`). JAX and mbi load lazily, on the first
estimation or sample, never on ``import synthgen``."""
