import numpy as np
import pytest

from tomopress.metrics.phantoms3d import ball_phantom
from tomopress.metrics.summary import summary_metrics
from tomopress.types import AM, SE, VOID


def test_ball_in_electrolyte_gives_full_contact_and_its_volume():
    labels = ball_phantom((32, 32, 32), radius_vox=10, centre_offset_vox=(0.2, -0.1, 0.3),
                          inside=AM, outside=SE)
    record = summary_metrics(labels, voxel_size_um=0.5)
    assert record["contact_area_fraction"] == 1.0  # AM touches only SE
    assert record["volume_fraction_am"] == pytest.approx(4 / 3 * np.pi * 10**3 / 32**3, rel=0.02)
    assert record["area_am_se_um2"] == pytest.approx(4 * np.pi * 5.0**2, rel=0.01)
    assert record["porosity"] == 0.0


def test_missing_phase_gives_nulls_with_a_reason():
    labels = np.full((4, 4, 4), SE, dtype=np.uint8)
    labels[:2] = VOID
    record = summary_metrics(labels, voxel_size_um=1.0)
    assert record["porosity"] == 0.5
    assert record["contact_area_fraction"] is None
    assert record["contact_null_reason"] == "no am phase"
    assert record["contact_anisotropy_R"] is None and record["anisotropy_null_reason"] == "no am phase"


def test_only_and_unknown_families():
    labels = np.zeros((2, 2, 2), dtype=np.uint8)
    assert "contact_area_fraction" not in summary_metrics(labels, voxel_size_um=1, only=["fractions"])
    with pytest.raises(ValueError, match="unknown metric families \\['colour'\\]"):
        summary_metrics(labels, voxel_size_um=1, only=["colour"])


def test_vertical_se_channels_give_unit_tortuosities_and_am_without_se_gives_nulls():
    labels = np.full((12, 16, 16), AM, dtype=np.uint8)
    labels[:, 4:8, 4:8] = SE  # a straight SE channel through an AM block
    details = {}
    record = summary_metrics(labels, voxel_size_um=0.5, details=details)
    assert record["tau_geo_min"] == 1.0 and record["tau_geo_max"] == 1.0
    assert record["tau_factor"] == pytest.approx(1.0, abs=1e-6)
    assert record["se_fraction_through"] == 1.0
    assert [row["tau_geo"] for row in details["tortuosity_paths"]] == [1.0] * 16
    assert {(row["outlet_y_vox"], row["outlet_x_vox"]) for row in details["tortuosity_paths"]} == {
        (y, x) for y in range(4, 8) for x in range(4, 8)
    }
    no_se = summary_metrics(np.full((4, 4, 4), AM, np.uint8), voxel_size_um=1.0)
    assert no_se["tau_factor"] is None and no_se["diffusion_null_reason"] == "no se phase"


def test_particle_rows_give_the_volume_of_each_ball():
    """Two separate balls of radius 5 and 7 voxels inside SE: two rows, volumes ≈ 4/3 π r³."""
    z, y, x = np.mgrid[:40, :40, :40]
    labels = np.full((40, 40, 40), SE, dtype=np.uint8)
    labels[(z - 12) ** 2 + (y - 12) ** 2 + (x - 12) ** 2 <= 25] = AM
    labels[(z - 26) ** 2 + (y - 26) ** 2 + (x - 26) ** 2 <= 49] = AM
    details = {}
    summary_metrics(labels, voxel_size_um=1.0, only=["particles"], details=details)
    volumes = sorted(row["volume_um3"] for row in details["particles"])
    assert volumes == pytest.approx([4 / 3 * np.pi * 125, 4 / 3 * np.pi * 343], rel=0.06)
