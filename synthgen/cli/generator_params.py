"""What ``synthgen generators --params NAME`` shows: a generator's ``--param`` keys with their types, defaults and
one-line docs, read from its ``__init__`` signature and class docstring (nothing here touches data).

Two docstring styles are read: a numpydoc ``Parameters`` section (``name:`` or ``name, other : text`` entries,
continuation lines indented, ended by a blank line) and, where that gives nothing for a parameter, an inline
````name```` followed by a parenthesised description, as in DP-CTGAN's docstring.
"""
from __future__ import annotations

import inspect
import re
from typing import Any

_SECTION = re.compile(r"^Parameters\s*\n-{3,}\s*\n", re.M)
_ENTRY = re.compile(r"^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:\s*(.*)$")
_INLINE = re.compile(r"``([A-Za-z_]\w*)``\s*\(")


def _clean(text: str) -> str:
    text = re.sub(r":\w+:`~?([^`]+)`", lambda m: m.group(1).split(".")[-1], text)  # :func:`~a.b.c` -> c
    return re.sub(r"\s+", " ", text.replace("``", "")).strip()


def first_sentence(text: str, width: int = 90) -> str:
    """The first sentence of a doc, at most ``width`` characters (for the human listing)."""
    head = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]
    return head if len(head) <= width else head[:width - 3].rstrip() + "..."


def _numpydoc(doc: str) -> dict[str, str]:
    m = _SECTION.search(doc)
    if not m:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        for n in names:
            out[n] = _clean(" ".join(parts))

    for line in doc[m.end():].splitlines():
        entry = _ENTRY.match(line)
        if not line.strip() or (not line[:1].isspace() and entry is None):
            break
        if entry is not None and not line[:1].isspace():
            flush()
            names, parts = [n.strip() for n in entry.group(1).split(",")], [entry.group(2)]
        else:
            parts.append(line)
    flush()
    return out


def _inline(doc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _INLINE.finditer(doc):
        depth, i = 1, m.end()
        while i < len(doc) and depth:
            depth += {"(": 1, ")": -1}.get(doc[i], 0)
            i += 1
        out.setdefault(m.group(1), _clean(doc[m.end():i - 1]))
    return out


def param_docs(doc: str) -> dict[str, str]:
    """Parameter name -> its description, from a class docstring (see the module docstring)."""
    inline = _inline(doc)
    return {**inline, **_numpydoc(doc)}


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))


def describe_params(cls: type) -> list[dict]:
    """One row per ``__init__`` parameter: name, type, required, default (JSON-ready) and doc."""
    from .._json import jsonable

    docs = param_docs(inspect.getdoc(cls) or "")
    rows = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        required = p.default is inspect.Parameter.empty
        rows.append({"name": p.name, "type": _type_name(p.annotation), "required": required,
                     "default": None if required else jsonable(p.default), "doc": docs.get(p.name, "")})
    return rows
