"""Planted privacy bugs (plants.py) and the statistical privacy checks that must catch them (checks.py)."""
