"""Resource requests: every rule declares threads, mem_mb and runtime; the heavy ones scale
with the scan's array shapes (tomopress.intake.workflow helpers)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tomopress.intake.workflow import (
    labelling_options,
    layer_mem_mb,
    layer_shape,
    recon_mem_mb,
    relabel_options,
    runtime_min,
)

RULES_DIR = Path(__file__).resolve().parents[3] / "workflow" / "rules"
PAPER = {"n_projections": 1800, "n_rows": 2048, "n_cols": 2048}
DEMO = {"n_projections": 256, "n_rows": 72, "n_cols": 160}


def _rule_blocks():
    for smk in sorted(RULES_DIR.glob("*.smk")):
        text = smk.read_text()
        heads = list(re.finditer(r"^rule (\w+):", text, flags=re.M))
        for head, nxt in zip(heads, [*heads[1:], None]):
            yield smk.name, head.group(1), text[head.start(): nxt.start() if nxt else None]


@pytest.mark.parametrize("smk, rule, block", list(_rule_blocks()), ids=lambda v: str(v)[:30])
def test_every_rule_declares_threads_mem_and_runtime(smk, rule, block):
    assert re.search(r"^\s+threads: ", block, flags=re.M), f"{smk}: rule {rule}: no threads"
    assert re.search(r"^\s+mem_mb=", block, flags=re.M), f"{smk}: rule {rule}: no mem_mb"
    assert re.search(r"^\s+runtime=", block, flags=re.M), f"{smk}: rule {rule}: no runtime"


def test_slab_memory_scales_with_the_detector():
    assert recon_mem_mb(DEMO, 24) < 1000
    assert 3000 < recon_mem_mb(PAPER, 64) < 6000  # 1800 x 64 x 2048 slab, 2048² slices
    assert recon_mem_mb(PAPER, 128) > recon_mem_mb(PAPER, 64)
    assert recon_mem_mb(PAPER, 64, factor=2.0) == pytest.approx(2 * recon_mem_mb(PAPER, 64), abs=1)


def test_layer_shape_from_sheet_or_defaults():
    row = pd.Series({"raw": "a.h5", "scan_id": "a"})
    assert layer_shape(row, PAPER, layer="composite", roi_size_px=1024) == (2048, 1024, 1024)
    row = pd.Series({"raw": "a.h5", "scan_id": "a", "recon_rows": "900:1100",
                     "composite_rows": "950:1050", "roi_xy": "0:512,100:612"})
    assert layer_shape(row, PAPER, layer="composite", roi_size_px=1024) == (100, 512, 512)
    assert layer_shape(row, PAPER, layer="separator", roi_size_px=1024) == (200, 512, 512)
    assert layer_shape(pd.Series({"raw": "d", "scan_id": "d"}), DEMO, layer="separator",
                       roi_size_px=1024) == (72, 160, 160)  # roi at most the detector width


def test_layer_memory_and_runtime():
    assert layer_mem_mb((100, 1024, 1024), copies=4) == 2078
    assert layer_mem_mb((100, 1024, 1024), copies=8) > layer_mem_mb((100, 1024, 1024), copies=4)
    assert runtime_min(0, per_minute=1e7) == 5
    assert runtime_min(1800 * 64 * 2048, per_minute=1e7, base_min=10) == 34


def test_labelling_options_are_the_labeller_keywords_with_the_config_values():
    import inspect

    import yaml

    from tomopress.segment.labelling import segment_volume
    from tomopress.segment.stage import SEGMENTERS

    config = yaml.safe_load((RULES_DIR.parents[1] / "config" / "config.yaml").read_text())
    options = labelling_options(config)
    # every setting but the labeller's name reaches segment_volume by keyword
    keywords = inspect.signature(segment_volume).parameters
    assert options["labelling"] in SEGMENTERS
    assert all(k in keywords for k in options if k != "labelling")
    assert all(options[k] == config["segment"][k] for k in options)
    # the relabelling adds blur_aware and one thread, nothing else
    relabel = relabel_options(config)
    assert relabel == {**options, "blur_aware": config["segment"]["blur_aware"], "n_threads": 1}
    assert "n_threads" in keywords
