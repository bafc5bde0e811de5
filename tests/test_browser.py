"""One real-browser test: Debian's Chromium driven by Playwright against the app on 127.0.0.1.

Select it alone with ``pytest -m browser``; ``make test`` runs it with the rest.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "screenshot.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
               "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("streamlit did not become healthy within 60 s:\n" + server.stdout.read().decode()[-2000:])
    yield url
    server.terminate()
    server.wait(timeout=20)


def _wait_for_app(page) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=60_000,
    )
    page.wait_for_selector(".katex", state="attached", timeout=60_000)


def _open_tab(page, name: str):
    """Click a tab and return the locator of its (now visible) panel."""
    page.get_by_role("tab", name=name).first.click()
    return page.locator("[role='tabpanel']:visible").first


def _wait_count(page, selector: str, minimum: int, timeout: int = 30_000) -> None:
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[selector, minimum], timeout=timeout
    )


def test_app_in_chromium(app_url):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium"
    failed, foreign = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("request", lambda request: foreign.append(request.url)
                if not request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
                else None)
        page.goto(app_url + "/?layer=batchnorm", wait_until="domcontentloaded")
        _wait_for_app(page)

        _open_tab(page, "Derivation")
        _wait_count(page, ".katex", 11)  # the derivation's equations render with KaTeX
        assert page.locator(".katex-error").count() == 0, "no KaTeX parse error"

        graph_panel = _open_tab(page, "Computational graph")
        graph_panel.locator("[data-testid='stGraphVizChart'] svg g.node").first.wait_for(timeout=30_000)
        assert graph_panel.locator("[data-testid='stGraphVizChart'] svg g.node").count() >= 5

        activations = _open_tab(page, "Activations")
        activations.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
        checks = _open_tab(page, "Gradient check")
        checks.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
        assert checks.locator(".js-plotly-plot").count() >= 2

        _open_tab(page, "Derivation")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)

        # switch the topic through the sidebar; the URL follows
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
        page.get_by_role("option", name="Convolution").first.click()
        page.wait_for_function("() => window.location.search.includes('layer=conv')", timeout=30_000)
        _wait_for_app(page)
        _open_tab(page, "Derivation")
        page.wait_for_function("() => document.body.innerText.includes('2.2')", timeout=30_000)
        _wait_count(page, ".katex", 6)
        assert page.locator(".katex-error").count() == 0
        browser.close()

    assert not failed, f"requests failed: {failed[:5]}"
    assert not foreign, f"requests left the machine: {foreign[:5]}"
    assert SCREENSHOT.stat().st_size > 10_000
