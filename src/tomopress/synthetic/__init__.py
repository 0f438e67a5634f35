"""Synthetic beamtime internals: parameters, microstructure, forward model, ground truth.

The public entry point is `tomopress.synthetic.beamtime`.
"""
