"""The classroom page as a class uses it: in headless Chromium, offline, driven by Selenium.

The Dash server runs in a thread of this process on a free port of
127.0.0.1. The browser (Debian's chromium, driven by Debian's chromium-driver,
the same build) has no network but the loopback, so the page, its scripts and
its maps must all come from the server. Under CI (CI=true) a missing browser,
driver or selenium fails the test (.ci/run installs them); elsewhere it skips.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from labsim.classroom import create_app
from labsim.classroom.figures import FIGURES

pytestmark = pytest.mark.slow  # the page driven in a browser

TIMEOUT_S = 120
HORIZON = 26  # half a year: each run takes a second or two


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{what} under CI (.ci/run installs Debian's chromium and chromium-driver; "
                    "pip install -e '.[test]' installs selenium)")
    pytest.skip(f"{what} (apt-get install chromium chromium-driver; pip install selenium)")


@pytest.fixture(scope="module")
def browser_paths() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        _missing("no selenium")
    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome",
                                                   "google-chrome-stable")) if p), None)
    if chromium is None:
        _missing("no chromium on PATH")
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver") if os.access(p, os.X_OK)), None)
    if driver is None:
        _missing("no chromedriver")
    return chromium, driver


@pytest.fixture(scope="module")
def server():
    """The classroom app on a free port of 127.0.0.1, served from a thread."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(initial={"horizon_weeks": HORIZON})
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}/"
    finally:
        srv.shutdown()
        thread.join(timeout=10)
        app.classroom["cache"].close()  # the helper process of lessons' before/after runs


