"""The version of synthgen: one place, read by the package, the evaluators and pyproject."""
__version__ = "0.1.0"
