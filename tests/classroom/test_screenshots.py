"""The three pages a user looks at, on a projector's screen: headless Chromium at 1280 x 720, offline.

A run report and the comparison page of a small real sweep (baseline and the wage floor, two seeds,
the floor from week 10), and the classroom served from this process. Each page is checked for: every
figure drawn (it has data, a size, and marks on it: lines, points, bars, countries or cells), no error
in the browser's console, and, for the classroom, the Run button in view without scrolling.
Screenshots (the first screen and the whole page) go to the test's temporary folder, or to
``$LABSIM_SCREENSHOTS`` when set, for a person to look at.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.classroom.test_classroom_browser import _severe, _wait, browser_paths, server  # noqa: F401 (fixtures)
from tests.cli.conftest import job_dir, run_labsim

pytestmark = pytest.mark.slow  # the page rendered in a browser

WIDTH, HEIGHT = 1280, 720

# Per figure: its id, how many traces it has, its size on the page, and how many marks are drawn.
_FIGURES = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
  const r = gd.getBoundingClientRect();
  const lines = Array.from(gd.querySelectorAll('path.js-line')).filter(p => (p.getAttribute('d') || '').length > 10);
  const marks = lines.length + gd.querySelectorAll(
      '.scatterlayer .point, .barlayer .point, path.choroplethlocation, .heatmaplayer image, .hm').length;
  return [gd.id || gd.parentElement.id, (gd.data || []).length, r.width, r.height, marks];
});
"""


@pytest.fixture(scope="module")
def screen(browser_paths, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    """Headless Chromium with a 1280 x 720 viewport and no network but the loopback."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
                f"--user-data-dir={tmp_path_factory.mktemp('screen-profile')}",
                "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    drv.set_page_load_timeout(120)
    _viewport(drv, HEIGHT)
    try:
        yield drv
    finally:
        drv.quit()


def _viewport(drv, height: int) -> None:
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("LABSIM_SCREENSHOTS")
    out = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def sweep_pages(tmp_path_factory) -> tuple[Path, Path]:
    """(a run report, the comparison page) of a small sweep with a policy from week 10."""
    cwd = tmp_path_factory.mktemp("screens-sweep")
    out = cwd / "sweep"
    rc, _, err = run_labsim(["-m", "scenario=baseline,min_wage_floor", "seed=0,1", "horizon_weeks=30",
                             "warmup_weeks=4", "scale=0.1", "policy.min_wage_floor.start_week=10",
                             "windows.reference_week=10", "output.progress=false", f"hydra.sweep.dir={out}"],
                            cwd, timeout=600)
    assert rc == 0, err
    return job_dir(out, 3) / "report.html", out / "comparison.html"


def _figures(drv) -> list[tuple[str, int, float, float, int]]:
    return [tuple(f) for f in drv.execute_script(_FIGURES)]


def _look(drv, name: str, shots: Path) -> None:
    """The first screen and the whole page as PNG files."""
    _viewport(drv, HEIGHT)
    drv.save_screenshot(str(shots / f"{name}.png"))
    full = int(drv.execute_script("return document.documentElement.scrollHeight"))
    _viewport(drv, min(full, 16000))
    time.sleep(0.5)
    drv.save_screenshot(str(shots / f"{name}-whole.png"))
    _viewport(drv, HEIGHT)


def _assert_drawn(figures: list, expected: int) -> None:
    assert len(figures) >= expected, figures
    for fid, traces, width, height, marks in figures:
        assert traces > 0 and width > 200 and height > 150 and marks > 0, f"blank figure {fid}: {traces} traces, " \
            f"{width:.0f} x {height:.0f} px, {marks} marks"


def _open_file(drv, page: Path, n_figures: int) -> list:
    drv.get_log("browser")  # start from a clean console
    drv.get(page.as_uri())
    return _wait(lambda: (lambda f: f if len(f) >= n_figures and all(x[4] > 0 for x in f) else None)(_figures(drv)),
                 f"every figure of {page.name} drawn", 120)


def test_the_run_report_draws_every_chart_with_no_console_error(screen, sweep_pages, shots):
    """A sweep's job report loads the sweep's one copy of plotly.js (so it weighs a fiftieth of a
    self-contained one) from its folder, with no network."""
    from labsim.report.page import plotlyjs_name

    report, _ = sweep_pages
    assert (report.parent.parent / plotlyjs_name()).is_file() and report.stat().st_size < 1_000_000
    assert f"src='../{plotlyjs_name()}'" in report.read_text()
    n = report.read_text().count('class="plotly-graph-div"')
    figures = _open_file(screen, report, n)
    _assert_drawn(figures, n)
    assert n >= 10
    assert not _severe(screen), "\n".join(_severe(screen))
    _look(screen, "run-report", shots)


def test_the_comparison_page_draws_every_chart_and_leads_with_the_answer(screen, sweep_pages, shots):
    from selenium.webdriver.common.by import By

    _, page = sweep_pages
    n = page.read_text().count('class="plotly-graph-div"')
    figures = _open_file(screen, page, n)
    _assert_drawn(figures, n)
    assert not _severe(screen), "\n".join(_severe(screen))
    # The answer is on the first screen.
    answer = screen.find_element(By.CSS_SELECTOR, "ul.answers li")
    assert answer.rect["y"] + answer.rect["height"] <= HEIGHT
    _look(screen, "comparison", shots)


def test_the_classroom_shows_run_and_the_first_chart_without_scrolling(screen, server, shots):  # noqa: F811
    from selenium.webdriver.common.by import By

    drv = screen
    drv.get_log("browser")
    drv.get(server)
    _wait(lambda: drv.find_element(By.ID, "status").text.startswith("Run 1:"), "the first run", 120)
    figures = _wait(lambda: (lambda f: f if len(f) >= 6 and all(x[4] > 0 for x in f) else None)(_figures(drv)),
                    "every chart drawn", 120)
    _assert_drawn(figures, 6)
    assert drv.execute_script("return [window.innerWidth, window.innerHeight, window.scrollY]") == [WIDTH, HEIGHT, 0]
    run = drv.find_element(By.ID, "run")
    assert run.is_displayed() and run.rect["y"] >= 0 and run.rect["y"] + run.rect["height"] <= HEIGHT, run.rect
    # The first chart (the world maps) starts on the first screen.
    first = drv.find_element(By.ID, "fig-map")
    assert first.rect["y"] < HEIGHT / 2, first.rect
    assert not _severe(drv), "\n".join(_severe(drv))
    _look(drv, "classroom", shots)
