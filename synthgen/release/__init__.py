"""Releases: the ``release.yaml`` config (:mod:`.config`), the pipeline fit -> sample -> evaluate -> validate ->
write (:mod:`.pipeline`) and the release gate (:mod:`.gate`).

Only the config's names are re-exported here (they are light); import the pipeline and the gate from their
modules, so that ``import synthgen.release`` stays cheap and creates no import circle.
"""
from .config import THRESHOLD_KEYS, THRESHOLD_METRICS, ReleaseConfig, Thresholds, load_release_config, \
    release_config_from_dict

__all__ = ["THRESHOLD_KEYS", "THRESHOLD_METRICS", "ReleaseConfig", "Thresholds", "load_release_config",
           "release_config_from_dict"]
