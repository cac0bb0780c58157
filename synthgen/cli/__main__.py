"""``python -m synthgen.cli``."""
from . import main

main()
