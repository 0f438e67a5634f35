import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from tomopress.tables.figures import (
    ALWAYS,
    FIGURE_TABLES,
    RESOLUTION_NOTE,
    anisotropy_figure,
    contact_fraction_figure,
    save_png,
    tortuosity_figure,
    wanted_figures,
    write_figures,
)
from tomopress.tables.schemas import SCHEMAS

PRESSURES = (6.0, 50.0, 100.0)


def _frame(name, rows):
    """A frame with every column of table `name` (NaN where a row does not set it)."""
    return pd.DataFrame.from_records(rows, columns=SCHEMAS[name].names)


def _ids(p, layer):
    return {"scan_id": f"s{p:g}", "sample": "c", "pressure_mpa": p, "layer": layer}


def _tables():
    rng = np.random.default_rng(16602)
    metrics, orientation, profiles, scans = [], [], [], []
    for i, p in enumerate(PRESSURES):
        for layer, void in (("composite", 0.23 - 0.05 * i), ("separator", 0.05 - 0.01 * i)):
            metrics.append({**_ids(p, layer), "porosity": void, "volume_fraction_void": void,
                            "volume_fraction_se": 0.5 - void / 2, "volume_fraction_am": 0.5 - void / 2,
                            "contact_area_fraction": 0.6 + 0.05 * i,
                            "specific_contact_area_per_um": 0.1 + 0.01 * i,
                            "contact_anisotropy_R": 1.1 + 0.02 * i})
            for b in range(4):
                cov = 0.5 + 0.1 * b
                orientation += [{**_ids(p, layer), "interface": "am_se", "u_bin": b,
                                 "u_low": b / 4, "u_high": (b + 1) / 4, "coverage": cov},
                                {**_ids(p, layer), "interface": "am_void", "u_bin": b,
                                 "u_low": b / 4, "u_high": (b + 1) / 4, "coverage": 1 - cov}]
            for z in range(5):
                profiles.append({**_ids(p, layer), "plane": z, "z_row": 10 + z, "z_um": z + 0.5,
                                 "volume_fraction_void": void, "volume_fraction_se": 0.5,
                                 "volume_fraction_am": 0.5 - void})
        scans.append({"scan_id": f"s{p:g}", "pressure_mpa": p, "center_offset_px": rng.normal(),
                      "center_confidence": 0.9, "threshold_low_per_cm": 10.0,
                      "threshold_high_per_cm": 50.0, "level_se_per_cm": 20.0,
                      "time_reconstruct_s": 3.0, "time_metrics_s": 1.0})
    tortuosity = [{**_ids(p, "composite"), "tau_geo": t}
                  for p in PRESSURES for t in 1.0 + rng.gamma(2.0, 0.1, size=50)]
    return {"metrics": _frame("metrics", metrics), "orientation": _frame("orientation", orientation),
            "profiles": _frame("profiles", profiles), "scans": _frame("scans", scans),
            "tortuosity": _frame("tortuosity", tortuosity)}


@pytest.fixture(scope="module")
def table_paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    paths = {}
    for name, frame in _tables().items():
        paths[name] = str(root / f"{name}.parquet")
        frame.to_parquet(paths[name])
    return paths


def _not_blank(path):
    pixels = matplotlib.image.imread(path)
    return pixels.ndim == 3 and pixels.shape[0] > 100 and float(pixels[..., :3].var()) > 0


@pytest.mark.parametrize("name", FIGURE_TABLES)
def test_every_figure_is_written_and_not_blank(table_paths, tmp_path, name):
    import matplotlib.pyplot as plt

    out = str(tmp_path / f"{name}.png")
    assert write_figures(table_paths, {name: out}) == [out]
    assert _not_blank(out)
    assert plt.get_fignums() == []  # the library never touches pyplot's figure manager
    assert not list(tmp_path.glob(".tmp-*"))


def test_tortuosity_figure_refuses_to_draw_a_placeholder():
    empty = _frame("tortuosity", [])
    with pytest.raises(ValueError, match="no rows"):
        tortuosity_figure(empty)
    with pytest.raises(ValueError, match="no finite tau_geo"):
        tortuosity_figure(_frame("tortuosity", [{**_ids(6.0, "composite"), "tau_geo": np.nan}]))


def test_anisotropy_without_orientation_rows_draws_one_panel(tmp_path):
    tables = _tables()
    fig = anisotropy_figure(tables["metrics"], tables["orientation"].iloc[:0])
    assert len(fig.axes) == 1
    save_png(fig, tmp_path / "a.png")
    assert _not_blank(tmp_path / "a.png")


def test_contact_panels_say_their_error_bars_leave_out_the_resolution_bias():
    tables = _tables()
    panels = (contact_fraction_figure(tables["metrics"]).axes[0],
              anisotropy_figure(tables["metrics"], tables["orientation"]).axes[0])
    for ax in panels:
        assert RESOLUTION_NOTE in [t.get_text() for t in ax.texts]


def test_contact_panels_give_the_range_of_the_probed_resolutions():
    tables = _tables()
    metrics = tables["metrics"]
    composite = metrics["layer"] == "composite"
    metrics.loc[composite, "contact_gap_resolution_um"] = [0.8, 1.25, 0.95]
    metrics.loc[composite, "contact_film_resolution_um"] = [1.6, np.nan, 1.6]
    metrics.loc[~composite, "contact_gap_resolution_um"] = 9.0  # separator rows: not shown
    texts = [t.get_text() for t in contact_fraction_figure(metrics).axes[0].texts]
    assert any(t.endswith("probe: gaps < 0.80-1.25 µm read as contact,\nSE films < 1.60 µm as gaps")
               for t in texts)


def test_tortuosity_figure_waits_for_the_config():
    built, pending = wanted_figures({"orientation": True})
    assert built == list(ALWAYS) and pending == ["tortuosity"]
    assert wanted_figures({"tortuosity": True})[1] == []
    assert wanted_figures({"tortuosity": {"enabled": False}})[1] == ["tortuosity"]


def test_unknown_figure_or_missing_table_is_named(table_paths, tmp_path):
    with pytest.raises(ValueError, match="unknown figure"):
        write_figures(table_paths, {"fig9": str(tmp_path / "x.png")})
    with pytest.raises(ValueError, match="need table"):
        write_figures({}, {"porosity": str(tmp_path / "x.png")})
