"""A job that fails explains itself in its own log file under results/logs/ (issue 14).

The scan is sound as far as its header and pixel sample go, so the dry run accepts it, but its
projections equal the flat field (nothing in the beam): only the `center` job can find out that
there is no centre to measure. Its log must hold the one-line message and the traceback.
"""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
from snakemake_runner import run_snakemake, write_sheet


def _featureless_scan(path):
    rng = np.random.default_rng(16602)
    shape = (8, 32)
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = rng.poisson(20000, (32, *shape)).astype(np.uint16)
        h5["/exchange/data_white"] = rng.poisson(20000, (4, *shape)).astype(np.uint16)
        h5["/exchange/data_dark"] = np.full((2, *shape), 100, np.uint16)
        h5["/exchange/theta"] = np.linspace(0, 180, 32, endpoint=False)
        h5["/exchange/theta"].attrs["units"] = "degrees"
        h5["/measurement/instrument/detection_system/objective/resolution"] = 0.5
    return path


@pytest.mark.workflow
def test_failed_job_writes_its_error_and_traceback_to_its_log(tmp_path):
    raw = _featureless_scan(tmp_path / "empty_beam.h5")
    sheet = write_sheet(tmp_path / "samples.tsv", [("s1", 6, str(raw))])
    result = run_snakemake(tmp_path, "results/s1/center.json", config={"samples": str(sheet)},
                           check=False)
    assert result.returncode != 0
    assert (tmp_path / "results" / "s1" / "inspect.json").exists()  # header and pixels passed
    log = (tmp_path / "results" / "logs" / "center" / "s1.log").read_text()
    message = (r"CRITICAL tomopress\.job: job failed: ValueError: .*empty_beam\.h5: automatic "
               r"rotation centre \(vo\) is unreliable: confidence 0\.00 < min_confidence 0\.30")
    assert re.search(message, log), log
    traceback = log[log.index("Traceback (most recent call last):"):]
    assert "in center_file" in traceback and traceback.rstrip().endswith("in the sample sheet")
    assert not (tmp_path / "results" / "s1" / "center.json").exists()  # nothing looks finished
