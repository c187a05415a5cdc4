from pathlib import Path

import pytest

from kg.settings import SETTINGS, load_settings, settings_table

README = Path(__file__).parent.parent / "README.md"


def test_every_setting_is_documented_in_readme_and_help(cli):
    readme = README.read_text(encoding="utf-8")
    help_text = cli("--help").output
    for s in SETTINGS:
        assert s.env in readme, f"{s.env} missing from README"
        assert s.env in help_text, f"{s.env} missing from kg --help"
        assert s.help.strip(), s.name


def test_readme_settings_table_is_the_generated_one():
    assert settings_table() in README.read_text(encoding="utf-8")


def test_environment_overrides_defaults_and_options_override_environment():
    s = load_settings({"KG_DATA_DIR": "/tmp/x", "KG_QUERY_TIMEOUT": "2.5", "KG_MAX_BODY": "2M"})
    assert s.data_dir == "/tmp/x" and s.query_timeout == 2.5 and s.max_body == 2 << 20
    assert load_settings({"KG_DATA_DIR": "/tmp/x"}, data_dir="/tmp/y").data_dir == "/tmp/y"
    assert load_settings({}).data_dir == "./kg-data"
    assert load_settings({}).base.endswith("/")


def test_malformed_setting_names_the_variable():
    with pytest.raises(ValueError, match="KG_PORT"):
        load_settings({"KG_PORT": "eighty"})
    with pytest.raises(ValueError, match="KG_SPARQL_SUBJECTS.*at least 1"):  # a batch of none never ends
        load_settings({"KG_SPARQL_SUBJECTS": "0"})


def test_kg_serve_runs_one_worker_per_cpu_it_may_use():
    """KG_WORKERS=0 (the default): a `kg serve` limited to one CPU runs one worker (two on one
    core answered 22% fewer one-entity queries); a number set is kept."""
    import shutil
    import subprocess
    import sys

    if shutil.which("taskset") is None:
        pytest.skip("taskset (util-linux) is not installed")
    code = ("from kg.settings import load_settings; "
            "print(load_settings({}).worker_processes, load_settings({'KG_WORKERS': '3'}).worker_processes)")
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "3"]
