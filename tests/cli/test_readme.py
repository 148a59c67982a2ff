"""The README's set-up commands are the ones CI runs."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readme_test_command():
    """.ci/run executes exactly the test command the README gives users."""
    ci = (REPO / ".ci" / "run").read_text()
    line = next(x for x in ci.splitlines() if x.startswith("TEST_COMMAND="))
    command = line.split("=", 1)[1].strip().strip("'")
    assert command in (REPO / "README.md").read_text()


def test_readme_gives_the_baseline_command():
    """The README's first command installs labsim and runs the baseline."""
    assert "pip install . && labsim\n" in (REPO / "README.md").read_text()
