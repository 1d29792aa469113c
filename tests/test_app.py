"""The live SolaraViz app (analysis/presentation/app.py), end to end in a real browser: the server is
started as `dipsim app` starts it, Debian's Chromium loads the page through Playwright, a
slider is moved with the keyboard, the model is reset with it and stepped, and the page
must load nothing from outside this machine.

The browser test is marked ``browser``. Without Debian's Chromium it is skipped, with the
reason, so that the unit tests run anywhere; `.ci/run` installs Chromium and sets
``DIPSIM_BROWSER_TESTS=required``, under which a missing browser fails the test instead.
Run only the browser test with ``pytest -m browser``, everything else with
``pytest -m "not browser"``.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dipsim.analysis.presentation import app
from dipsim.sim import scenario as sc

from .conftest import ROOT, SCENARIOS

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_REQUIRED = os.environ.get("DIPSIM_BROWSER_TESTS") == "required"
NO_BROWSER = f"no browser: {CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOT = ROOT / "test-artifacts" / "app.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
START_TIMEOUT = 60  # seconds for the server to answer HTTP
WAIT = 30_000  # milliseconds for anything on the page


# ----------------------------------------------------------------------- without a browser


def test_sliders_map_to_scenario_settings():
    spec = sc.load(SCENARIOS / "baseline.toml")
    assert app.settings_for(spec) == {}
    assert (
        app.settings_for(
            spec,
            us_pressure=1.0,
            russian_opposition=1.0,
            japanese_opposition=1.0,
            japan_autonomy=0.3,
            russia_beta=0.3,
            japan_beta=1.0,
            deadline=27,
        )
        == {}
    )
    s = app.settings_for(
        spec,
        us_pressure=0.5,
        russian_opposition=0.5,
        japanese_opposition=0.0,
        japan_autonomy=0.9,
        russia_beta=2.0,
        japan_beta=0.2,
        deadline=40,
    )
    assert s == {
        "outside.usa.pressure.max.value": 0.5,
        "parties.russia.public.effects.territory.values": [0.0, -0.3, -0.34, -0.375, -0.4],
        # no opposition: every option as acceptable as all four islands
        "parties.japan.public.effects.territory.values": [0.75] * 5,
        "parties.japan.autonomy.value": 0.9,
        "parties.russia.strategy.beta": 2.0,
        "parties.japan.strategy.beta": 0.2,
        "negotiation.deadline": 40,
    }
    # more opposition than polled, clipped to the effects' allowed range
    assert app.scaled_opposition([0.0, -0.60, -0.68, -0.75, -0.80], 1.5) == [0.0, -0.9, -1.0, -1.0, -1.0]
    assert app.scaled_opposition([0.0, 0.0, 0.15, 0.40, 0.75], 1.5) == [-0.375, -0.375, -0.15, 0.225, 0.75]
    model = app.AppModel(us_pressure=0.5, japanese_opposition=0.0, deadline=40, seed="7")
    assert model.seed == 7 and model.applied.negotiation.deadline == 40
    model.run()
    assert not model.running and model.steps <= 40
    assert "Ended after round" in app.state_html(model)


def test_the_server_command_names_the_scenario_and_stays_offline():
    command, env = app.server_command("us_disengages", port=8123)
    assert command[1:4] == ["-m", "solara", "run"] and command[4].endswith("analysis/presentation/app.py")
    assert command[command.index("--port") + 1] == "8123" and "--no-open" in command
    assert "--no-check-version" in command  # the version check calls PyPI
    assert env[app.SCENARIO_VARIABLE] == str(SCENARIOS / "us_disengages.toml")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    with pytest.raises(sc.ScenarioError):
        app.server_command("no_such_scenario")


# ----------------------------------------------------------------------- the browser


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)  # polling a port: there is no event to wait for
    pytest.fail(f"the app server did not answer {url} within {timeout} s:\n{log.read_text()}")


def require_chromium() -> Path:
    """Debian's Chromium, which CI installs: where it is required, its absence fails the test."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium "
            "(apt-get update && apt-get install -y chromium; .ci/run does it)"
        )
    return CHROMIUM


