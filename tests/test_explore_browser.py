"""`gzsim explore` in a real browser: Debian's chromium driven by Playwright (`make test-browser`).

The server runs as a user starts it (`python -m gzsim explore`), on a free port of 127.0.0.1.
Skipped, with the reason, where chromium, Playwright or the explore extra is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.browser import CHROMIUM_ARGS, chromium_path, free_port, type_into
from tests.conftest import BASE, REPO

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SEED, N = 7, 5
RUN_TIMEOUT_MS = 240_000


def _skip_reason() -> str | None:
    if chromium_path() is None:
        return "no chromium: `make test-browser` installs it (apt-get install chromium, as root)"
    for module, extra in [("playwright", "browser"), ("panel", "explore")]:
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed: pip install -e '.[{extra}]' (make test-browser)"
    return None


if _skip_reason():
    pytest.skip(_skip_reason(), allow_module_level=True)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("explore") / "cache"


@pytest.fixture(scope="module")
def server(cache):
    """`gzsim explore` on a free port; its address once it says it is serving."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gzsim", "explore", str(BASE), "--port",
                             str(port), "--cache", str(cache), "-w", "2"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            if "serving http://127.0.0.1:" in line:
                break
            if time.monotonic() > deadline:
                pytest.fail("gzsim explore did not start within 90 s")
        else:
            pytest.fail(f"gzsim explore exited ({proc.wait()}) before serving")
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium_path(),
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1500, "height": 1200})
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(browser, server):
    pg = browser.new_page()
    pg.goto(server)
    pg.get_by_text("gzsim policy explorer").wait_for(timeout=60_000)
    yield pg
    pg.close()


DEEP_TEXT = """el => { const walk = n => { let t = n.shadowRoot ? walk(n.shadowRoot) : '';
  for (const c of n.childNodes) {
    if (c.nodeName === 'STYLE' || c.nodeName === 'SCRIPT') continue;
    t += c.nodeType === 3 ? c.textContent : walk(c); }
  return t; }; return walk(el); }"""


def text_of(page, css: str) -> str:
    """The text of an element, its shadow roots included (Bokeh renders into them)."""
    return page.locator(css).first.evaluate(DEEP_TEXT)


def table_rows(page) -> list[list[str]]:
    return page.locator(".explore-headline table").evaluate(
        "t => [...t.querySelectorAll('tr')].map(r => [...r.children].map(c => c.textContent"
        ".trim()))")


def runs_in(cache: Path) -> set[str]:
    runs = cache / "runs"
    return {p.name for p in runs.iterdir()} if runs.exists() else set()


def test_bad_lever_shows_the_clis_located_message_and_runs_nothing(page, cache, cli):
    before = runs_in(cache)
    type_into(page, ".lever-tax_incentive_share", "1.5")
    page.locator(".explore-run button").click()
    alert = page.locator(".explore-error")
    alert.get_by_text("policies.0.levers.tax_incentive_share").wait_for(timeout=30_000)
    shown = text_of(page, ".explore-error")
    found = re.search(r"(/\S+explore_my_policy\.yaml):\d+", shown)
    assert found, shown
    written = found.group(1)
    proc = cli("check", written)
    assert proc.returncode == 2
    for line in proc.stderr.strip().splitlines():  # the CLI's message, line by line
        assert line.strip() in shown
    assert "Nothing was run" in text_of(page, ".explore-status")
    assert runs_in(cache) == before


def test_typed_markup_is_shown_as_text_never_run(page):
    title = page.title()
    type_into(page, ".lever-tax_incentive_share", "<img src=x onerror=\"document.title='pwned'\">")
    page.locator(".explore-run button").click()
    page.locator(".explore-error").get_by_text("onerror").wait_for(timeout=30_000)
    assert "<img src=x" in text_of(page, ".explore-error")  # the characters, as typed
    assert page.title() == title


def test_cancel_stops_a_long_run_and_the_page_stays_responsive(page):
    type_into(page, ".lever-training_places_per_year", "10000")
    type_into(page, ".explore-replications", "400")
    type_into(page, ".explore-seed", "99")
    page.locator(".explore-run button").click()
    status = page.locator(".explore-status")
    status.get_by_text(re.compile(r"Running: [1-9]\d* of 800")).wait_for(timeout=120_000)
    page.locator(".explore-cancel button").click()
    status.get_by_text("Cancelled").wait_for(timeout=120_000)
    assert page.locator(".explore-run button").is_enabled()


