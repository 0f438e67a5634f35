"""Outputs across scans: table schemas (`schemas`), aggregation into Parquet (`aggregate`),
pressure-trend figures (`figures`) and QC images of segmented layers (`qc`)."""