@pytest.fixture
def server(tmp_path):
    """The app served as `dipsim app` serves it, on a free port; killed at the end."""
    port = free_port()
    command, env = app.server_command(None, "127.0.0.1", port)
    env.pop("PYTEST_CURRENT_TEST", None)  # Solara behaves differently under pytest
    # Whatever the server itself tries to fetch from the internet fails at once and shows
    # in its log (Solara's asset proxy logs "Could not load URL").
    blackhole = "http://127.0.0.1:9"
    env.update(
        HTTP_PROXY=blackhole,
        HTTPS_PROXY=blackhole,
        http_proxy=blackhole,
        https_proxy=blackhole,
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
    )
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, process, log, START_TIMEOUT)
        yield url, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def outside(url: str) -> bool:
    """Whether a request goes anywhere but this machine (data: and blob: stay here)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "about"):
        return False
    if parts.scheme == "blob":
        return outside(url[len("blob:") :])
    return parts.hostname not in LOCAL_HOSTS


def test_what_counts_as_leaving_this_machine():
    assert outside("https://cdn.jsdelivr.net/npm/katex@0.16.9/dist/katex.min.css")
    assert outside("https://fonts.googleapis.com/css") and outside("ws://10.0.0.1:8765/jupyter")
    assert not outside("http://127.0.0.1:8765/_solara/cdn/requirejs@2.3.6/require.js")
    assert not outside("ws://localhost:8765/jupyter/api/kernels/x") and not outside("http://[::1]:8765/")
    assert not outside("blob:http://127.0.0.1:8765/a48b8506") and not outside("data:image/png;base64,AAAA")


def image_bytes(img) -> bytes:
    """The bytes of a plot as the browser has them (the image widget's blob)."""
    data = img.evaluate("""async (el) => {
        const bytes = new Uint8Array(await (await fetch(el.src)).arrayBuffer());
        let s = "";
        for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return btoa(s);
    }""")
    return base64.b64decode(data)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.is_file() and not BROWSER_REQUIRED, reason=NO_BROWSER)
def test_the_app_in_a_browser(server, tmp_path):
    chromium = require_chromium()
    from playwright.sync_api import expect, sync_playwright

    url, log = server
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium),
            headless=True,
            args=FLAGS,
            viewport={"width": 1600, "height": 1300},
        )
        try:
            browser.on("request", lambda r: requests.append(r.url))
            page = browser.new_page()
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.goto(url, wait_until="domcontentloaded", timeout=WAIT)

            # The page loads: controls in the sidebar, the state and three plots beside it.
            state = page.locator(".dipsim-state")
            expect(state).to_contain_text("Rounds played: 0", timeout=WAIT)
            for button in ("Reset", "Step"):
                expect(page.get_by_role("button", name=button)).to_be_visible(timeout=WAIT)
            expect(page.get_by_text("Time: 0.0")).to_be_visible(timeout=WAIT)  # SolaraViz's own counter
            slider = page.get_by_role("slider", name="USA pressure (most)")  # a zero-size box: see its thumb
            expect(slider.locator(".v-slider__thumb")).to_be_visible(timeout=WAIT)
            sidebar_right = page.get_by_text("Model Parameters").bounding_box()["x"] + 200
            cards = {}
            for title in ("Offers by round", "Outcome space", "Pressure, rhetoric and the publics"):
                card = page.locator(".vue-grid-item").filter(has=page.get_by_role("heading", name=title))
                img = card.locator("img.widget-image")
                expect(img).to_be_visible(timeout=WAIT)
                page.wait_for_function(
                    "el => el.complete && el.naturalWidth > 100", arg=img.element_handle(), timeout=WAIT
                )
                box = img.bounding_box()
                assert box["x"] > sidebar_right and box["width"] > 250 and box["height"] > 150, (title, box)
                cards[title] = img

            # A slider moves (keyboard), and Reset builds the model with its value.
            expect(slider).to_have_attribute("aria-valuenow", "1")
            slider.focus()
            slider.press("ArrowLeft")
            slider.press("ArrowLeft")
            expect(slider).to_have_attribute("aria-valuenow", "0.9", timeout=WAIT)
            expect(state).to_contain_text("USA pressure at most 1.00")  # not used before a Reset
            page.get_by_role("button", name="Reset").click()
            expect(state).to_contain_text("USA pressure at most 0.90", timeout=WAIT)
            expect(state).to_contain_text("Rounds played: 0")

            # A step plays a round: the counters go from 0 to 1 and the plots change.
            before = {title: (img.get_attribute("src"), image_bytes(img)) for title, img in cards.items()}
            page.get_by_role("button", name="Step").click()
            expect(state).to_contain_text("Rounds played: 1", timeout=WAIT)
            expect(state).to_contain_text("Round 1:")
            expect(page.get_by_text("Time: 1.0")).to_be_visible(timeout=WAIT)
            for title, img in cards.items():
                page.wait_for_function(
                    "([el, old]) => el.src !== old && el.complete && el.naturalWidth > 100",
                    arg=[img.element_handle(), before[title][0]],
                    timeout=WAIT,
                )
                assert image_bytes(img) != before[title][1], f"the plot '{title}' did not change after a step"

            # A few more rounds for the screenshot.
            for n in range(2, 5):
                page.get_by_role("button", name="Step").click()
                expect(state).to_contain_text(f"Rounds played: {n}", timeout=WAIT)
            for img in cards.values():
                page.wait_for_function(
                    "el => el.complete && el.naturalWidth > 100", arg=img.element_handle(), timeout=WAIT
                )
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert requests, "no request seen: the request listener did not work"
    assert not [u for u in requests if outside(u)], f"requests left this machine: {[u for u in requests if outside(u)]}"
    text = log.read_text()
    assert "Could not load URL" not in text, f"the server tried to fetch from the internet:\n{text}"
    assert "Traceback" not in text, f"the server raised:\n{text}"