def test_a_lever_run_shows_charts_and_the_table_of_gzsim_compare(page, cache, cli, tmp_path):
    type_into(page, ".lever-tax_incentive_share", "0.3")
    type_into(page, ".explore-replications", str(N))
    type_into(page, ".explore-seed", str(SEED))
    page.locator(".explore-run button").click()
    page.locator(".explore-headline table").wait_for(timeout=RUN_TIMEOUT_MS)
    page.locator(".chart-fan-employment img").wait_for(timeout=30_000)
    page.locator(".chart-paired-employment img").wait_for(timeout=30_000)
    page.get_by_text("Download headline.csv").wait_for(timeout=RUN_TIMEOUT_MS)
    rows = table_rows(page)
    head, body = rows[0], rows[1:]
    shown = {(r[head.index("indicator")], int(r[head.index("year")])): r for r in body}
    # the same comparison from the command line, with the scenario file the page wrote
    written = next(p for p in (cache / "scenarios").rglob("explore_my_policy.yaml")
                   if "tax_incentive_share: 0.3\n" in p.read_text())
    out = tmp_path / "cli"
    proc = cli("compare", BASE, written, "-n", N, "--seed", SEED, "-w", "2", "--no-plot",
               "-q", "-o", out)
    assert proc.returncode == 0, proc.stderr
    ref = pd.read_csv(out / "headline.csv")
    ref = ref[~ref["zero"]]
    assert {(r.indicator, int(r.year)) for r in ref.itertuples()} == set(shown)
    for r in ref.itertuples():
        row = shown[(r.indicator, int(r.year))]
        for col in ["diff_mean", "ci_low", "ci_high", "base_mean"]:
            assert float(row[head.index(col)]) == pytest.approx(getattr(r, col), rel=1e-5), \
                (r.indicator, r.year, col)
    assert f"seed {SEED}" in text_of(page, ".explore-provenance")
    with page.expect_download(timeout=60_000) as dl:  # the file the page offers: the CLI's
        page.get_by_text("Download headline.csv").click()
    pd.testing.assert_frame_equal(pd.read_csv(dl.value.path()), pd.read_csv(out / "headline.csv"))
    shot = tmp_path / "explore.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("GZSIM_SCREENSHOT"):
        shutil.copy(shot, os.environ["GZSIM_SCREENSHOT"])


def test_a_shipped_policy_file_runs_against_the_baseline(page):
    page.locator(".explore-custom input").uncheck()
    page.locator(".explore-policies input").first.click()  # opens the list of files
    page.locator(".explore-policies .choices__item--choice",
                 has_text="policy_tax_incentives.yaml").click()
    type_into(page, ".explore-replications", "3")
    page.locator(".explore-run button").click()
    page.locator(".explore-headline table").wait_for(timeout=RUN_TIMEOUT_MS)
    rows = table_rows(page)
    head, body = rows[0], rows[1:]
    assert {r[head.index("scenario")] for r in body} == {"policy_tax_incentives"}
    assert {r[head.index("indicator")] for r in body} >= {"employment"}  # the jobs to quote
    assert not page.locator(".explore-warning").first.is_visible()


def test_a_port_in_use_is_a_clear_error(server, cli, tmp_path):
    port = server.rsplit(":", 1)[1].strip("/")
    proc = cli("explore", BASE, "--port", port, "--cache", tmp_path / "c", timeout=120)
    assert proc.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


def test_binds_to_localhost_only_by_default(server):
    port = int(server.rsplit(":", 1)[1].strip("/"))
    tcp = Path("/proc/net/tcp")
    if not tcp.exists():
        pytest.skip("no /proc/net/tcp to read the listening address from")
    listening = [line.split()[1] for line in tcp.read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]
    assert listening == [f"0100007F:{port:04X}"]  # 127.0.0.1, nothing else


def test_a_slider_types_its_value_into_the_levers_field(tmp_path):
    import param

    from gzsim.explore.page import ExplorerPage
    from gzsim.explore.serve import settings_for
    from gzsim.explore.session import ResultCache, WorkerPool

    settings = settings_for(BASE, tmp_path / "cache")
    pg = ExplorerPage(settings, ResultCache(settings.cache), WorkerPool(1))
    assert set(pg.sliders) == {"tax_incentive_share", "max_pollution_class"}
    share = pg.sliders["tax_incentive_share"]
    assert (share.start, share.end) == (0, 1)  # the schema's bounds
    assert pg.levers["tax_incentive_share"].value == ""  # not set until the slider moves
    with param.edit_constant(share):  # as the browser sets it when the handle is let go
        share.value_throttled = 0.25
    assert pg.levers["tax_incentive_share"].value == "0.25"
    with param.edit_constant(pg.sliders["max_pollution_class"]):
        pg.sliders["max_pollution_class"].value_throttled = 2
    assert pg.levers["max_pollution_class"].value == "2"
    pg.levers["tax_incentive_share"].value = "0.7"  # typed: the handle follows
    assert share.value == 0.7
    pg.levers["tax_incentive_share"].value = "1.5"  # out of bounds: left to the check
    assert share.value == 0.7
