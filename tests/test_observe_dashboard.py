"""The dashboard renders in headless Chromium with live numbers from a paused simulated run.

Needs Debian's ``chromium`` (installed by .ci/run); skipped with the reason when it is absent.
The screenshot is kept at ``<tmp>/dashboard.png`` (the path is printed) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_observe_api import live_run, wait_for

from pytest_monerosim.observe.api import ApiServer
from pytest_monerosim.observe.observer import Observer

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)


def headless(url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1400",
            "--virtual-time-budget=4000", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")
def test_dashboard_renders_live_numbers(tmp_path: Path) -> None:
    observer = Observer(watch=True)
    server = ApiServer(observer, 0).start()
    try:
        with live_run(observer, duration="6h"):
            wait_for(lambda: observer.status()["state"] == "paused")
            assert observer.gate is not None
            observer.gate.step({"seconds": 5400})
            wait_for(lambda: observer.status()["state"] == "paused" and observer.status()["run"]["sim_time"] >= 5400)
            height = observer.status()["height"]["max"]
            assert height > 0

            dom = headless(server.url, tmp_path, "--dump-dom")
            assert dom.returncode == 0, dom.stderr[-2000:]
            html = dom.stdout
            assert 'data-ready="1"' in html, html[:2000]
            assert re.search(r'<span id="state" class="badge paused">paused</span>', html)
            assert '<dd id="scenario">small-network</dd>' in html
            assert re.search(r'<dd><span id="simtime">1\.50 h of 6\.00 h</span>', html)
            assert f'<dd id="height">{height}</dd>' in html or f"… {height}</dd>" in html
            assert "… 77 more (GET /api/agents)" in html  # the agents table: 25 of 102 shown
            assert "block.found" in html  # recent events

            shot = tmp_path / "dashboard.png"
            result = headless(server.url, tmp_path, f"--screenshot={shot}")
            assert result.returncode == 0, result.stderr[-2000:]
            assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
            print(f"dashboard screenshot: {shot}")
    finally:
        server.stop()