@pytest.fixture(scope="module")
def browser(browser_paths, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths
    downloads = tmp_path_factory.mktemp("downloads")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--window-size=1500,2600",
                f"--user-data-dir={tmp_path_factory.mktemp('profile')}",
                # Offline but for the loopback: every other request goes to a proxy that refuses
                # it, and no name resolves.
                "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    drv.set_page_load_timeout(TIMEOUT_S)
    drv.downloads = downloads
    try:
        yield drv
    finally:
        drv.quit()


def _wait(predicate, what: str, timeout: float = TIMEOUT_S):
    """Poll ``predicate`` until it returns something true (the page renders asynchronously:
    an element not there yet, or replaced under us, counts as not yet)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


_FIGURE_DATA = """
return Array.from(document.querySelectorAll('.dash-graph')).map(g => {
  const gd = g.querySelector('.js-plotly-plot');
  return [g.id, gd && gd.data ? JSON.stringify(gd.data.map(t => [t.name, t.x, t.y, t.z])) : null,
          gd ? gd.getBoundingClientRect().height : 0];
});
"""


def _find(drv, css: str):
    """The element at ``css`` once it is there (Dash loads some components' code lazily)."""
    from selenium.webdriver.common.by import By

    return _wait(lambda: drv.find_element(By.CSS_SELECTOR, css), css)


def _figures(drv) -> dict[str, tuple[str | None, float]]:
    return {gid: (data, height) for gid, data, height in drv.execute_script(_FIGURE_DATA)}


def _severe(drv) -> list[str]:
    return [f"{e['level']}: {e['message']}" for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def test_a_class_moves_a_slider_runs_and_sees_the_charts_change(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    drv = browser
    status = lambda: drv.find_element(By.ID, "status").text  # noqa: E731
    drv.get(server)
    # The page runs its first simulation on load.
    _wait(lambda: status().startswith("Run 1:"), "the first run")
    first = _wait(lambda: (lambda f: f if all(d and d != "[]" for d, _ in f.values()) else None)(_figures(drv)),
                  "every chart drawn")
    assert set(first) == {f"fig-{k}" for k in FIGURES}
    assert all(height >= 300 for _, height in first.values()), first
    # The maps draw the world's outline and every region of the run, with no network.
    countries = drv.execute_script("return document.querySelectorAll('#fig-map g.layer.countries path').length")
    regions = drv.execute_script("return document.querySelectorAll('#fig-map path.choroplethlocation').length")
    assert countries >= 2 and regions >= 2 * 7, (countries, regions)

    # Move the automation-speed slider two notches to the right (x1 -> x4), with the keyboard.
    thumb = _find(drv, "#automation_speed [role=slider]")
    assert thumb.get_attribute("aria-valuenow") == "2"
    thumb.click()
    thumb.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    _wait(lambda: thumb.get_attribute("aria-valuenow") == "4", "the slider to move")
    drv.find_element(By.ID, "compare").find_element(By.TAG_NAME, "input").click()
    drv.find_element(By.ID, "run").click()
    _wait(lambda: status().startswith("Run 2:"), "the second run")
    second = _wait(lambda: (lambda f: f if f["fig-automation"][0] != first["fig-automation"][0] else None)(
        _figures(drv)), "the automation chart to change")
    for key in ("fig-automation", "fig-work", "fig-value", "fig-wages"):
        assert second[key][0] != first[key][0], f"{key} did not change"
    assert "(previous run)" in second["fig-automation"][0]  # the comparison overlays run 1
    assert drv.find_element(By.ID, "error").text == ""

    # A bad value: one line on the page, never a traceback.
    seed = drv.find_element(By.ID, "seed")
    seed.send_keys(Keys.CONTROL, "a")
    seed.send_keys("-1", Keys.ENTER)
    drv.find_element(By.ID, "run").click()
    error = _wait(lambda: drv.find_element(By.ID, "error").text, "the error line")
    assert error == "seed=-1 is not allowed: a whole number >= 0"
    assert status().startswith("Run 2:")

    # The handout: one self-contained file with every chart.
    drv.find_element(By.ID, "export").click()
    handout = _wait(lambda: next((p for p in Path(drv.downloads).glob("*.html")), None), "the handout download")
    text = handout.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?https?:", text, re.I)
    assert all(f'id="fig-{k}"' in text for k in FIGURES) and "window.PlotlyGeoAssets" in text

    assert not _severe(drv), "\n".join(_severe(drv))


def test_a_lesson_sets_the_controls_and_runs_before_and_after(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    drv = browser
    drv.get(server)
    status = lambda: drv.find_element(By.ID, "status").text  # noqa: E731
    _wait(lambda: status().startswith("Run "), "the first run")
    _find(drv, "#lesson").click()
    option = _wait(lambda: next(iter(drv.find_elements(
        By.XPATH, "//*[@role='option'][contains(., 'Who pays for a wage floor')]")), None), "the lesson list")
    option.click()
    _wait(lambda: drv.find_element(By.CSS_SELECTOR, "#wage_floor input").is_selected(), "the floor switched on")
    assert _find(drv, "#wage_floor_usd_h [role=slider]").get_attribute("aria-valuenow") == "2"
    assert "Who pays for a wage floor" in drv.find_element(By.ID, "lesson-panel").text
    assert "Minimum wage for platform work" in drv.find_element(By.ID, "scenario").text
    # The lesson asks for two years; the test takes the slider down to half a year (Home).
    horizon = _find(drv, "#horizon_weeks [role=slider]")
    assert horizon.get_attribute("aria-valuenow") == "104"
    horizon.click()
    horizon.send_keys(Keys.HOME)
    _wait(lambda: horizon.get_attribute("aria-valuenow") == str(HORIZON), "the horizon slider")
    drv.find_element(By.ID, "run-lesson").click()
    done = _wait(lambda: "the lesson's 'before'" in status() and status(), "the lesson's two runs", 2 * TIMEOUT_S)
    assert f"Minimum wage for platform work, {HORIZON} weeks" in done
    assert drv.find_element(By.CSS_SELECTOR, "#compare input").is_selected()
    value = _wait(lambda: (lambda v: v if v and "(previous run)" in v else None)(_figures(drv)["fig-value"][0]),
                  "the value split with the previous run")
    assert "workers: policy top-ups" in value
    assert not _severe(drv), "\n".join(_severe(drv))
