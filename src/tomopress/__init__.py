"""tomopress: pressure-series X-ray CT of solid-state-battery electrodes to microstructure tables."""

__version__ = "0.1.0"
