"""Load the JSON Schemas shipped with synthgen (``schemas/*.json``, installed as ``synthgen.schemas``)."""
from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path


@functools.lru_cache(maxsize=None)
def load_json_schema(name: str) -> dict:
    """Return the parsed JSON Schema ``schemas/<name>.schema.json``."""
    filename = f"{name}.schema.json"
    try:
        text = resources.files("synthgen.schemas").joinpath(filename).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        # Running from a source tree that is not installed: the folder sits beside the package.
        text = (Path(__file__).resolve().parent.parent / "schemas" / filename).read_text(encoding="utf-8")
    return json.loads(text)
