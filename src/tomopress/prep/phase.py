"""Single-distance phase retrieval (Paganin et al. 2002) of flat-fielded projections.

Propagation-based phase contrast puts bright/dark fringes on every edge of a projection taken
some distance behind the sample. For an object of one material (constant δ/β), Paganin's
transport-of-intensity solution turns the measured transmission ``T = I_z / I_0`` back into
the projected attenuation:

    P_μ = -ln F⁻¹[ F[T] / (1 + π λ z (δ/β) |f|²) ],

with f the spatial frequency (cycles per metre), λ the wavelength and z the propagation
distance (D. Paganin et al., J. Microsc. 206, 33 (2002), doi:10.1046/j.1365-2818.2002.01010.x).
The result stays a line integral of μ, so the reconstruction is in cm⁻¹ as without retrieval;
edges of the material whose δ/β was used come out fringe-free, others slightly over- or
under-filtered. For two materials meeting at an interface, Beltran et al. (Opt. Express 18,
6423 (2010), doi:10.1364/OE.18.006423) use ``(δ₂ - δ₁) / (β₂ - β₁)``: the ``am_in_se`` choice.

The filter is 2-D (rows and columns of the detector), so a slab of detector rows needs a halo
of neighbouring rows (:func:`halo_rows`); frames are padded with their edge values.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import scipy.fft

from tomopress.io.base import beam_facts
from tomopress.types import F32Array

__all__ = [
    "PHASE_METHODS",
    "PHASE_MATERIALS",
    "paganin_filter",
    "paganin_length_px",
    "halo_rows",
    "delta_over_beta",
    "resolve_phase_settings",
]

log = logging.getLogger(__name__)

#: phase-retrieval methods known to :func:`resolve_phase_settings`
PHASE_METHODS: Final = ("none", "paganin")
#: materials whose δ/β :func:`delta_over_beta` computes from composition and density
PHASE_MATERIALS: Final = ("se", "am", "am_in_se")



def paganin_length_px(*, delta_over_beta: float, distance_m: float, wavelength_m: float,
                      pixel_size_m: float) -> float:
    """Width of Paganin's low-pass, ``sqrt(π λ z δ/β) / (2π)``, in pixels.

    The filter ``1 / (1 + π λ z (δ/β) f²)`` is the Fourier transform of a kernel that decays
    as ``exp(-r / L)`` with this L.

    Examples
    --------
    >>> round(paganin_length_px(delta_over_beta=100, distance_m=0.01, wavelength_m=6.2e-11,
    ...                         pixel_size_m=5e-7), 2)
    4.44
    """
    a = np.pi * wavelength_m * distance_m * delta_over_beta
    return float(np.sqrt(max(a, 0.0)) / (2 * np.pi) / pixel_size_m)


def halo_rows(*, delta_over_beta: float, distance_m: float, wavelength_m: float,
              pixel_size_m: float) -> int:
    """Detector rows a slab needs on each side so that the filter sees its neighbourhood.

    Eight kernel lengths (:func:`paganin_length_px`): the kernel's weight beyond them is
    below 0.1 %. Examples: about 36 rows at 10 mm, 20 keV, δ/β = 100, 0.5 µm pixels.
    """
    return int(np.ceil(8 * paganin_length_px(delta_over_beta=delta_over_beta,
                                             distance_m=distance_m, wavelength_m=wavelength_m,
                                             pixel_size_m=pixel_size_m))) + 2


def paganin_filter(transmission: npt.ArrayLike, *, delta_over_beta: float, distance_m: float,
                   wavelength_m: float, pixel_size_m: float,
                   pad_px: int | None = None) -> F32Array:
    """Paganin's single-material filter of transmission frames (before ``-ln``).

    Parameters
    ----------
    transmission : array_like of float, shape (..., rows, cols)
        Flat-fielded transmission ``I / I_0`` (1 = open beam); leading axes are frames.
    delta_over_beta : float
        δ/β of the material (> 0).
    distance_m : float
        Sample-detector distance in metres (>= 0; 0 returns the input).
    wavelength_m : float
        X-ray wavelength in metres.
    pixel_size_m : float
        Detector pixel size in metres (at the sample).
    pad_px : int, optional
        Edge padding on every side; default :func:`halo_rows`.

    Returns
    -------
    ndarray of float32, same shape
        Filtered transmission; ``-ln`` of it is the projected attenuation.

    Raises
    ------
    ValueError
        On non-positive δ/β, wavelength or pixel size, a negative distance, or a frame of
        fewer than 2 dimensions.

    Examples
    --------
    >>> t = np.full((1, 16, 16), 0.5, np.float32)  # a uniform slab is left alone
    >>> out = paganin_filter(t, delta_over_beta=100, distance_m=0.01, wavelength_m=6.2e-11,
    ...                      pixel_size_m=5e-7)
    >>> bool(np.allclose(out, 0.5))
    True
    """
    t = np.asarray(transmission, dtype=np.float32)
    if t.ndim < 2:
        raise ValueError(f"transmission must have >= 2 dimensions, got shape {t.shape}")
    if not (delta_over_beta > 0 and wavelength_m > 0 and pixel_size_m > 0):
        raise ValueError("delta_over_beta, wavelength_m and pixel_size_m must be > 0, got "
                         f"{delta_over_beta!r}, {wavelength_m!r}, {pixel_size_m!r}")
    if not distance_m >= 0:
        raise ValueError(f"distance_m must be >= 0, got {distance_m!r}")
    if distance_m == 0:
        return t.copy()
    kw = {"delta_over_beta": delta_over_beta, "distance_m": distance_m,
          "wavelength_m": wavelength_m, "pixel_size_m": pixel_size_m}
    pad = halo_rows(**kw) if pad_px is None else int(pad_px)
    widths = [(0, 0)] * (t.ndim - 2) + [(pad, pad), (pad, pad)]
    padded = np.pad(t, widths, mode="edge")
    n_r, n_c = padded.shape[-2:]
    fy = scipy.fft.fftfreq(n_r, d=pixel_size_m)
    fx = scipy.fft.rfftfreq(n_c, d=pixel_size_m)
    a = np.pi * wavelength_m * distance_m * delta_over_beta
    lowpass = (1.0 / (1.0 + a * (fy[:, None] ** 2 + fx[None, :] ** 2))).astype(np.float32)
    spec = scipy.fft.rfft2(padded, axes=(-2, -1), workers=1)
    spec *= lowpass
    out = scipy.fft.irfft2(spec, s=(n_r, n_c), axes=(-2, -1), workers=1)
    return np.ascontiguousarray(out[..., pad:n_r - pad, pad:n_c - pad], dtype=np.float32)


def delta_over_beta(material: str, *, energy_kev: float,
                    materials: dict[str, dict[str, Any]]) -> float:
    """δ/β of the sample's SE, AM or of AM embedded in SE, from composition and density.

    Parameters
    ----------
    material : str
        ``"se"``, ``"am"`` or ``"am_in_se"`` (Beltran et al. 2010: ``Δδ/Δβ`` of the AM|SE pair).
    energy_kev : float
        Photon energy in keV.
    materials : dict
        ``{"se": {"formula", "density_g_cm3"}, "am": {...}}``.

    Examples
    --------
    >>> mats = {"se": {"formula": "Li10GeP2S12", "density_g_cm3": 2.04},
    ...         "am": {"formula": "LiNi0.333Mn0.333Co0.333O2", "density_g_cm3": 4.7}}
    >>> [round(delta_over_beta(m, energy_kev=20.0, materials=mats)) for m in PHASE_MATERIALS]
    [107, 62, 47]
    """
    from tomopress.synthetic.cell import material_optics

    if material not in PHASE_MATERIALS:
        raise ValueError(f"unknown phase material {material!r}; valid choices are "
                         f"{', '.join(PHASE_MATERIALS)}")
    optics = {k: material_optics(str(materials[k]["formula"]),
                                 float(materials[k]["density_g_cm3"]), float(energy_kev))
              for k in ("se", "am")}
    if material == "am_in_se":
        d = optics["am"]["delta"] - optics["se"]["delta"]
        b = optics["am"]["beta"] - optics["se"]["beta"]
        return float(d / b)
    return float(optics[material]["delta_over_beta"])


def resolve_phase_settings(settings: dict[str, Any], *, raw_path: str,
                           pixel_size_um: float) -> dict[str, Any]:
    """What phase retrieval a scan gets: method, δ/β and where each number came from.

    Parameters
    ----------
    settings : dict
        The config's ``phase`` block: ``method`` (``none``/``paganin``), ``delta_over_beta``
        (number or None), ``material`` (``se``/``am``/``am_in_se``, used when δ/β is None),
        ``energy_kev`` and ``propagation_distance_mm`` (used when the raw file has none),
        ``materials`` (formulas and densities of SE and AM).
    raw_path : str
        The raw scan (energy and distance are read from it where present).
    pixel_size_um : float
        The scan's pixel size in µm.

    Returns
    -------
    dict
        ``method``, ``delta_over_beta``, ``delta_over_beta_source``, ``energy_kev``,
        ``energy_source``, ``propagation_distance_mm``, ``distance_source``,
        ``pixel_size_um``, ``wavelength_m``, ``halo_rows`` (0 without retrieval) and
        ``kernel_length_px``.

    Raises
    ------
    ValueError
        On an unknown method, or when energy or distance is known neither from the file nor
        from the config.
    """
    from tomopress.synthetic.propagation import wavelength_m

    method = settings.get("method", "none")
    if method not in PHASE_METHODS:
        raise ValueError(f"unknown phase method {method!r}; valid choices are "
                         f"{', '.join(PHASE_METHODS)}")
    out: dict[str, Any] = {"method": method, "halo_rows": 0}
    if method == "none":
        return out
    facts = beam_facts(raw_path)
    for key, source_key in (("energy_kev", "energy_source"),
                            ("propagation_distance_mm", "distance_source")):
        if facts[key] is not None:
            out[key], out[source_key] = facts[key], "raw file"
        elif settings.get(key) is not None:
            out[key], out[source_key] = float(settings[key]), "config"
        else:
            raise ValueError(f"{raw_path}: phase retrieval needs {key}, which the file does not "
                             f"record: set phase.{key} in the config")
    if settings.get("delta_over_beta") is not None:
        out["delta_over_beta"] = float(settings["delta_over_beta"])
        out["delta_over_beta_source"] = "config"
    else:
        material = settings.get("material", "am_in_se")
        out["delta_over_beta"] = delta_over_beta(material, energy_kev=out["energy_kev"],
                                                 materials=settings["materials"])
        out["delta_over_beta_source"] = f"xraydb ({material})"
    lam = wavelength_m(out["energy_kev"])
    kw = {"delta_over_beta": out["delta_over_beta"],
          "distance_m": out["propagation_distance_mm"] * 1e-3, "wavelength_m": lam,
          "pixel_size_m": pixel_size_um * 1e-6}
    out.update(pixel_size_um=float(pixel_size_um), wavelength_m=lam, halo_rows=halo_rows(**kw),
               kernel_length_px=paganin_length_px(**kw))
    return out
