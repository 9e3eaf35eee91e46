"""The trust report on a real engine, rendered by headless Chromium.

The healthy report comes from the session's default run. The blocked one comes from a lake
and engine of its own, so the shared lake's sequence (tests/integration/test_pipeline.py)
is left alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from marketpulse import cli
from marketpulse.config import Settings
from marketpulse.gates import data_docs_index, gx_run_name, load_suites
from marketpulse.pipeline import BuildReport, Pipeline
from marketpulse.report import TRENDS, build_report, reports_dir

from .conftest import engine_on_own_lake

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WINDOW = (1280, 2000)


# --- headless Chromium -------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "headless Chromium renders the trust report in this test and is not installed: "
            "install it (Debian/Ubuntu: `sudo apt-get install -y chromium`); `make test` does"
        )
    return found


def _chromium(page: Path, profile: Path, *args: str) -> str:
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dump_dom(page: Path, tmp: Path) -> str:
    """The DOM after Chromium parsed and laid out the page."""
    dom = _chromium(page, tmp / "chromium-profile", "--dump-dom")
    assert "</html>" in dom, f"Chromium returned no DOM for {page}"
    return dom


def screenshot(page: Path, tmp: Path, name: str) -> Path:
    png = tmp / f"{name}.png"
    width, height = WINDOW
    _chromium(
        page, tmp / "chromium-profile", f"--screenshot={png}", f"--window-size={width},{height}"
    )
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG written for {page}"
    assert (int.from_bytes(header[16:20]), int.from_bytes(header[20:24])) == WINDOW
    assert png.stat().st_size > 20_000, "a near-empty screenshot: the page did not render"
    print(f"screenshot of {page.name}: {png}")
    return png


class Dom(HTMLParser):
    """Ids, links, SVG charts and text of a dumped DOM."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.charts: list[dict[str, object]] = []
        self.chunks: list[str] = []
        self._skip = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag == "svg":
            self.charts.append({"label": values.get("aria-label"), "points": [], "circles": 0})
        if tag == "polyline" and self.charts:
            self.charts[-1]["points"] = (values.get("points") or "").split()
        if tag == "circle" and self.charts:
            self.charts[-1]["circles"] = int(str(self.charts[-1]["circles"])) + 1
        self._skip = tag == "style"

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def assert_links_resolve(page: Path, dom: Dom) -> None:
    relative = [h for h in dom.hrefs if not urlsplit(h).scheme and not h.startswith("#")]
    assert relative, f"{page.name} has no relative links"
    for href in relative:
        target = page.parent / unquote(urlsplit(href).path)
        assert target.resolve().is_file(), f"{page.name}: {href} -> {target} does not exist"


# --- a healthy run -----------------------------------------------------------------------------


def test_default_run_report_renders_with_charts_and_working_links(
    settings: Settings, default_run: BuildReport, tmp_path: Path
) -> None:
    page = build_report(settings, default_run.run_id)

    run_dom = Dom(dump_dom(page, tmp_path))
    assert {"summary", "gate-silver", "gate-gold", "quarantine", "coverage"} <= run_dom.ids
    assert {"restatements", "held", "provenance"} <= run_dom.ids
    # Published with one warning: the embedded data ends in 2024, sessions behind today.
    assert f"run {default_run.run_id} warnings" in run_dom.text
    assert "Gate: silver warnings" in run_dom.text and "Gate: gold pass" in run_dom.text
    assert "Freshness in sessions" in run_dom.text and "sessions_behind" in run_dom.text
    assert "not available" not in run_dom.text, run_dom.text
    assert "expected rows present" in run_dom.text
    assert "admission" in run_dom.ids and re.search(r"[1-9][0-9]* admitted", run_dom.text)
    assert_links_resolve(page, run_dom)
    assert any("data_docs" in h for h in run_dom.hrefs)
    assert any(h.endswith("gate_silver.json") for h in run_dom.hrefs)
    # GX's Data Docs index links this run's result page of every table both gates validated
    # (as data for its paginated table, so the raw page is searched, not the rendered one).
    docs = data_docs_index(settings)
    listed = docs.read_text()
    run_pages = re.escape(quote(gx_run_name(default_run.run_id)))
    for layer in ("silver", "gold"):
        for suite in load_suites(settings.project_dir / "expectations", layer):
            found = re.search(rf"validations/{suite.name}/{run_pages}/[^\"' ]+?\.html", listed)
            assert found, f"Data Docs index lists no {suite.name} result of this run"
            assert (docs.parent / unquote(found.group(0))).is_file(), found.group(0)

    index = reports_dir(settings) / "index.html"
    index_dom = Dom(dump_dom(index, tmp_path))
    reported = len(list((reports_dir(settings) / "runs").glob("*.json")))
    assert [c["label"] for c in index_dom.charts] == [title for _, title in TRENDS]
    for chart in index_dom.charts:  # every run has every metric: one point each
        assert len(chart["points"]) == reported == chart["circles"], chart  # type: ignore[arg-type]
    assert f"runs/{default_run.run_id}.html" in index_dom.hrefs
    assert_links_resolve(index, index_dom)

    screenshot(page, tmp_path, "run")
    screenshot(index, tmp_path, "index")


# --- a blocked run, in a lake of its own -------------------------------------------------------


@pytest.fixture(scope="module")
def own_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with engine_on_own_lake(tmp_path_factory, "report_lake") as settings:
        yield settings


def _cli(settings: Settings, *args: str) -> int:
    return cli.main(["--home", str(settings.home), "--port", str(settings.port), *args])


def test_blocked_run_report_shows_the_failure_and_the_quarantined_bar(
    own_lake: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ticker,trade_date,open,high,low,close,volume\n"
        "AAPL,2024-06-03,100.0,101.0,99.0,-5.0,1000\n"  # a negative close
    )
    assert _cli(own_lake, "ingest", "prices", "--file", str(bad), "--source", "vendor") == 0
    nameless = {"line_number": 1, "ticker": "", "name": "Nameless Inc.", "sector": "Industrials"}
    refused = Pipeline(own_lake).ingest("instruments", "vendor", [nameless], register=False)
    assert _cli(own_lake, "build") == cli.EXIT_GATE_BLOCKED
    (run_id,) = [p.name for p in own_lake.lake.runs.iterdir()]

    page = build_report(own_lake, run_id)

    dom = Dom(dump_dom(page, tmp_path))
    assert f"run {run_id} blocked" in dom.text
    assert "Promotion blocked at silver" in dom.text
    assert "Gate: silver blocked" in dom.text and "Gate: gold not run" in dom.text
    assert "Quarantine rate per batch is at most 5%" in dom.text
    assert "observed_value 1" in dom.text  # one batch over the rate
    # A sample quarantined row of this run's audit build, with its rule ids and the bar.
    assert "silver_audit.quarantine holds 1 row" in dom.text
    assert "price_not_positive,ohlc_inconsistent" in dom.text
    assert '"close":"-5.0"' in dom.text
    # Nothing was ever published here: the sections reading silver.* say why.
    assert "not available (silver.prices_daily, silver.trading_sessions)" in dom.text
    # The bronze gate's verdicts: the build refused the nameless instrument (never
    # registered, so bronze.batches cannot show it); the vendor file, gated at ingest, passed.
    assert re.search(r"[1-9][0-9]* admitted, 1 quarantined", dom.text), dom.text
    assert f"quarantined instruments {refused.manifest.batch_id}" in dom.text
    assert "`ticker` is delivered (not empty)" in dom.text
    assert_links_resolve(page, dom)
    screenshot(page, tmp_path, "blocked_run")
