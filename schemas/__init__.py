"""JSON Schemas shipped with synthgen (installed as the ``synthgen.schemas`` package)."""
