"""Scan intake: sample sheet, config, validation, add-scans, raw-file inspection and integrity,
and the helpers the Snakefile calls while it builds the DAG (headers only, never pixels)."""
