"""Headless Chromium from Debian's packages, driven by selenium through Debian's chromedriver.

Nothing is downloaded: selenium-manager is kept offline and the driver's path is given. Without
Chromium the browser tests are skipped, or fail when MLFLOW_COMPAT_REQUIRE_BROWSER=1 (as in CI).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import typing as t
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ENV_REQUIRE = "MLFLOW_COMPAT_REQUIRE_BROWSER"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=2400,1200",  # wide enough for every column of the runs table
)
WAIT_SECONDS = 30


def require_browser() -> None:
    """Skip (or, with MLFLOW_COMPAT_REQUIRE_BROWSER=1, fail) without Chromium and its driver."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver"
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{ENV_REQUIRE}=1 but {message}")
    pytest.skip(message)


def start_chromium():
    """A headless Chromium with a fresh profile; the caller quits it (see `Browser.quit`)."""
    os.environ["SE_OFFLINE"] = "1"  # selenium-manager must not fetch a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mlflow-compat-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    return Browser(driver, Path(profile))


class Browser:
    """A selenium driver, with the waits and network record the tests read."""

    def __init__(self, driver, profile: Path):
        self.driver = driver
        self.profile = profile

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, url: str) -> None:
        self.driver.get("about:blank")
        self.responses()  # forget what earlier pages fetched
        self.driver.get(url)

    def wait_for(self, check: t.Callable[[], t.Any], what: str, timeout: float = WAIT_SECONDS):
        """The first truthy value of `check`, polled until `timeout`; fails naming `what`."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                found = check()
                if found:
                    return found
            except Exception as exc:  # the page is still rendering: elements come and go
                last_error = exc
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what} (last error: {last_error!r})")

    def text(self) -> str:
        """The page's rendered text (innerText: selenium's own `.text` takes seconds on a
        table of hundreds of runs)."""
        return self.driver.execute_script("return document.body.innerText")

    def wait_for_text(self, *needles: str, timeout: float = WAIT_SECONDS) -> str:
        """The page's visible text once it holds every one of `needles`."""
        return self.wait_for(
            lambda: (lambda text: text if all(n in text for n in needles) else None)(self.text()),
            f"the page to show {needles!r}",
            timeout,
        )

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def responses(self) -> list[tuple[int, str]]:
        """(status, URL) of every HTTP response the page received since the last call."""
        import json

        out = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.responseReceived":
                response = message["params"]["response"]
                out.append((int(response["status"]), response["url"]))
        return out

    def screenshot(self, path: Path) -> None:
        self.driver.save_screenshot(str(path))
