"""Generators: ``base`` (the contract), ``registry`` (names -> classes, imported lazily), one module or
sub-package per family. Import classes from their modules or through :mod:`synthgen.generators.registry`."""
