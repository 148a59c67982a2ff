"""The documentation site builds with `mkdocs build --strict`, and its pages open offline.

Strict mode (with mkdocs.yml's `validation` settings) turns every broken internal link or
anchor, and every page left out of the navigation, into a failed build. The built pages must
load no font, stylesheet or script from the internet (links in the text are fine). Under CI
(CI=true) a missing MkDocs fails the test (the `test` extra installs it); elsewhere it skips.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300
# A <link ...> or <script ...> tag whose href or src is a remote address.
REMOTE_TAG = re.compile(r"<(?:link|script)\b[^>]*\b(?:href|src)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{what} under CI (pip install -e '.[test]' installs mkdocs and mkdocs-material)")
    pytest.skip(f"{what} (pip install mkdocs mkdocs-material)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from mkdocs.yml into a temporary folder."""
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError as exc:
        _missing(f"no {exc.name}")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about MkDocs' future
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                           "-d", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_the_site_builds_strictly_with_its_home_and_model_pages(site):
    assert (site / "index.html").is_file()
    model = site / "model.html"
    assert model.is_file(), sorted(p.name for p in site.iterdir())
    assert "ODD" in model.read_text(encoding="utf-8")


def test_every_page_of_the_guide_is_built(site):
    """Each Markdown page of docs/ has its HTML page."""
    docs = REPO / "docs"
    for page in docs.rglob("*.md"):
        built = site / page.relative_to(docs).with_suffix(".html")
        assert built.is_file(), built


def test_the_built_pages_fetch_nothing_from_the_internet(site):
    """No <link> or <script> points at a remote font, stylesheet or script: the pages open offline."""
    pages = list(site.rglob("*.html"))
    assert pages
    offending = {p.relative_to(site).as_posix(): REMOTE_TAG.findall(p.read_text(encoding="utf-8"))
                 for p in pages}
    assert not {k: v for k, v in offending.items() if v}
    assert not any("fonts.googleapis" in p.read_text(encoding="utf-8") for p in pages)
