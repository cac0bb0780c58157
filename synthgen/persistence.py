"""Saving and loading models without pickle.

A model is a directory: ``manifest.json`` (format, versions, generator, parameters, schema, privacy spend, JSON
state, sha256 of every file, and a digest of the manifest itself) plus ``arrays.safetensors``. Loading checks
every digest before anything is used and never runs code from the files.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ._json import jsonable, unjsonable
from .exceptions import ModelIntegrityError, SynthgenError
from .io import atomic_directory, sha256_file

MODEL_FORMAT = "synthgen-model/1"
ARRAYS_FILE = "arrays.safetensors"


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def describe_model(model: Any, nonfinite: str = "tag") -> dict:
    """The public facts of a fitted model, shared by its manifest and a release's model card: version, time,
    generator, parameters, schema, privacy spend and the ledger entry it was charged to."""
    from ._version import __version__

    schema = getattr(model, "schema_", None)
    return {
        "synthgen_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generator": model.registry_name,
        "class": type(model).__name__,
        "params": jsonable(model.get_params(), nonfinite=nonfinite),
        "schema": schema.to_dict() if schema is not None else None,  # None: image generators
        "privacy": model.privacy_spent_.to_dict(),
        "ledger_entry": getattr(model, "ledger_entry_", None),
    }


def save_model(model: Any, path: str | Path) -> None:
    from safetensors.numpy import save_file

    state, arrays = model._get_state()
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    for k, v in arrays.items():
        if v.dtype == object:
            raise SynthgenError(f"internal error: array {k!r} has dtype object; only numeric arrays are saved.")
    with atomic_directory(path) as tmp:
        files = {}
        if arrays:
            save_file(arrays, str(tmp / ARRAYS_FILE), metadata={"format": MODEL_FORMAT})
            files[ARRAYS_FILE] = sha256_file(tmp / ARRAYS_FILE)
        manifest = {
            "format": MODEL_FORMAT,
            **describe_model(model),
            "allow_inferred_schema": bool(getattr(model, "allow_inferred_", False)),
            "rows_estimate": float(model.rows_estimate_),
            "state": jsonable(state, nonfinite="tag"),
            "files": files,
        }
        manifest["manifest_sha256"] = hashlib.sha256(_canonical(manifest)).hexdigest()
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def read_manifest(path: str | Path) -> dict:
    """Read and verify a model directory's manifest and files; return the manifest."""
    import jsonschema

    from .resources import load_json_schema

    path = Path(path)
    mpath = path / "manifest.json"
    if not path.is_dir() or not mpath.exists():
        raise ModelIntegrityError(f"{path} is not a synthgen model directory (no manifest.json). "
                                  "Fix: point to the folder written by save()/`synthgen fit --out`.")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelIntegrityError(f"{mpath} is not valid JSON: the model is corrupt.") from None
    errs = list(jsonschema.Draft202012Validator(load_json_schema("manifest")).iter_errors(manifest))
    if errs:
        raise ModelIntegrityError(f"{mpath} is not a valid synthgen manifest: {errs[0].message}.")
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    if hashlib.sha256(_canonical(body)).hexdigest() != manifest["manifest_sha256"]:
        raise ModelIntegrityError(f"{mpath} was modified after it was saved (manifest digest mismatch). "
                                  "Refit the model or restore the original files.")
    for name, digest in manifest["files"].items():
        fp = path / name
        if Path(name).name != name or not fp.is_file():
            raise ModelIntegrityError(f"Model file {name!r} listed in the manifest is missing from {path}.")
        if sha256_file(fp) != digest:
            raise ModelIntegrityError(f"Model file {fp} does not match its sha256 in the manifest: it is corrupt "
                                      "or was tampered with. Refit the model or restore the original files.")
    return manifest


def load_model(path: str | Path) -> Any:
    """Load any saved synthgen model (the generator class comes from the registry, never from the file)."""
    from safetensors.numpy import load_file

    from .generators import registry
    from .privacy.spend import spend_from_dict
    from .schema import Schema

    path = Path(path)
    manifest = read_manifest(path)
    cls = registry.get(manifest["generator"])
    if cls.__name__ != manifest["class"]:
        raise ModelIntegrityError(f"Manifest names class {manifest['class']!r} but generator "
                                  f"{manifest['generator']!r} is {cls.__name__}.")
    arrays = load_file(str(path / ARRAYS_FILE)) if ARRAYS_FILE in manifest["files"] else {}
    model = cls(**unjsonable(manifest["params"]))
    model.schema_ = Schema.from_dict(manifest["schema"]) if manifest["schema"] is not None else None  # None: images
    model.privacy_spent_ = spend_from_dict(manifest["privacy"])
    model.allow_inferred_ = bool(manifest.get("allow_inferred_schema", False))
    model.rows_estimate_ = float(manifest["rows_estimate"])
    model.ledger_entry_ = manifest.get("ledger_entry")
    if model.schema_ is not None:
        model.n_features_in_ = len(model.schema_.learnable)
    model._set_state(unjsonable(manifest["state"]), arrays)
    model._restore()
    return model
