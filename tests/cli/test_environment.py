"""No value read from the environment ever reaches an error, a file or a page.

``${oc.env:NAME}`` is refused wherever configuration enters: the command line, a scenario file on a
search path, ``--cfg`` with ``--resolve``, Python's ``labsim.compose``. The variable is never read:
OmegaConf's resolver is replaced by one that refuses (``labsim.hydra_app``). Hydra's own
interpolations keep working.
"""

from __future__ import annotations

import pytest

import labsim
from labsim.errors import UserError
from tests.cli.conftest import QUICK, run_labsim

SECRET = "s3cr3t-value-never-shown"
ENV = {"LABSIM_TEST_SECRET": SECRET}


@pytest.fixture
def leaky(tmp_path, monkeypatch):
    """A search path whose scenarios read the environment: one in a setting, one in a table's entry."""
    monkeypatch.setenv("LABSIM_TEST_SECRET", SECRET)
    folder = tmp_path / "mine" / "scenario"
    folder.mkdir(parents=True)
    (folder / "leak_seed.yaml").write_text("# @package _global_\nseed: ${oc.env:LABSIM_TEST_SECRET}\n")
    (folder / "leak_name.yaml").write_text(
        "# @package _global_\nregions:\n  IND:\n    name: ${oc.env:LABSIM_TEST_SECRET}\n")
    return f"hydra.searchpath=[file://{tmp_path / 'mine'}]"


@pytest.mark.parametrize("scenario, key", [("leak_seed", "seed"), ("leak_name", "regions.IND.name")])
def test_a_scenario_file_that_reads_the_environment_is_refused_in_python(leaky, scenario, key):
    with pytest.raises(UserError) as err:
        labsim.compose([leaky, f"scenario={scenario}"])
    text = str(err.value)
    assert text.startswith(f"{key}: ") and "oc.env" in text and SECRET not in text and "\n" not in text


@pytest.mark.parametrize("scenario", ["leak_seed", "leak_name"])
def test_a_run_of_such_a_scenario_is_refused_and_writes_nothing(leaky, tmp_path, scenario):
    """Before: the run exited 0 and wrote the value into config_resolved.yaml."""
    rc, out, err = run_labsim([leaky, f"scenario={scenario}", *QUICK, "hydra.run.dir=run"], tmp_path, env=ENV)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert SECRET not in out + err
    assert not (tmp_path / "run").exists()
    assert not any(SECRET in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file()
                   and "mine" not in p.parts)


@pytest.mark.parametrize("args", [["--cfg", "job", "--resolve", "seed=${oc.env:LABSIM_TEST_SECRET}"],
                                  ["--cfg", "job", "--resolve", "scenario=leak_name"]])
def test_showing_the_configuration_resolved_refuses_in_one_line(leaky, tmp_path, args):
    """Before: ``labsim --cfg job --resolve`` printed the value in a traceback."""
    rc, out, err = run_labsim([*args, leaky], tmp_path, env=ENV)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert SECRET not in out + err and "oc.env" in err


def test_hydras_own_interpolations_still_work(tmp_path):
    """A run folder named by Hydra's ``${now:...}`` and the job's name is written as before."""
    rc, _, err = run_labsim([*QUICK, "output.report=false", "hydra.run.dir=runs/${now:%Y}-${hydra.job.name}"],
                            tmp_path)
    assert rc == 0, err
    assert len(list((tmp_path / "runs").iterdir())) == 1
