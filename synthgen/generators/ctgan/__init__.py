"""DP-CTGAN (:mod:`.model`) and its parts: :mod:`.plan` (public decisions), :mod:`.counts` (the measure step),
:mod:`.encoder`, :mod:`.networks`, :mod:`.losses`, :mod:`.training` (DP-SGD); :mod:`.baseline` is the non-DP
CTGAN of the ``ctgan`` package (optional extra). Import classes from their modules or through the registry."""
