# Two commands on a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SNAKEMAKE := $(BIN)/snakemake --workflow-profile profiles/default

.PHONY: setup demo demo-cell test dry-run lint bench bench-full clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tomopress needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[workflow,test]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install tomopress with Snakemake and the test tools

demo: setup  ## simulate the synthetic beamtime, process it to results/tables/*.parquet, figures and results/report.html
	$(SNAKEMAKE)
	$(SNAKEMAKE) --report results/report.html
	$(BIN)/python -c 'import pandas as pd; print(pd.read_parquet("results/tables/metrics.parquet")[["scan_id", "pressure_mpa", "layer", "porosity", "volume_fraction_se", "volume_fraction_am", "contact_area_fraction"]].to_string(index=False))'
	$(BIN)/python -c 'import glob, pyarrow.parquet as pq; [print(f"{p}: {pq.read_metadata(p).num_rows} rows") for p in sorted(glob.glob("results/tables/*.parquet"))]'

demo-cell: setup  ## the realistic synthetic cell (rods, foil, tube, truncation, phase contrast) into results_cell/
	$(SNAKEMAKE) --configfile config/realistic_cell.yaml
	$(BIN)/python -c 'import pandas as pd; print(pd.read_parquet("results_cell/tables/metrics.parquet")[["scan_id", "pressure_mpa", "layer", "porosity", "volume_fraction_se", "volume_fraction_am", "contact_area_fraction"]].to_string(index=False))'

test: setup  ## run the test suite (unit, accuracy and workflow tests)
	# two processes, a file's tests in one (module fixtures run once): the cluster test's
	# scheduler waits and the Snakemake runs' serial steps overlap with the library tests
	$(BIN)/pytest -m "not slow" -n 2 --dist loadfile --durations=20

dry-run: setup  ## validate config, sheet and raw headers without running anything
	$(SNAKEMAKE) -n

lint: setup
	$(SNAKEMAKE) --lint

clean:
	rm -rf results .snakemake

bench: setup  ## speed, accuracy and memory benchmarks (full size; minutes)
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/reconstruct.py
	$(BIN)/python benchmarks/band_memory.py
	$(BIN)/python benchmarks/segmentation.py
	$(BIN)/python benchmarks/metrics.py
	$(BIN)/python benchmarks/dry_run.py
	$(BIN)/python benchmarks/fidelity.py
	$(BIN)/python benchmarks/fidelity.py --independent
	$(BIN)/python benchmarks/contact_signal.py

bench-full: setup  ## a full-size 1800 x 2048 x 2048 scan through the workflow (~25 min on 2 cores, 50 GB in .bench-full/)
	$(BIN)/python benchmarks/full_scan.py

.PHONY: validate slurm-up slurm-down test-slurm

validate: setup  ## check config, sheet, raw headers and crop ranges; every problem at once
	$(BIN)/tomopress validate

slurm-up:  ## start a single-node SLURM on this machine (root; Debian packages installed if missing)
	.ci/slurm/start.sh

slurm-down:  ## stop the daemons slurm-up started
	.ci/slurm/stop.sh

test-slurm: setup  ## the demo through --executor slurm on a local single-node SLURM
	$(BIN)/pytest tests/workflow/test_slurm.py
