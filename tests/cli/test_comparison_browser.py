"""The comparison page read as a reader sees it: its text in headless Chromium, not its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labsim.indicators import CATALOGUE, VERDICTS
from tests.classroom.test_classroom_browser import browser_paths  # noqa: F401 (fixture)

BIN = Path(sys.executable).parent
SWEEP = ["-m", "scenario=baseline,psych_support", "seed=0,1,2", "horizon_weeks=6", "warmup_weeks=1", "scale=0.05",
         "output.progress=false", "output.report=false", "policy.psych_support.start_week=2",
         "windows.reference_week=2", "hydra.sweep.dir=s"]


@pytest.mark.slow  # a sweep, then a browser
def test_every_answer_on_the_comparison_page_carries_a_unit_and_a_catalogued_indicator(tmp_path,
                                                                                      browser_paths):  # noqa: F811
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    done = subprocess.run([str(BIN / "labsim"), *SWEEP], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-500:]
    chromium, driver = browser_paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'profile'}", "--proxy-server=127.0.0.1:9"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        drv.get((tmp_path / "s" / "comparison.html").as_uri())
        items = drv.find_elements(By.CSS_SELECTOR, "ul.answers li")
        assert items
        for li in items:
            kpi, text = li.get_attribute("data-kpi"), li.text
            assert kpi in CATALOGUE, kpi
            assert li.get_attribute("data-verdict") in VERDICTS
            k = CATALOGUE[kpi]
            unit = {"usd": "$", "share": " %"}.get(k.kind) or k.measure
            assert unit and unit in text, (kpi, text)
            assert text.split(" ")[0] in ("Raises", "Lowers", "No", "Too"), text
    finally:
        drv.quit()
