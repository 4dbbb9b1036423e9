"""The timeline page in a real browser: headless chromium runs it, dumps the DOM after its
script ran, and takes a screenshot that must show the lanes and the incident in colour.

Chromium comes from Debian (`apt-get install chromium`, in `.ci/run`). Without it the test
skips on a laptop and fails in CI (HACTL_REQUIRE_ROOT_TESTS=1), like the namespace tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.sim import faults
from hactl.postmortem.page import COLOURS, render_page
from hactl.postmortem.report import postmortem
from hactl.postmortem.sources import load_journals
from tests.hactl.postmortem.png_pixels import count_near, decode_png, histogram
from tests.hactl.postmortem.simulated import simulate

pytestmark = pytest.mark.slow
WINDOW = "1400,900"
BROWSER_TIMEOUT_S = 120


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("HACTL_REQUIRE_ROOT_TESTS") == "1":
            pytest.fail(f"HACTL_REQUIRE_ROOT_TESTS=1 but {message}", pytrace=False)
        pytest.skip(message)
    return path


def _browser(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    argv = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", f"--window-size={WINDOW}",
            *arguments]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S,
                          check=False)


def write_failover_page(out: Path) -> Path:
    simulate(out / "journals", end_ms=16_000, script=[(10_000, faults.Crash(node="node1"))])
    report = postmortem(load_journals([out / "journals" / "node1", out / "journals" / "node2"]))
    last = report.last()
    assert last is not None
    page = out / "timeline.html"
    page.write_text(render_page(report, (last,)), encoding="utf-8")
    return page


def test_the_page_draws_lanes_and_the_incident_in_a_real_browser(tmp_path: Path) -> None:
    page = write_failover_page(tmp_path)
    dom = _browser(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    lanes = re.findall(r'<rect class="lane-bg[^"]*"[^>]*height="(\d+)"', html)
    assert len(lanes) >= 4 and all(int(height) > 0 for height in lanes)
    ready = re.search(r'<body[^>]*data-ready="(\d+)"', html)
    assert ready is not None and int(ready[1]) == len(lanes), "the page's script did not run"
    for kind in ("dead", "start", "outage", "fence", "heartbeats"):
        widths = re.findall(rf'class="item {kind}"[^>]*width="([\d.]+)"', html)
        assert widths and all(float(width) > 0 for width in widths), kind
    # hovering shows the journal record: the table the script reads holds the dead item's
    dead_record = re.search(r'class="item dead"[^>]*data-record="([^"]+)"', html)
    table = re.search(r'<script type="application/json" id="records">(.*?)</script>', html,
                      re.DOTALL)
    assert dead_record is not None and table is not None
    record = json.loads(table[1])[dead_record[1]]
    assert record["node"] == "node2" and record["kind"] == "TimeAdvanced"
    assert record["fields"]["now_ms"] and record["summary"].endswith("TimeAdvanced")

    screenshot = tmp_path / "timeline.png"
    shot = _browser(tmp_path, f"--screenshot={screenshot}", page.as_uri())
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    rows = decode_png(screenshot.read_bytes())
    assert len(rows) == 900 and len(rows[0]) == 1400
    colours = histogram(rows)
    assert len(colours) > 20, "a blank screenshot"
    assert count_near(colours, "#f0f0f0", tolerance=2) > 10_000  # the lanes' background
    assert count_near(colours, COLOURS["start"]) > 100  # the takeover's start bars
    assert count_near(colours, COLOURS["dead"]) > 50  # the dead declaration
    assert count_near(colours, COLOURS["fence"]) > 50  # the fence attempt
    assert count_near(colours, COLOURS["heartbeats"], tolerance=40) > 50
