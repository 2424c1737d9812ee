"""The dashboard driven in headless Chromium (selenium + Debian's chromium and chromedriver).

A live simulated eclipse with wallets: pause, step and resume are clicked, the
time series, the peer graph (victim and attackers marked), the block tree, the
wallets and transactions render from live data, a node's detail opens on
click, the agents table filters and pages. One short test does the same on a
real two-daemon monerod network (marked ``monerod``): controls are disabled
with the reason, the run's real duration and live heights show. Screenshots are
saved in the test's tmp dir and recorded as JUnit properties (``screenshot``)
and, when allure-pytest writes results, attached to the report.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_observe_api import wait_for

from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.loader import load_scenario, scenario_from_dict
from pytest_monerosim.observe.api import ApiServer
from pytest_monerosim.observe.observer import LiveSession
from pytest_monerosim.runner import run_scenario

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists()
                                                 else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="needs Debian's chromium and chromium-driver (apt-get install -y "
                                       "chromium chromium-driver)")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, request: pytest.FixtureRequest, path: Path, name: str) -> Path:
    """Save a full-page PNG, record it as a JUnit property and attach it to Allure when it runs."""
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(6000, max(1200, int(height) + 40)))
    shot = path / f"{name}.png"
    driver.save_screenshot(str(shot))
    request.node.user_properties.append(("screenshot", str(shot)))
    if request.config.pluginmanager.hasplugin("allure_pytest"):
        import allure

        allure.attach.file(str(shot), name=name, attachment_type=allure.attachment_type.PNG)
    print(f"screenshot: {shot}")
    return shot


def attr(driver: Any, element_id: str, name: str) -> str | None:
    # read in the page in one step: the dashboard redraws its elements every second
    return driver.execute_script("return document.getElementById(arguments[0]).getAttribute(arguments[1])",
                                 element_id, name)


def text(driver: Any, element_id: str) -> str:
    return str(driver.execute_script("return document.getElementById(arguments[0]).innerText", element_id))


def run_in_thread(observer: LiveSession, scenario: Any, backend: str, options: RunOptions,
                  paused: bool) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            with observer.run(scenario=scenario, backend=backend, options=options, test="browser"):
                if paused and observer.gate is not None:
                    observer.gate.pause()
                run = run_scenario(scenario, backend=backend, options=options)
            observer.run_done(run.result, run.summary)
            out["run"] = run
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def test_dashboard_in_chromium_on_a_live_simulated_eclipse(browser: Any, tmp_path: Path,
                                                           request: pytest.FixtureRequest) -> None:
    observer = LiveSession(watch=True)
    server = ApiServer(observer, 0).start()
    scenario = load_scenario(FIXTURES / "dashboard.yaml")
    thread, out = run_in_thread(observer, scenario, "sim", RunOptions(workdir=tmp_path / "run"), paused=True)
    try:
        wait_for(lambda: observer.status()["state"] == "paused")
        browser.get(server.dashboard_url)
        wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 30)
        wait_for(lambda: text(browser, "state") == "paused", 10)
        assert text(browser, "scenario") == "dashboard-eclipse"
        assert "0.0 s of 3.00 h" in text(browser, "simtime")

        # step 60 s twice by clicking, then step further through the API, then resume from the page
        browser.find_element(By.CSS_SELECTOR, "button[data-cmd=step]").click()
        wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-last-command") == "step:ok")
        wait_for(lambda: observer.status()["run"]["sim_time"] >= 60 and observer.status()["state"] == "paused")
        # wallets spend once their coinbase outputs unlock (60 blocks, about 2 h): go to 2.5 h
        assert observer.command("sim", "step", {"seconds": 9000})["stepping"] == {"seconds": 9000.0}
        wait_for(lambda: observer.status()["run"]["sim_time"] >= 9060 and observer.status()["state"] == "paused",
                 60)
        observer.invalidate()
        wait_for(lambda: "2.52 h of 3.00 h" in text(browser, "simtime"), 15)
        wait_for(lambda: int(attr(browser, "c-height", "data-points") or 0) >= 20, 15)
        wait_for(lambda: int(attr(browser, "graph", "data-nodes") or 0) >= 40, 15)
        assert int(attr(browser, "graph", "data-edges") or 0) > 40
        wait_for(lambda: int(attr(browser, "blocktree", "data-blocks") or 0) >= 40, 15)  # the last 40 heights
        assert int(attr(browser, "c-attack", "data-points") or 0) > 0  # the victim's attacker share
        assert int(attr(browser, "c-txs", "data-points") or 0) > 0
        # the charts are drawn canvases, not empty boxes
        assert browser.execute_script("return document.querySelectorAll('#charts canvas').length") >= 6
        assert browser.execute_script("return document.querySelectorAll('#graph canvas').length") >= 1
        assert "wallets" in text(browser, "agents-count") and "9 wallets" in text(browser, "wallets-note")
        wait_for(lambda: "txs" in text(browser, "txs-note") and not text(browser, "txs-note").startswith("0 "), 15)

        # node detail on click: the victim's row in the agents table
        search = browser.find_element(By.ID, "f-q")
        search.send_keys("victim")
        wait_for(lambda: "1 matching" in text(browser, "agents-note"), 10)
        # (rows are redrawn every second: find and click the row in one step, in the page)
        victim, classes = browser.execute_script(
            "const tr = document.querySelector('#agents tbody tr[data-id]');"
            "tr.dispatchEvent(new MouseEvent('click', {bubbles: true})); return [tr.dataset.id, tr.className];")
        assert "victim" in victim and "victim" in classes
        wait_for(lambda: attr(browser, "detail", "data-agent") == victim, 10)
        assert "mine" in text(browser, "detail") or "disconnect" in text(browser, "detail")
        search.clear()
        search.send_keys("relays")
        wait_for(lambda: "30 matching" in text(browser, "agents-note"), 10)
        screenshot(browser, request, tmp_path, "dashboard-sim-paused")

        browser.find_element(By.CSS_SELECTOR, "button[data-cmd=resume]").click()
        wait_for(lambda: out.get("run") is not None or "error" in out, 120)
        wait_for(lambda: text(browser, "state") == "finished", 15)
        assert all(b.get_attribute("disabled") for b in browser.find_elements(By.CSS_SELECTOR, "button[data-cmd]"))
        assert "no network is running" in text(browser, "control-reason")
        final = out["run"].summary
        wait_for(lambda: "finished" in text(browser, "agents") and "paused" not in text(browser, "agents"), 15)
        wait_for(lambda: text(browser, "txs-note").startswith(f"{len(out['run'].result.txs)} txs"), 15)
        assert f"best height {final['blocks']['main_chain_height']}" in text(browser, "blocks-note")
        screenshot(browser, request, tmp_path, "dashboard-sim-finished")
    finally:
        if observer.gate is not None and observer.gate.is_open:
            observer.gate.resume()
        thread.join(120)
        server.stop()
    if "error" in out:
        raise out["error"]
    assert (tmp_path / "run" / "events.jsonl").is_file()


def test_replay_in_chromium_with_the_time_slider(browser: Any, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    from pytest_monerosim.observe.replay import Replay, load_events

    scenario = load_scenario(FIXTURES / "dashboard.yaml", overrides={"duration": "2h"})
    live = LiveSession(watch=True)
    thread, out = run_in_thread(live, scenario, "sim", RunOptions(workdir=tmp_path), paused=False)
    thread.join(120)
    assert "run" in out, out.get("error")
    observer = LiveSession(watch=False)
    observer.replay = Replay(observer, load_events(tmp_path), source=str(tmp_path))
    observer.replay.seek(observer.replay.end)
    final_height = observer.status()["height"]["max"]
    assert final_height == out["run"].summary["blocks"]["main_chain_height"]
    server = ApiServer(observer, 0).start()
    try:
        browser.get(server.dashboard_url)
        wait_for(lambda: text(browser, "state") == "replay", 30)
        assert browser.find_element(By.ID, "replay").is_displayed()
        assert all(b.get_attribute("disabled") for b in browser.find_elements(By.CSS_SELECTOR, "button[data-cmd]"))
        slider = browser.find_element(By.ID, "slider")
        browser.execute_script("arguments[0].value = 1200; arguments[0].dispatchEvent(new Event('change'))", slider)
        wait_for(lambda: text(browser, "replay-at").startswith("20.0 min"), 15)
        wait_for(lambda: int(text(browser, "height").split()[-1]) < final_height, 15)
        assert observer.status()["run"]["sim_time"] == 1200
        screenshot(browser, request, tmp_path, "dashboard-replay")
        # the interactive API docs: swagger-ui from the package, every endpoint listed
        browser.get(f"{server.url}api/docs?token={server.token}")
        wait_for(lambda: browser.execute_script("return document.querySelectorAll('.opblock').length") >= 11, 30)
        assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        server.stop()


@pytest.mark.monerod
def test_dashboard_in_chromium_on_a_monerod_network(browser: Any, tmp_path: Path,
                                                    request: pytest.FixtureRequest) -> None:
    if shutil.which("monerod") is None:
        pytest.skip("needs monerod (Debian package 'monero')")
    scenario = scenario_from_dict({
        "general": {"name": "dashboard-monerod", "seed": 5, "duration": "6h"},
        "network": {"topology": {"name": "mesh"}},
        "nodes": [{"group": "miners", "count": 2, "role": "miner", "hashrate": 50, "seed_node": True}],
        "backends": {"monerod": {"overrides": {"duration": "40m"}}}})
    observer = LiveSession(watch=True)
    server = ApiServer(observer, 0).start()
    thread, out = run_in_thread(observer, scenario, "monerod", RunOptions(workdir=tmp_path / "run"), paused=False)
    try:
        browser.get(server.dashboard_url)
        wait_for(lambda: text(browser, "state") == "running" and "2 nodes" in text(browser, "agents-count"), 120)
        wait_for(lambda: "of 40.0 min" in text(browser, "simtime"), 30)  # the backend's own cut, not 6 h
        wait_for(lambda: int(text(browser, "height").split()[-1]) >= 2, 120)
        assert all(b.get_attribute("disabled") for b in browser.find_elements(By.CSS_SELECTOR, "button[data-cmd]"))
        assert "cannot be paused" in text(browser, "control-reason")
        # read the column in one script: the table is redrawn while we look (no stale elements)
        blocks_column = ("return Array.from(document.querySelectorAll('#agents tbody td:nth-child(8)'))"
                         ".map(td => parseInt(td.textContent || '0') || 0)")
        wait_for(lambda: "blocks" not in text(browser, "agents") or any(
            n > 0 for n in browser.execute_script(blocks_column)), 60)
        wait_for(lambda: int(attr(browser, "blocktree", "data-blocks") or 0) >= 2, 30)
        wait_for(lambda: int(attr(browser, "graph", "data-edges") or 0) >= 1, 60)
        screenshot(browser, request, tmp_path, "dashboard-monerod")
    finally:
        thread.join(600)
        server.stop()
    if "error" in out:
        raise out["error"]
