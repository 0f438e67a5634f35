"""Layers and segmentation: where the composite and separator are (`crop`), denoising
(`denoise`), phase grey levels and thresholds (`levels`), three-phase labelling (`labelling`),
and the stage entry points, files in and files out (`stage`)."""
