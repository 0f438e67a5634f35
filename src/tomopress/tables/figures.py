"""Paper-style figures across the pressure series, drawn from the Parquet tables.

Each figure is a function from table frames to a :class:`matplotlib.figure.Figure` with its own
Agg canvas (no pyplot, no backend switch, no rcParams change) and :func:`save_png` writes it atomically.

| file | content | paper |
|---|---|---|
| ``porosity.png`` | porosity vs pressure, composite and separator layers | Fig. 3a |
| ``volume_fractions.png`` | void, SE and AM fractions vs pressure, per layer | Fig. 3b |
| ``contact_fraction.png`` | f_c and a_c vs pressure (composite) | Fig. 3c |
| ``anisotropy.png`` | R = f_z / f_xy vs pressure, and f_c(u) per pressure | Fig. 4 |
| ``profiles.png`` | phase fractions along z per pressure | — |
| ``reconstruction_qc.png`` | centre offset and confidence, grey levels, timings per scan | — |
| ``tortuosity.png`` | τ_geo histograms per pressure, mode and minimum marked | Fig. 5c |

``tortuosity.png`` needs rows in ``tortuosity.parquet``; :func:`tortuosity_figure` refuses an
empty table rather than draw a placeholder. Error bars: a column ``<metric>_tile_std`` (the
spread over tiled sub-crops), or better ``<metric>_uncertainty`` (standard uncertainty: tiles
and calibration), when the metrics table has one, is drawn as ±1; a partial-volume estimate is
drawn beside its label count ``<metric>_labels`` (open markers) where they differ.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tomopress.io.atomic import atomic_path

__all__ = [
    "ALWAYS",
    "FIGURE_TABLES",
    "anisotropy_figure",
    "contact_fraction_figure",
    "porosity_figure",
    "profiles_figure",
    "reconstruction_qc_figure",
    "resolution_note",
    "save_png",
    "tortuosity_figure",
    "volume_fractions_figure",
    "wanted_figures",
    "write_figures",
]

log = logging.getLogger(__name__)

#: tables each figure reads (keys: figure names = PNG stems)
FIGURE_TABLES: dict[str, tuple[str, ...]] = {
    "porosity": ("metrics",),
    "volume_fractions": ("metrics",),
    "contact_fraction": ("metrics",),
    "anisotropy": ("metrics", "orientation"),
    "profiles": ("profiles",),
    "reconstruction_qc": ("scans",),
    "tortuosity": ("tortuosity",),
}

#: figures drawn on every run; the tortuosity figure waits for tortuosity data
ALWAYS = ("porosity", "volume_fractions", "contact_fraction", "anisotropy", "profiles",
          "reconstruction_qc")


def wanted_figures(metrics_config: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """Figures the workflow builds and those pending, from the config's ``metrics`` section.

    ``tortuosity`` is built when ``metrics.tortuosity`` is true, or a settings mapping whose
    ``enabled`` is not false; otherwise it is pending (never drawn as a placeholder).

    Examples
    --------
    >>> wanted_figures({"orientation": True})[1]
    ['tortuosity']
    >>> "tortuosity" in wanted_figures({"tortuosity": {"tile_xy": 72}})[0]
    True
    """
    setting = metrics_config.get("tortuosity", False)
    on = bool(setting.get("enabled", True)) if isinstance(setting, Mapping) else bool(setting)
    return [*ALWAYS, *(["tortuosity"] if on else [])], ([] if on else ["tortuosity"])


_LAYER_STYLE = {"composite": ("C0", "o"), "separator": ("C1", "s")}
_PHASES = {"void": ("void", "0.35"), "se": ("SE (LGPS)", "C2"), "am": ("AM (NCM)", "C3")}


def _figure(n_cols: int = 1, n_rows: int = 1, *, width_in: float = 4.2, height_in: float = 3.4
            ) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width_in * n_cols, height_in * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    return fig, axes


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    if frame.empty:
        raise ValueError(f"{what}: the table has no rows")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: table lacks column(s) {', '.join(missing)}")


def _trend(ax: Axes, frame: pd.DataFrame, y: str, *, label: str, color: str, marker: str,
           scale: float = 1.0) -> None:
    """One quantity against pressure, times `scale`, with its error bars and label-based twin.

    Error bars are ±1 standard uncertainty from ``<y>_uncertainty`` (or the tile spread
    ``<y>_tile_std``) when the table has one. Where the table also holds ``<y>_labels`` (the
    label count behind a partial-volume estimate) and it differs, it is drawn beside as open
    markers on a dotted line.
    """
    frame = frame.sort_values("pressure_mpa")
    err = next((frame[c] for c in (f"{y}_uncertainty", f"{y}_tile_std")
                if c in frame and frame[c].notna().any()), None)
    yerr = None if err is None else scale * err.to_numpy(dtype=float)
    ax.errorbar(frame["pressure_mpa"], scale * frame[y], yerr=yerr, label=label, color=color,
                marker=marker, capsize=3, linewidth=1.2)
    twin = frame.get(f"{y}_labels")
    if twin is not None and twin.notna().any() and not np.allclose(twin, frame[y],
                                                                   equal_nan=True):
        ax.plot(frame["pressure_mpa"], scale * twin, linestyle=":", marker=marker,
                markerfacecolor="none", color=color, linewidth=1, label=f"{label} (labels)")


def _pressure_axis(ax: Axes) -> None:
    ax.set_xlabel("stack pressure (MPa)")
    ax.grid(alpha=0.3)


def porosity_figure(metrics: pd.DataFrame) -> Figure:
    """Porosity against pressure for each layer (the paper's Fig. 3a)."""
    _require(metrics, ["pressure_mpa", "layer", "porosity"], "porosity figure")
    fig, (ax,) = _figure()
    for layer, part in metrics.groupby("layer", sort=True):
        color, marker = _LAYER_STYLE.get(layer, ("k", "^"))
        _trend(ax, part, "porosity", label=f"{layer} layer", color=color, marker=marker,
               scale=100)
    _pressure_axis(ax)
    ax.set_ylabel("porosity (%)")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title("Porosity vs pressure")
    return fig


def volume_fractions_figure(metrics: pd.DataFrame) -> Figure:
    """Void, SE and AM volume fractions against pressure, one panel per layer (Fig. 3b)."""
    columns = [f"volume_fraction_{p}" for p in _PHASES]
    _require(metrics, ["pressure_mpa", "layer", *columns], "volume-fraction figure")
    layers = sorted(metrics["layer"].unique())
    fig, axes = _figure(len(layers))
    for ax, layer in zip(axes, layers, strict=True):
        part = metrics[metrics["layer"] == layer]
        for (phase, (label, color)), marker in zip(_PHASES.items(), "o^s", strict=True):
            _trend(ax, part, f"volume_fraction_{phase}", label=label, color=color,
                   marker=marker, scale=100)
        _pressure_axis(ax)
        ax.set_ylabel("volume fraction (%)")
        ax.set_ylim(0, 100)
        ax.set_title(f"{layer} layer")
    axes[0].legend()
    return fig


#: printed on the contact panels: their error bars (tiles and the replica's shift) do not
#: hold the gaps thinner than the blur, which the labels and the replica both lack
RESOLUTION_NOTE = ("error bars: tiles + replica, a lower bound;\ngaps below the blur not "
                   "included (see caption)")


def resolution_note(composite: pd.DataFrame) -> str:
    """:data:`RESOLUTION_NOTE`, and the contact probe's gap and film resolutions where recorded.

    Examples
    --------
    >>> rows = pd.DataFrame({"contact_gap_resolution_um": [0.9, 1.2],
    ...                      "contact_film_resolution_um": [1.7, None]})
    >>> resolution_note(rows).splitlines()[-2:]
    ['probe: gaps < 0.90-1.20 µm read as contact,', 'SE films < 1.70 µm as gaps']
    """
    spans = []
    for kind in ("gap", "film"):
        col = f"contact_{kind}_resolution_um"
        v = composite[col].to_numpy(dtype=float) if col in composite else np.array([])
        v = v[np.isfinite(v)]
        lo, hi = (v.min(), v.max()) if v.size else (np.nan, np.nan)
        spans.append("" if not v.size else f"{lo:.2f} µm" if np.isclose(lo, hi)
                     else f"{lo:.2f}-{hi:.2f} µm")
    if not any(spans):
        return RESOLUTION_NOTE
    gap, film = spans
    said = [f"gaps < {gap} read as contact" if gap else "",
            f"SE films < {film} as gaps" if film else ""]
    # one clause a line: the panel is narrow
    return RESOLUTION_NOTE + "\nprobe: " + ",\n".join(p for p in said if p)


def _resolution_note(ax: Axes, composite: pd.DataFrame) -> None:
    # bottom right: contact rises with pressure, so that corner is usually empty
    ax.text(0.98, 0.02, resolution_note(composite), transform=ax.transAxes, fontsize=7,
            color="0.35", va="bottom", ha="right", multialignment="right")


def contact_fraction_figure(metrics: pd.DataFrame) -> Figure:
    """AM|SE contact-area fraction f_c and specific contact area a_c vs pressure (Fig. 3c)."""
    cols = ["pressure_mpa", "layer", "contact_area_fraction", "specific_contact_area_per_um"]
    _require(metrics, cols, "contact-fraction figure")
    part = metrics[metrics["layer"] == "composite"]
    if part.empty or part["contact_area_fraction"].isna().all():
        raise ValueError("contact-fraction figure: no composite layer with a defined f_c")
    fig, (ax_f, ax_a) = _figure(2)
    _trend(ax_f, part, "contact_area_fraction", label="composite", color="C0", marker="o",
           scale=100)
    ax_f.set_ylabel("contact-area fraction $f_c$ (%)")
    ax_f.set_title("AM|SE contact-area fraction")
    _resolution_note(ax_f, part)
    _trend(ax_a, part, "specific_contact_area_per_um", label="composite", color="C4", marker="D")
    ax_a.set_ylabel("specific contact area $a_c$ (µm$^{-1}$)")
    ax_a.set_title("AM|SE area per volume")
    for ax in (ax_f, ax_a):
        _pressure_axis(ax)
    return fig


def anisotropy_figure(metrics: pd.DataFrame, orientation: pd.DataFrame) -> Figure:
    """Contact anisotropy R = f_z / f_xy vs pressure, and coverage f_c(u) per pressure (Fig. 4)."""
    _require(metrics, ["pressure_mpa", "layer", "contact_anisotropy_R"], "anisotropy figure")
    part = metrics[metrics["layer"] == "composite"]
    has_u = not orientation.empty
    fig, axes = _figure(2 if has_u else 1)
    _trend(axes[0], part, "contact_anisotropy_R", label="composite", color="C0", marker="o")
    axes[0].axhline(1.0, color="0.4", linestyle="--", linewidth=1, label="isotropic")
    r = part["contact_anisotropy_R"].to_numpy(dtype=float)
    r = r[np.isfinite(r)]
    axes[0].set_ylim(min(0.9, *(r - 0.05)), max(1.1, *(r + 0.05)))  # a 0.1 % wiggle is not a trend
    axes[0].ticklabel_format(axis="y", useOffset=False)
    _pressure_axis(axes[0])
    axes[0].set_ylabel(r"$R = f_z / f_{xy}$")
    axes[0].set_title("Contact anisotropy (face pairs)")
    axes[0].legend()
    _resolution_note(axes[0], part)
    if has_u:
        cov = orientation[(orientation["layer"] == "composite")
                          & (orientation["interface"] == "am_se")]
        pressures = sorted(cov["pressure_mpa"].unique())
        colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, max(len(pressures), 1)))
        for color, p in zip(colors, pressures, strict=True):
            one = cov[cov["pressure_mpa"] == p].sort_values("u_bin")
            u = 0.5 * (one["u_low"] + one["u_high"])
            axes[1].plot(u, 100 * one["coverage"], marker="o", color=color, label=f"{p:g} MPa")
        axes[1].set_xlabel(r"$u = |n_z|$ (0: normal in x-y, 1: along z)")
        axes[1].set_ylabel(r"AM|SE coverage $f_c(u)$ (%)")
        axes[1].set_title("Orientation-resolved coverage")
        axes[1].set_xlim(0, 1)
        axes[1].grid(alpha=0.3)
        axes[1].legend(fontsize="small")
    return fig


