"""Raw-scan readers: DXchange HDF5, NeXus NXtomo and TIFF stacks behind one `Scan` interface.

Open any raw scan with `open_scan`; it reads the header only, and pixels are read later, a
range of detector rows at a time.
"""

from tomopress.io.base import Scan
from tomopress.io.dxchange import DXchangeScan
from tomopress.io.formats import FORMATS, detect_format, open_scan
from tomopress.io.nxtomo import NXtomoPaths, NXtomoScan
from tomopress.io.tiffstack import TiffLayout, TiffStackScan

__all__ = [
    "FORMATS",
    "DXchangeScan",
    "NXtomoPaths",
    "NXtomoScan",
    "Scan",
    "TiffLayout",
    "TiffStackScan",
    "detect_format",
    "open_scan",
]
