"""Label conventions and array type aliases shared by every module."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "VOID",
    "SE",
    "AM",
    "OUTSIDE",
    "PHASES",
    "LAYERS",
    "LabelVolume",
    "F32Array",
    "F64Array",
]

VOID: Final = 0
SE: Final = 1
AM: Final = 2
OUTSIDE: Final = 255
#: phase name -> label value, in label order
PHASES: Final = {"void": VOID, "se": SE, "am": AM}
#: the two analysed layers: the composite cathode and the solid-electrolyte separator
LAYERS: Final = ("composite", "separator")

LabelVolume = npt.NDArray[np.uint8]
F32Array = npt.NDArray[np.float32]
F64Array = npt.NDArray[np.float64]