def profiles_figure(profiles: pd.DataFrame) -> Figure:
    """Phase fractions along z of each layer, one line per pressure."""
    _require(profiles, ["pressure_mpa", "layer", "z_row", "volume_fraction_void"],
             "profiles figure")
    layers = sorted(profiles["layer"].unique())
    fig, axes = _figure(3, len(layers), width_in=3.2, height_in=3.0)
    axes = axes.reshape(len(layers), 3)
    pressures = sorted(profiles["pressure_mpa"].unique())
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(pressures)))
    for row, layer in zip(axes, layers, strict=True):
        for ax, (phase, (label, _)) in zip(row, _PHASES.items(), strict=True):
            for color, p in zip(colors, pressures, strict=True):
                one = profiles[(profiles["layer"] == layer) & (profiles["pressure_mpa"] == p)]
                ax.plot(100 * one[f"volume_fraction_{phase}"], one["z_row"], color=color,
                        label=f"{p:g} MPa")
            ax.set_title(f"{layer}: {label}", fontsize="medium")
            ax.set_xlabel("fraction (%)")
            peak = 100 * profiles.loc[profiles["layer"] == layer, f"volume_fraction_{phase}"].max()
            ax.set_xlim(0, 1.05 * peak if peak > 0 else 1.0)
            ax.invert_yaxis()
            ax.grid(alpha=0.3)
        row[0].set_ylabel("reconstructed row (z)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right upper",
               fontsize="small")
    return fig


