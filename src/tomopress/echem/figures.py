"""Electrochemistry figures across the pressure series (issue 15; the paper's Fig. 2 and 6).

| file | content |
|---|---|
| ``nyquist.png`` | Nyquist plot of every spectrum with its fit, one panel per pressure |
| ``conductivity.png`` | σ_app, predicted σ_pred and σ_eff per layer vs pressure; σ_app vs σ_pred |
| ``charge_transfer.png`` | R_ct vs pressure, and vs 1/a_c (with the proportional line) |
| ``capacity.png`` | first discharge capacity and retention vs pressure |

Drawn with the Agg canvas of :mod:`tomopress.tables.figures` and written atomically.
Error bars are the 1-sigma ``*_uncertainty`` columns.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tomopress.tables.figures import save_png

__all__ = [
    "ECHEM_FIGURES",
    "capacity_figure",
    "charge_transfer_figure",
    "conductivity_figure",
    "nyquist_figure",
    "write_echem_figures",
]

log = logging.getLogger(__name__)

#: the figures (PNG stems) this module draws
ECHEM_FIGURES = ("nyquist", "conductivity", "charge_transfer", "capacity")


def _figure(n_cols: int, n_rows: int = 1, *, width_in: float = 4.2, height_in: float = 3.4
            ) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width_in * n_cols, height_in * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False).ravel())
    return fig, axes


def _errorbar(ax: Axes, frame: pd.DataFrame, x: str, y: str, **style: Any) -> None:
    err = frame.get(f"{y}_uncertainty")
    ax.errorbar(frame[x], frame[y], yerr=None if err is None else err.fillna(0.0), capsize=3,
                **style)


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def nyquist_figure(records: Mapping[str, Mapping[str, Any]], pressures: Mapping[str, float]
                   ) -> Figure:
    """Nyquist plot (−Z'' vs Z') of each scan's spectrum and fit, one panel per pressure."""
    scans = sorted((s for s, r in records.items() if r.get("eis")), key=lambda s: pressures[s])
    n = max(len(scans), 1)
    n_cols = min(n, 3)
    fig, axes = _figure(n_cols, math.ceil(n / n_cols), width_in=4.0, height_in=2.6)
    for ax, scan in zip(axes, scans, strict=False):
        eis = records[scan]["eis"]
        data = eis["spectrum"]
        ax.plot(data["z_real_ohm"], -np.asarray(data["z_imag_ohm"]), "o", ms=3, mfc="none",
                color="C0", label="data")
        if eis.get("curve"):
            curve = eis["curve"]
            ax.plot(curve["z_real_ohm"], -np.asarray(curve["z_imag_ohm"]), "-", color="C3",
                    label=f"fit {eis['fit']['circuit']}")
        ax.set_title(f"{scan}: {pressures[scan]:g} MPa", fontsize=9)
        ax.set_xlabel("Z' (Ω)")
        ax.set_ylabel("−Z'' (Ω)")
        x, y = np.asarray(data["z_real_ohm"]), -np.asarray(data["z_imag_ohm"])
        x0, y0 = min(float(x.min()), 0.0), min(float(y.min()), 0.0)
        pad = 0.03 * (float(x.max()) - x0)
        ax.set_xlim(x0 - pad, float(x.max()) + pad)
        ax.set_ylim(y0 - pad, float(y.max()) + 4 * pad)
        ax.set_aspect("equal", adjustable="box")  # equal scales, the Nyquist convention
        ax.legend(fontsize=6, loc="lower center")
        kk = eis.get("kk") or {}
        ax.text(0.98, 0.96, f"KK residual {100 * kk.get('residual_rms', math.nan):.1f} %",
                transform=ax.transAxes, ha="right", va="top", fontsize=7)
    for ax in axes[len(scans):]:
        ax.set_axis_off()
    if not scans:
        _no_data(axes[0], "no impedance spectra in the sample sheet")
    return fig


def conductivity_figure(table: pd.DataFrame) -> Figure:
    """σ_app and the structure's predictions vs pressure; σ_app against σ_pred."""
    fig, (ax, ax2) = _figure(2)
    frame = table.sort_values("pressure_mpa")
    for column, label, style in (
            ("sigma_app_s_per_cm", "σ_app measured (EIS)", dict(fmt="o-", color="C0")),
            ("sigma_pred_s_per_cm", "σ_pred (structure, series)", dict(fmt="s--", color="C3")),
            ("sigma_eff_separator_s_per_cm", "σ_eff separator", dict(fmt="^:", color="C2")),
            ("sigma_eff_composite_s_per_cm", "σ_eff composite", dict(fmt="v:", color="C1"))):
        if frame[column].notna().any():
            _errorbar(ax, frame, "pressure_mpa", column, label=label, **style)
    ax.set_yscale("log")
    ax.set_xlabel("stack pressure (MPa)")
    ax.set_ylabel("conductivity (S/cm)")
    ax.legend(fontsize=7)
    both = frame.dropna(subset=["sigma_app_s_per_cm", "sigma_pred_s_per_cm"])
    if both.empty:
        _no_data(ax2, "no σ_app (needs a spectrum, area and thickness)")
    else:
        ms = 1e3  # S/cm -> mS/cm
        pred, app = both["sigma_pred_s_per_cm"] * ms, both["sigma_app_s_per_cm"] * ms
        ax2.errorbar(pred, app, xerr=both["sigma_pred_s_per_cm_uncertainty"].fillna(0.0) * ms,
                     yerr=both["sigma_app_s_per_cm_uncertainty"].fillna(0.0) * ms, fmt="o",
                     capsize=3)
        for x, y, p in zip(pred, app, both["pressure_mpa"], strict=True):
            ax2.annotate(f"{p:g} MPa", (x, y), fontsize=7, xytext=(3, -9),
                         textcoords="offset points")
        lo, hi = min(pred.min(), app.min()) * 0.8, max(pred.max(), app.max()) * 1.2
        ax2.plot([lo, hi], [lo, hi], "k:", lw=1, label="σ_app = σ_pred")
        ratio = float(np.median(both["sigma_ratio"]))
        ax2.plot([lo, hi], [lo * ratio, hi * ratio], "C3--", lw=1,
                 label=f"median ratio {ratio:.2f}")
        ax2.set_xlabel("σ_pred from structure (mS/cm)")
        ax2.set_ylabel("σ_app measured (mS/cm)")
        ax2.legend(fontsize=7)
    return fig


def charge_transfer_figure(table: pd.DataFrame) -> Figure:
    """R_ct vs pressure, and R_ct vs 1/a_c with the least-squares line through the origin."""
    fig, (ax, ax2) = _figure(2)
    frame = table.dropna(subset=["r_ct_ohm"]).sort_values("pressure_mpa")
    if frame.empty:
        _no_data(ax, "no R_ct (no spectrum fitted)")
        _no_data(ax2, "no R_ct")
        return fig
    _errorbar(ax, frame, "pressure_mpa", "r_ct_ohm", fmt="o-", color="C0")
    ax.set_xlabel("stack pressure (MPa)")
    ax.set_ylabel("R_ct (Ω)")
    joined = frame.dropna(subset=["specific_contact_area_per_um"])
    if joined.empty:
        _no_data(ax2, "no a_c in the metrics")
        return fig
    inv = 1.0 / joined["specific_contact_area_per_um"]
    inv_err = (joined["specific_contact_area_per_um_uncertainty"].fillna(0.0)
               / joined["specific_contact_area_per_um"] ** 2)
    ax2.errorbar(inv, joined["r_ct_ohm"], xerr=inv_err,
                 yerr=joined["r_ct_ohm_uncertainty"].fillna(0.0), fmt="o", capsize=3)
    for x, (_, row) in zip(inv, joined.iterrows(), strict=True):
        ax2.annotate(f"{row['pressure_mpa']:g} MPa", (x, row["r_ct_ohm"]), fontsize=7,
                     xytext=(3, 3), textcoords="offset points")
    slope = float(np.sum(inv * joined["r_ct_ohm"]) / np.sum(inv**2))
    xs = np.linspace(0, inv.max() * 1.1, 20)
    ax2.plot(xs, slope * xs, "C3--", lw=1, label=f"R_ct = {slope:.3g} Ω·µm / a_c")
    ax2.set_xlim(left=0)
    ax2.set_ylim(bottom=0)
    ax2.set_xlabel("1 / a_c (µm)")
    ax2.set_ylabel("R_ct (Ω)")
    ax2.legend(fontsize=7)
    return fig


def capacity_figure(table: pd.DataFrame) -> Figure:
    """First discharge capacity and capacity retention vs pressure."""
    fig, (ax,) = _figure(1)
    frame = table.dropna(subset=["first_discharge_capacity_mah_per_g"]).sort_values("pressure_mpa")
    if frame.empty:
        _no_data(ax, "no cycling files in the sample sheet")
        return fig
    ax.plot(frame["pressure_mpa"], frame["first_discharge_capacity_mah_per_g"], "o-", color="C0",
            label="first discharge")
    ax.set_xlabel("stack pressure (MPa)")
    ax.set_ylabel("first discharge capacity (mAh/g)", color="C0")
    twin = ax.twinx()
    twin.plot(frame["pressure_mpa"], 100 * frame["capacity_retention"], "s--", color="C3")
    last = frame["retention_cycle"].dropna()
    twin.set_ylabel(f"retention at cycle {int(last.max()) if len(last) else '?'} (%)",
                    color="C3")
    return fig


def write_echem_figures(
    *, table_path: str, record_paths: list[str], out_paths: Mapping[str, str],
) -> list[str]:
    """Draw every figure named in `out_paths` (keys from :data:`ECHEM_FIGURES`) from the
    electrochemistry table and the scans' fitted records (JSON, each naming its scan_id)."""
    table = pd.read_parquet(table_path)
    pressures = dict(zip(table["scan_id"], table["pressure_mpa"], strict=True))
    records = {}
    for path in record_paths:
        record = json.loads(Path(path).read_text())
        records[record["scan_id"]] = record
    draw = {
        "nyquist": lambda: nyquist_figure(records, pressures),
        "conductivity": lambda: conductivity_figure(table),
        "charge_transfer": lambda: charge_transfer_figure(table),
        "capacity": lambda: capacity_figure(table),
    }
    written = []
    for name, path in out_paths.items():
        if name not in draw:
            raise ValueError(f"unknown electrochemistry figure {name!r}; known: {ECHEM_FIGURES}")
        save_png(draw[name](), path)
        written.append(str(path))
        log.info("figure %s", path)
    return written
