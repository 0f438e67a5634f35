"""Reconstruction: filtered back-projection backends (tomopy gridrec, finufft gridding) and the
reconstructed volume that maps the slab files."""