def reconstruction_qc_figure(scans: pd.DataFrame) -> Figure:
    """Per scan: centre offset and confidence, phase grey levels and thresholds, job timings."""
    _require(scans, ["pressure_mpa", "center_offset_px", "center_confidence",
                     "threshold_low_per_cm", "threshold_high_per_cm"], "reconstruction QC")
    scans = scans.sort_values("pressure_mpa")
    fig, (ax_c, ax_g, ax_t) = _figure(3, width_in=3.9)
    p = scans["pressure_mpa"]
    ax_c.plot(p, scans["center_offset_px"], "o-", color="C0")
    offset = scans["center_offset_px"].to_numpy(dtype=float)
    ax_c.set_ylim(min(-1.0, offset.min() - 0.5), max(1.0, offset.max() + 0.5))
    ax_c.ticklabel_format(axis="y", useOffset=False)
    ax_c.set_ylabel("centre − detector middle (px)", color="C0")
    twin = ax_c.twinx()
    twin.plot(p, scans["center_confidence"], "s--", color="C1")
    twin.set_ylabel("centre confidence", color="C1")
    twin.set_ylim(0, 1.05)
    ax_c.set_title("Rotation centre")
    for col, label, style in (("level_void_per_cm", "void level", "o-"),
                              ("level_se_per_cm", "SE level", "^-"),
                              ("level_am_per_cm", "AM level", "s-"),
                              ("threshold_low_per_cm", "void|SE threshold", "k:"),
                              ("threshold_high_per_cm", "SE|AM threshold", "k--")):
        if col in scans and scans[col].notna().any():
            ax_g.plot(p, scans[col], style, label=label)
    ax_g.set_ylabel("attenuation (cm$^{-1}$)")
    ax_g.set_title("Grey levels and thresholds")
    ax_g.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    times = [c for c in scans.columns if c.startswith("time_") and c != "time_total_s"
             and scans[c].notna().any()]
    bottom = np.zeros(len(scans))
    x = np.arange(len(scans))
    for col in times:
        values = scans[col].fillna(0).to_numpy(dtype=float)
        ax_t.bar(x, values, bottom=bottom, label=col.removeprefix("time_").removesuffix("_s"))
        bottom += values
    ax_t.set_xticks(x, [f"{v:g}" for v in p])
    ax_t.set_ylabel("wall time (s)")
    ax_t.set_title("Job time per scan" if times else "Job time per scan (no benchmarks)")
    if times:
        ax_t.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3)
    for ax in (ax_c, ax_g, ax_t):
        _pressure_axis(ax)
    return fig


