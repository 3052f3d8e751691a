"""Headless Chromium for browser tests (Debian's chromium + chromium-driver), and where screenshots go.

Tests using it are skipped, with the reason shown, when Chromium is not installed;
`.ci/run` installs it so CI runs them. Screenshots are kept under artifacts/.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "artifacts"

needs_chromium = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
    reason="headless Chromium not installed (apt-get install chromium chromium-driver; .ci/run does it)")


def chrome(width: int = 1200, height: int = 1600):
    """A headless Chromium driven by selenium; quit it when done."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--window-size={width},{height}",
                 "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(flag)
    # an officer's browser asks for Chinese (the server answers in the Accept-Language's first of zh, en)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    if width < 500:         # headless Chromium's window is at least 500 px wide: emulate a phone's screen
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    return driver


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / name))


def sign_in(driver, base: str, name: str, password: str) -> None:
    """Sign in on the workbench's page and wait for the search page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "q"))
