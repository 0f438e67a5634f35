import pytest

from tomopress.errors import ConfigError
from tomopress.intake.config import load_config, validate_config


def test_defaults_are_filled_recursively():
    config = validate_config({})
    assert config["reconstruct"]["backend"] == "auto"
    assert config["crop"]["roi_size_px"] == 1024
    assert config["formats"]["nxtomo"]["image_key"].endswith("image_key")


def test_typos_and_bad_values_are_all_reported():
    with pytest.raises(ConfigError) as err:
        validate_config({"slab_row": 3, "reconstruct": {"filter": "butterworth"}, "slab_rows": 0})
    message = str(err.value)
    assert "slab_row" in message  # additionalProperties: false catches the typo
    assert "reconstruct.filter" in message and "butterworth" in message
    assert "slab_rows" in message


def test_project_config_is_valid():
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parents[3] / "config" / "config.yaml")
    assert config["samples"] == "config/samples.tsv"


def test_unreadable_yaml_names_the_file(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("slab_rows: [1,\n")
    with pytest.raises(ConfigError, match="c.yaml: file: not valid YAML"):
        load_config(bad)