def tortuosity_figure(tortuosity: pd.DataFrame, *, bin_width: float = 0.02) -> Figure:
    """Histograms of the geometric tortuosity per pressure, mode and minimum marked (Fig. 5c).

    Only the composite layer's paths are drawn when the table has them.

    Raises
    ------
    ValueError
        If the table has no finite ``tau_geo`` (no placeholder figure is drawn).
    """
    _require(tortuosity, ["pressure_mpa", "layer", "tau_geo"], "tortuosity figure")
    # the paper's Fig. 5c: the SE network of the composite layer (the separator is nearly all
    # SE, its paths are straight and would swamp the histogram at tau = 1)
    if (tortuosity["layer"] == "composite").any():
        tortuosity = tortuosity[tortuosity["layer"] == "composite"]
    tau_all = tortuosity["tau_geo"].to_numpy(dtype=float)
    if not np.isfinite(tau_all).any():
        raise ValueError("tortuosity figure: no finite tau_geo")
    pressures = sorted(tortuosity["pressure_mpa"].unique())
    top = float(np.nanmax(tau_all)) + bin_width
    edges = 1.0 + bin_width * np.arange(int(np.ceil((top - 1.0) / bin_width)) + 1)
    fig, axes = _figure(1, len(pressures), width_in=5.0, height_in=1.8)
    for ax, p in zip(axes, pressures, strict=True):
        tau = tortuosity.loc[tortuosity["pressure_mpa"] == p, "tau_geo"].to_numpy(dtype=float)
        tau = tau[np.isfinite(tau)]
        counts, _ = np.histogram(tau, bins=edges)
        ax.stairs(counts, edges, fill=True, alpha=0.6, color="C2")
        if tau.size:
            k = int(np.argmax(counts))
            ax.axvline(0.5 * (edges[k] + edges[k + 1]), color="C3", label="mode")
            ax.axvline(tau.min(), color="k", linestyle="--", label="minimum")
        ax.set_ylabel("outlets")
        ax.text(0.99, 0.9, f"{p:g} MPa (n = {tau.size})", transform=ax.transAxes, ha="right",
                va="top")
    axes[0].legend(fontsize="small", loc="center right")
    axes[-1].set_xlabel(r"geometric tortuosity $\tau_{geo}$")
    return fig


