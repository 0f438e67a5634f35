"""Fixtures for the raw-data readers: the real scans in ../shared/data and small synthetic files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real test data not available: {path} is missing (shared/data absent)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder beside the project root; skips when it is absent."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def tooth_path(shared_data: Path) -> Path:
    """tomopy's DXchange tooth scan (181 x 2 x 640 float32)."""
    return _require(shared_data / "tomopy_tooth" / "tooth.h5")


@pytest.fixture(scope="session")
def diad_path(shared_data: Path) -> Path:
    """Diamond DIAD NXtomo scan with external links (3201 frames of 22 x 26 uint16)."""
    return _require(shared_data / "httomo_k11_diad" / "k11-18014.nxs")


@pytest.fixture(scope="session")
def savu_path(shared_data: Path) -> Path:
    """Savu TIFF-stack folder (91 projections of 135 x 160 uint16)."""
    return _require(shared_data / "savu_24737_tiff")


def write_dxchange(
    path: Path,
    *,
    n_proj: int = 6,
    shape: tuple[int, int] = (5, 7),
    flats: dict[str, tuple[int, int, int]] | None = None,
    darks: dict[str, tuple[int, int, int]] | None = None,
    n_theta: int | None = None,
    theta_units: str | None = "degrees",
    data: bool = True,
    extra: dict[str, tuple[float, str | None]] | None = None,
) -> Path:
    """Write a small DXchange file whose pixel values encode (frame, row, column).

    Projection pixel = 1000 * frame + 10 * row + column; flats add 100000, darks 200000.
    `flats`/`darks` map dataset names below /exchange to shapes; `extra` maps absolute
    dataset paths to (value, units) scalars.
    """
    rows, cols = shape
    flats = {"data_white": (3, rows, cols)} if flats is None else flats
    darks = {"data_dark": (2, rows, cols)} if darks is None else darks
    with h5py.File(path, "w") as h5:
        if data:
            h5["/exchange/data"] = _ramp((n_proj, rows, cols)).astype(np.uint16)
        for name, fshape in flats.items():
            h5[f"/exchange/{name}"] = (_ramp(fshape) + 30000).astype(np.uint16)
        for name, dshape in darks.items():
            h5[f"/exchange/{name}"] = (_ramp(dshape) + 40000).astype(np.uint16)
        theta = np.linspace(0.0, 180.0, n_proj if n_theta is None else n_theta, endpoint=False)
        h5["/exchange/theta"] = theta
        if theta_units is not None:
            h5["/exchange/theta"].attrs["units"] = theta_units
        for name, (value, units) in (extra or {}).items():
            h5[name] = value
            if units is not None:
                h5[name].attrs["units"] = units
    return path


def _ramp(shape: tuple[int, int, int]) -> np.ndarray:
    f, r, c = np.indices(shape)
    return 1000 * f + 10 * r + c


@pytest.fixture
def make_dxchange(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_dxchange(name="x.h5", **options)`` writes a synthetic DXchange file."""

    def make(name: str = "scan.h5", **options: object) -> Path:
        return write_dxchange(tmp_path / name, **options)  # type: ignore[arg-type]

    return make
