"""Command-line value parsing shared by the commands."""
from __future__ import annotations

import json
from typing import Any

from ..exceptions import ConfigError


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as JSON when possible (numbers, booleans, null, lists), else strings."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--param {item!r} must look like key=value, e.g. --param epochs=10.")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params