def save_png(fig: Figure, path: str | Path, *, dpi: int = 150) -> None:
    """Render `fig` with Agg and write it to `path` as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def _draw(name: str, frames: Mapping[str, pd.DataFrame]) -> Figure:
    if name == "anisotropy":
        return anisotropy_figure(frames["metrics"], frames["orientation"])
    single = {
        "porosity": porosity_figure,
        "volume_fractions": volume_fractions_figure,
        "contact_fraction": contact_fraction_figure,
        "profiles": profiles_figure,
        "reconstruction_qc": reconstruction_qc_figure,
        "tortuosity": tortuosity_figure,
    }
    return single[name](frames[FIGURE_TABLES[name][0]])


def write_figures(table_paths: Mapping[str, str], out_paths: Mapping[str, str]) -> list[str]:
    """Draw the figures named by the keys of `out_paths` from the Parquet tables; return paths.

    Raises
    ------
    ValueError
        If a figure name is unknown or a table it needs is not in `table_paths`.
    """
    unknown = sorted(set(out_paths) - set(FIGURE_TABLES))
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; known: {sorted(FIGURE_TABLES)}")
    needed = {t for name in out_paths for t in FIGURE_TABLES[name]}
    missing = sorted(needed - set(table_paths))
    if missing:
        raise ValueError(f"figures need table(s) {missing}")
    frames = {t: pd.read_parquet(table_paths[t]) for t in needed}
    written = []
    for name, path in out_paths.items():
        save_png(_draw(name, frames), path)
        log.info("figure %s -> %s", name, path)
        written.append(str(path))
    return written
