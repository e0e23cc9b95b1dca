"""The pages in the Airflow UI, in a real browser: a small warehouse built by the real ingest and
dbt, a real ``airflow api-server`` with the plugin loaded, and headless Chromium opening the
pages. Figures on the pages are compared with SQL queries of the marts they come from;
screenshots are saved under the test's tmp folder, printed and attached to the report. A
submitter's markup — in a commune code, a folder name, a file name that climbs out of the
feedback folder — never reaches a page as markup, and every response carries its
Content-Security-Policy.

Chromium is Debian's ``chromium`` package (``make browser`` installs it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from support.builders import household, json_bytes, land, submission
from support.databases import create_database, drop_database

from poverty_pipeline.config import DBT_PROJECT_DIR
from poverty_pipeline.ingest import data_docs, locations
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.orchestration import runner
from poverty_pipeline.reporting import review_report
from poverty_pipeline.samples.agencies import generate_agency_reports
from poverty_pipeline.samples.generate import generate_submissions
from poverty_pipeline.ui import labels
from poverty_pipeline.warehouse.database import connect, dbt_env, ensure_schema

pytestmark = [
    pytest.mark.airflow,
    # the screenshots' paths go into the JUnit report as testcase properties, which pytest writes
    # under its default junit_family (xunit2) too, with this warning
    pytest.mark.filterwarnings("ignore:record_property is incompatible with junit_family"),
]

# Two communes of Mỹ Tho (815) and two of Cái Bè (819), three review years; three agencies
# reporting monthly, yearly and quarterly in the last year.
COMMUNES = ["28249", "28252", "28360", "28363"]
YEARS = range(2023, 2026)
AGENCIES = ["SLDTBXH", "SKHDT", "STC"]
# A commune outside COMMUNES whose 2025 file lists one household twice: rejected, with feedback.
REJECTED = ("28261", 2025)
# A submitter's markup: as a commune code (rejected, yet listed on the submissions page as
# received) and as a period folder (its batch name reaches the Data Docs index).
MARKUP_CODE = "<img src=x onerror=alert(1)>"
MARKUP_FOLDER = "<svg onload=alert(2)>"
# Landed after the build: file names with URL characters, whose reports must be found, and the
# stored-script attack: a name that decodes to ../../../communes/2025/evil, beside the HTML the
# submitter wrote at communes/2025/evil.feedback.html.
ODD_NAMES = ("28261 #1.json", "what?.json", "100% sure.json", "a b%20c.json", "Xã Tân Mỹ Chánh.json")
CLIMBING_NAME = "%2E%2E%2F..%2F..%2Fcommunes%2F2025%2Fevil"
SUBMITTERS_HTML = "<html><body><script>document.title='pwned'</script>SUBMITTER'S PAGE</body></html>"
MODELS = [
    "+fct_submission_status", "+rpt_reporting_rates", "+rpt_poverty_indicators_by_area",
    "+rpt_target_progress", "+rpt_review_summary", "+fct_task_completion",
    "+rpt_plan_results_by_year", "+dim_poverty_standard", "+dim_plan_task", "+dim_reporting_agency",
    # what the pages read of them, prepared in dbt (exposures ui_*)
    "+rpt_submission_periods", "+rst_submission_status", "+rpt_district_drilldown",
    "+rpt_task_completion_by_year",
]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--hide-scrollbars", "--lang=vi"]


# ------------------------------------------------------------------ the warehouse


def run_dbt(url: str, target: Path, *args: str) -> None:
    """dbt against ``url`` with a private target folder (the project's own target/ is left
    alone)."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    result = subprocess.run(
        [dbt, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(target / "logs"), "--no-partial-parse",
         "--no-use-colors"],
        env={**os.environ, **dbt_env(url)}, capture_output=True, text=True,
    )
    assert result.returncode == 0, f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Sample submissions ingested by the pipeline's own ingest, then the marts the pages read
    built by dbt (and the dbt docs generated)."""
    name, url = create_database("poverty_ui")
    try:
        landing = tmp_path_factory.mktemp("landing")
        data_docs = tmp_path_factory.mktemp("data_docs")
        saved = os.environ.get("POVERTY_DATA_DOCS_DIR")
        os.environ["POVERTY_DATA_DOCS_DIR"] = str(data_docs)  # where the ingest writes Data Docs
        try:
            generate_submissions(landing, years=YEARS, communes=COMMUNES, workers=1)
            generate_agency_reports(landing, years=[YEARS[-1]], agencies=AGENCIES)
            code, year = REJECTED
            duplicate = submission(ma_xa=code, year=year, households=[household("HO001"), household("HO001")])
            land(landing, f"{code}_{year}_dinh_ky.json", json_bytes(duplicate), year=year)
            land(landing, "markup_code.json", json_bytes(submission(ma_xa=MARKUP_CODE, year=year)),
                 year=year)
            land(landing, "28258_2025.json", json_bytes(submission(ma_xa="28258", year=year)),
                 year=MARKUP_FOLDER)
            with connect(url, autocommit=True) as conn:
                ensure_schema(conn)
                for folder, contract in (("communes", "commune_household_review"),
                                         ("agencies", "agency_task_report")):
                    files = new_files(conn, landing.as_uri(), folder)
                    ingest_files(conn, landing.as_uri(), files, run_id="ui-test", contract_name=contract)
        finally:
            if saved is None:
                os.environ.pop("POVERTY_DATA_DOCS_DIR", None)
            else:
                os.environ["POVERTY_DATA_DOCS_DIR"] = saved
        target = tmp_path_factory.mktemp("dbt_target")
        run_dbt(url, target, "build", "--indirect-selection", "cautious", "--select", *MODELS)
        run_dbt(url, target, "docs", "generate")
        yield {"url": url, "landing": landing, "dbt_target": target, "data_docs": data_docs}
    finally:
        drop_database(name)


def query(url: str, sql: str, *params) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql, params).fetchall()


# ------------------------------------------------------------------ Airflow's API server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 30) -> tuple[int, bytes, str]:
    status, body, headers = get_with_headers(url, timeout)
    return status, body, headers.get("content-type", "")


def get_with_headers(url: str, timeout: float = 30) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    """``airflow api-server`` on a free port, the plugins folder of the project, SimpleAuthManager
    with every user an admin (the pages still go through Airflow's authentication)."""
    home = tmp_path_factory.mktemp("airflow")
    env = runner.airflow_env(built["url"], built["landing"].as_uri(), home=home)
    env.update({
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "POVERTY_DBT_DOCS_DIR": str(built["dbt_target"]),
        "POVERTY_DATA_DOCS_DIR": str(built["data_docs"]),
    })
    runner.migrate(env)
    port = free_port()
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), "api-server", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            pytest.fail(f"airflow api-server exited: {log_path.read_text()[-4000:]}")
        try:
            if get(f"{base}/api/v2/version", timeout=5)[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"airflow api-server did not answer in 300 s: {log_path.read_text()[-4000:]}")
        time.sleep(2)
    yield {"base": base, "log": log_path}
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


# ------------------------------------------------------------------ the browser


def chromium(*args: str, timeout: float = 180) -> str:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser`"
    result = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, *args], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def dump_dom(url: str, wait_ms: int | None = None) -> str:
    """The page's DOM after it loaded (after ``wait_ms`` of virtual time for script pages)."""
    return chromium(*([f"--virtual-time-budget={wait_ms}"] if wait_ms else []), "--dump-dom", url)


def browse(url: str, wait_ms: int = 20000) -> tuple[str, list[str]]:
    """The page's DOM and the messages of its console (script errors, Content-Security-Policy
    violations), as Chromium logs them."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser`"
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, "--enable-logging=stderr", "--log-level=0", "--v=1",
         f"--virtual-time-budget={wait_ms}", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, re.findall(r":CONSOLE[^\]]*\] (.*)", result.stderr)


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def screenshot(url: str, path: Path, record_property, size: str = "1400,2400",
               wait_ms: int | None = None) -> np.ndarray:
    chromium(*([f"--virtual-time-budget={wait_ms}"] if wait_ms else []), f"--window-size={size}",
             f"--screenshot={path}", url)
    print(f"screenshot: {path}")
    record_property(f"screenshot_{path.stem}", str(path))
    return png_pixels(path)


def png_pixels(path: Path) -> np.ndarray:
    """The pixels of an 8-bit, non-interlaced RGB(A) PNG (what Chromium writes) as an array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        elif kind == b"IDAT":
            idat += body
    bpp = 4 if colour == 6 else 3
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum along each channel (uint8 wraps like the filter)
            row = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:  # Up
            row = line + prev
        else:  # Average, Paeth: left to right
            cur, up = bytearray(line.tobytes()), prev.tobytes()
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b, c = up[x], up[x - bpp] if x >= bpp else 0
                if kind == 3:
                    cur[x] = (cur[x] + ((a + b) >> 1)) & 255
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            row = np.frombuffer(bytes(cur), np.uint8)
        out[y] = row
        prev = row
    return out.reshape(height, width, bpp)[:, :, :3]


def assert_not_blank(pixels: np.ndarray, path: Path) -> None:
    grey = pixels.astype(float).mean(axis=2)
    colours = len(np.unique(pixels.reshape(-1, 3)[::7], axis=0))
    print(f"{path.name}: {pixels.shape[1]}×{pixels.shape[0]}, pixel variance {grey.var():.1f},"
          f" {colours} colours (sampled)")
    assert grey.var() > 100 and colours > 20, f"{path} looks blank"


class Tables(HTMLParser):
    """The tables of a page: each a caption and rows of (cell texts, link targets)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append(([], []))
        elif tag in ("td", "th") and self.tables and self.tables[-1]["rows"]:
            self._cell = []
        elif tag == "a" and self._cell is not None:
            self.tables[-1]["rows"][-1][1].append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1][0].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)

    def captioned(self, text: str) -> list[dict]:
        return [t for t in self.tables if text in t["caption"]]


def vn_number(value, digits: int = 0) -> str:
    """Vietnamese separators, written independently of the pages' own formatter."""
    whole, _, frac = f"{Decimal(value):.{digits}f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{grouped},{frac}" if digits else grouped


def vn_percent(rate, digits: int = 2) -> str:
    return vn_number(Decimal(rate) * 100, digits) + "%"


def assert_rate_cells(row: list[str], index: int, poor, total, rate, near_poor, near_rate) -> None:
    """A rate table's cells of a standard (the ``index``-th): poor / households, poor rate,
    near-poor, near-poor rate."""
    i = 2 + 4 * index
    assert row[i:i + 4] == [f"{vn_number(poor)} / {vn_number(total)}", vn_percent(rate),
                            vn_number(near_poor), vn_percent(near_rate)], (row, index)


def y_ticks(svg: str) -> list[float]:
    """The y-axis labels of a line chart (right-aligned, in %), as numbers."""
    labels_ = re.findall(r"<text[^>]*text-anchor=.end.[^>]*>([0-9.,]+)%</text>", svg)
    return [float(t.replace(".", "").replace(",", ".")) for t in labels_]


def assert_shared_round_scale(svgs: list[str]) -> None:
    """Small charts share one y-scale whose ticks step by 1, 2 or 5 × 10^k from 0."""
    scales = {tuple(y_ticks(svg)) for svg in svgs}
    assert len(scales) == 1, scales
    (ticks,) = scales
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert ticks[0] == 0 and any(abs(mantissa - m) < 1e-6 for m in (1, 2, 5)), ticks
    assert all(abs(b - a - step) < 1e-9 for a, b in zip(ticks, ticks[1:], strict=False)), ticks


def assert_flow_tables(tables: Tables, where_en: str, standards: list[str], flows: list[tuple]) -> None:
    """The flow tables of an area (poor, then near-poor, per standard in order), against
    rpt_review_summary: households not reviewed, start, escaped, newly poor, end."""
    poor_tables = tables.captioned(f"· poor households {where_en} by year")
    near_tables = tables.captioned(f"near-poor households {where_en} by year")
    shown = [s for s in standards if any(f[0] == s for f in flows)]
    assert len(poor_tables) == len(near_tables) == len(shown)
    for standard, year, not_reviewed, start, escaped, newly, end, near_not_reviewed, near_start, \
            near_end in flows:
        i = shown.index(standard)
        row = next(c for c, _ in poor_tables[i]["rows"][1:] if c[0] == str(year))
        assert (row[1], row[2], row[3], row[7], row[-2]) == tuple(
            map(vn_number, (not_reviewed, start, escaped, newly, end))), (standard, year)
        row = next(c for c, _ in near_tables[i]["rows"][1:] if c[0] == str(year))
        assert (row[1], row[2], row[-2]) == tuple(map(vn_number, (near_not_reviewed, near_start, near_end)))


# ------------------------------------------------------------------ tests


def test_the_plugin_is_registered_with_its_pages_in_the_nav(server):
    status, body, _ = get(f"{server['base']}/api/v2/plugins")
    assert status == 200
    (plugin,) = [p for p in json.loads(body)["plugins"] if p["name"] == "poverty_ui"]
    assert [a["url_prefix"] for a in plugin["fastapi_apps"]] == ["/poverty/data-docs/static", "/poverty"]
    views = {v["href"]: v for v in plugin["external_views"]}
    assert set(views) == {"poverty/submissions", "poverty/poverty", "poverty/dbt-docs/",
                          "poverty/data-docs/"}
    assert all(v["destination"] == "nav" for v in views.values())
    # the Data Docs open on their own (sandboxed pages: links inside the UI's frame carry no cookie)
    assert [href for href, v in views.items() if not v["url_route"]] == ["poverty/data-docs/"]
    # the UI itself: the nav's Plugins menu, and the page's route opening the page inside it
    dom = dump_dom(f"{server['base']}/plugin/{views['poverty/submissions']['url_route']}", wait_ms=20000)
    assert "Plugins" in dom
    frames = re.findall(r"<iframe[^>]*>", dom)
    assert any('src="poverty/submissions"' in f and "Submissions" in f for f in frames), frames


def test_submissions_page_lists_every_expected_submission_with_its_outcome(built, server, tmp_path,
                                                                           record_property):
    url, (code, year) = built["url"], REJECTED
    period = str(year)
    page = f"{server['base']}/poverty/submissions?period={period}"
    tables = Tables(dump_dom(page))
    expected = query(url, """
        select submitter_type, submitter_code, outcome, timeliness, is_received, file_count
          from marts.fct_submission_status where period = %s""", period)
    assert expected
    for kind, caption in (("commune", "household reviews"), ("agency", "task reports")):
        (table,) = tables.captioned(caption)
        rows = {cells[0]: (cells, links) for cells, links in table["rows"][1:]}
        wanted = [r for r in expected if r[0] == kind]
        assert len(rows) == len(wanted), kind
        for _, submitter, outcome, timeliness, received, files in wanted:
            cells, _ = rows[submitter]
            assert cells[8] == labels.vi_en(labels.OUTCOME, outcome), submitter
            assert cells[7].startswith(labels.vi_en(labels.TIMELINESS, timeliness)), submitter
            assert cells[5].startswith("Có" if received else "Không"), submitter
            assert cells[9].startswith(str(files)), submitter

    # the rejected file: its row links to the feedback report the ingest wrote, served by the app
    (table,) = tables.captioned("household reviews")
    cells, links = next(r for r in table["rows"][1:] if r[0][0] == code)
    assert cells[8].startswith(labels.OUTCOME["rejected"][0])
    assert len(links) == 1 and links[0].startswith("feedback/")
    ((submission_id, path),) = query(url, """
        select submission_id, path from audit.submissions
         where submitter_code = %s and period = %s""", code, period)
    assert links[0] == f"feedback/{submission_id}"
    report = built["landing"] / "_feedback" / f"{path}.feedback.html"
    assert report.is_file()
    if query(url, """select 1 from information_schema.columns where table_schema = 'audit'
                     and table_name = 'submissions' and column_name = 'feedback_url'"""):
        assert query(url, "select feedback_url from audit.submissions where submission_id = %s",
                     submission_id) == [(report.as_uri(),)]
    status, body, kind = get(f"{server['base']}/poverty/{links[0]}")
    assert (status, body) == (200, report.read_bytes()) and kind.startswith("text/html")
    assert "HO001" in dump_dom(f"{server['base']}/poverty/{links[0]}")  # the duplicated household

    # reporting rates: the province row of the communes' periodic review
    ((rate, on_time),) = query(url, """
        select reporting_rate, on_time_rate from marts.rpt_reporting_rates
         where rollup_level = 'province' and submission_kind = 'commune_periodic_review'
           and period = %s""", period)
    (rates,) = tables.captioned("over submissions past their deadline")
    province = next(c for c, _ in rates["rows"] if c[1].startswith("Toàn tỉnh")
                    and c[0].startswith("Rà soát định kỳ"))
    assert (province[-2], province[-1]) == (vn_percent(rate, 1), vn_percent(on_time, 1))

    path = tmp_path / "submissions.png"
    assert_not_blank(screenshot(page, path, record_property), path)


def test_poverty_page_charts_the_marts(built, server, tmp_path, record_property):
    url = built["url"]
    page = f"{server['base']}/poverty/poverty"
    dom = dump_dom(page)
    tables = Tables(dom)
    standards = [r[0] for r in query(url, """
        select standard_code from marts.dim_poverty_standard
         where is_confirmed order by first_review_year, standard_code""")]
    assert {"QD59_2016_2020", "ND07_2022_2025"} <= set(standards)

    # poor rates by district and year, each standard: the table beside the charts
    rates = query(url, """
        select area_level, area_code, review_year, standard_code, poor_households,
               total_households, poor_rate, near_poor_households, near_poor_rate
          from marts.rpt_poverty_indicators_by_area
         where area_level in ('province', 'district', 'current_commune')
           and standard_code = any(%s)""", standards)
    districts = {r[1] for r in rates if r[0] == "district"}
    assert {"815", "819"} <= districts
    (table,) = tables.captioned("poor rate by district")
    cells = {(c[0].rsplit("(", 1)[-1].rstrip(")"), int(c[1])): (c, links) for c, links in table["rows"][1:]}
    for level, area, year, standard, poor, total, rate, near_poor, near_rate in rates:
        if level == "current_commune":
            continue
        row, links = cells[(area, year)]
        assert_rate_cells(row, standards.index(standard), poor, total, rate, near_poor, near_rate)
        # a district's row links to its page; the province is this page
        assert links == ([f"district?code={area}"] if level == "district" else []), (area, year)
    # the captions say what a table is, in words, never which mart it comes from
    assert "marts." not in dom

    # one chart per area (province and districts), each with the target line of the plan
    ((target, target_year),) = query(url, """
        select distinct target_value, target_review_year from marts.rpt_target_progress
         where metric_code = 'poor_rate_percent'""")
    charts = re.findall(r"<svg[^>]*role=\"img\".*?</svg>", dom, flags=re.S)
    area_charts = [c for c in charts if "Mục tiêu" in c and "<polyline" in c]
    assert len(area_charts) == 1 + len(districts)
    assert_shared_round_scale(area_charts)
    assert all(f"Mục tiêu &lt; {vn_number(target)}%" in c for c in area_charts)
    province_rate = next(r for r in rates if r[0] == "province" and r[2] == max(YEARS)
                         and r[3] == "QD59_2016_2020")[6]
    assert any(f"{max(YEARS)} {vn_number(Decimal(province_rate) * 100, 2).rstrip('0').rstrip(',')}%" in c
               for c in area_charts)
    assert str(target_year) in dom

    # today's communes: shown when the mart has them
    current = [r for r in rates if r[0] == "current_commune"]
    assert ("by current commune" in dom) == bool(current)

    # the flows of the province
    flows = query(url, """
        select standard_code, review_year, poor_not_reviewed, poor_start, poor_escaped,
               newly_poor, poor_end, near_poor_not_reviewed, near_poor_start, near_poor_end
          from marts.rpt_review_summary
         where area_level = 'province' and area_type = 'total' and standard_code = any(%s)""",
                  standards)
    assert flows
    assert_flow_tables(tables, "in the province", standards, flows)
    # the first review's poor are not compared: left out of the chart, which says so
    flow_svgs = [c for c in charts if "out of | into poverty" in c]
    assert flow_svgs and all("first review, not compared" in c for c in flow_svgs)

    # task completion, agency × task, in the newest year agencies reported
    completion = query(url, """
        select distinct on (agency_code, task_code) agency_code, task_code, period,
               activities_reported, activities_completed
          from marts.fct_task_completion
         where period_year = %s and is_assigned_task and has_current_report
         order by agency_code, task_code, period_end desc""", max(YEARS))
    assert {r[0] for r in completion} == set(AGENCIES)
    (task_table,) = tables.captioned(f"each agency's tasks, {max(YEARS)}")
    shown = {(c[0].split(" – ")[0], c[1]): c for c, _ in task_table["rows"][1:]}
    for agency, task, period, reported, completed in completion:
        assert shown[(agency, task)][2:5] == [period, str(reported), str(completed)]
    heatmap = next(c for c in charts if "tasks completed/reported" in c)
    assert all(f"{a} – " in heatmap and f"{c}/{r}" in heatmap for a, _, _, r, c in completion)

    path = tmp_path / "poverty.png"
    assert_not_blank(screenshot(page, path, record_property, size="1400,3600"), path)
    # and as users see it: inside the Airflow UI, under its nav
    framed = tmp_path / "poverty_in_airflow_ui.png"
    assert_not_blank(screenshot(f"{server['base']}/plugin/poverty-poverty", framed, record_property,
                                size="1400,1000", wait_ms=20000), framed)


def test_a_district_drills_down_to_its_communes(built, server, tmp_path, record_property):
    """From the Poverty page's table to a district (its trend, and each of its communes on one
    scale), and from a commune's row to the commune's own page: every figure as the mart has
    it, for the poor and the near-poor."""
    url, base = built["url"], f"{server['base']}/poverty"
    standards = [r[0] for r in query(url, """
        select standard_code from marts.dim_poverty_standard
         where is_confirmed order by first_review_year, standard_code""")]
    (table,) = Tables(dump_dom(f"{base}/poverty")).captioned("poor rate by district")
    link = next(links[0] for cells, links in table["rows"][1:] if cells[0].endswith("(815)"))
    assert link == "district?code=815"
    dom = dump_dom(f"{base}/{link}")
    tables = Tables(dom)
    communes = query(url, """
        select area_code, review_year, standard_code, poor_households, total_households,
               poor_rate, near_poor_households, near_poor_rate
          from marts.rpt_poverty_indicators_by_area
         where area_level = 'commune' and standard_code = any(%s) and area_code in (
               select area_code from marts.rpt_poverty_indicators_by_area
                where area_level = 'commune' and parent_area_code = '815')""", standards)
    assert {r[0] for r in communes} == {"28249", "28252"}  # Mỹ Tho's communes of the sample
    (commune_table,) = tables.captioned("poor and near-poor rate by commune")
    rows = {(c[0].rsplit("(", 1)[-1].rstrip(")"), int(c[1])): (c, links)
            for c, links in commune_table["rows"][1:]}
    assert set(rows) == {(r[0], r[1]) for r in communes}
    for code, year, standard, *figures in communes:
        cells, links = rows[(code, year)]
        assert_rate_cells(cells, standards.index(standard), *figures)
        assert links == [f"commune?code={code}"]
    # the district's panel and one per commune, on one round scale
    charts = [c for c in re.findall(r"<svg[^>]*role=\"img\".*?</svg>", dom, flags=re.S) if y_ticks(c)]
    assert len(charts) == 1 + 2
    assert_shared_round_scale(charts)
    # the district filter offers every district, this one chosen
    assert re.search(r'<option value="815" selected', dom)
    assert set(re.findall(r'<option value="(\d+)"', dom)) == {r[0] for r in query(url, """
        select area_code from marts.rpt_poverty_indicators_by_area where area_level = 'district'""")}
    flows = query(url, """
        select standard_code, review_year, poor_not_reviewed, poor_start, poor_escaped,
               newly_poor, poor_end, near_poor_not_reviewed, near_poor_start, near_poor_end
          from marts.rpt_review_summary
         where area_level = 'district' and area_code = '815' and area_type = 'total'
           and standard_code = any(%s)""", standards)
    assert_flow_tables(tables, "of the district", standards, flows)
    path = tmp_path / "district.png"
    assert_not_blank(screenshot(f"{base}/{link}", path, record_property, size="1400,2400"), path)

    # a commune's page: its trend, linking back to its district
    commune_dom = dump_dom(f"{base}/commune?code=28249")
    (own,) = Tables(commune_dom).captioned("poor and near-poor rate of the commune")
    shown = {int(c[1]): c for c, _ in own["rows"][1:]}
    mine = [r for r in communes if r[0] == "28249"]
    assert set(shown) == {r[1] for r in mine}
    for _, year, standard, *figures in mine:
        assert_rate_cells(shown[year], standards.index(standard), *figures)
    assert 'href="district?code=815"' in commune_dom
    assert get(f"{base}/commune?code=00000")[0] == 404
    assert get(f"{base}/district?code=nowhere")[0] == 404
    path = tmp_path / "commune.png"
    assert_not_blank(screenshot(f"{base}/commune?code=28249", path, record_property, size="1400,1600"), path)


def read_csv(body: bytes) -> list[dict]:
    import csv
    import io

    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 by its byte-order mark
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_every_table_downloads_as_csv(built, server):
    """Each page's CSV links answer with the table's query as UTF-8 CSV; figures as the
    mart has them; a submitter's text never becomes a spreadsheet formula."""
    url, base = built["url"], f"{server['base']}/poverty"
    period = str(REJECTED[1])
    for page in ("poverty", "district?code=815", "commune?code=28249", f"submissions?period={period}"):
        links = set(re.findall(r'<a class="csv" href="([^"]+)"', dump_dom(f"{base}/{page}")))
        assert links, page
        for link in links:
            status, body, headers = get_with_headers(f"{base}/{link.replace('&amp;', '&')}")
            assert status == 200, link
            assert headers["content-type"] == "text/csv; charset=utf-8", link
            assert headers["content-disposition"].startswith("attachment; filename="), link
            assert read_csv(body), link

    rows = read_csv(get(f"{base}/csv/district-rates?code=815")[1])
    expected = query(url, """
        select area_level, area_code, review_year, standard_code, poor_households, near_poor_rate
          from marts.rpt_poverty_indicators_by_area
         where standard_code in (select standard_code from marts.dim_poverty_standard where is_confirmed)
           and ((area_level = 'district' and area_code = '815') or (area_level = 'commune'
                and area_code in (select area_code from marts.rpt_poverty_indicators_by_area
                                   where area_level = 'commune' and parent_area_code = '815')))""")
    assert sorted((r["area_level"], r["area_code"], int(r["review_year"]), r["standard_code"],
                   int(r["poor_households"]), Decimal(r["near_poor_rate"])) for r in rows) == sorted(expected)

    # the province's flows carry the households not reviewed
    rows = read_csv(get(f"{base}/csv/flows?level=province")[1])
    expected = query(url, """
        select standard_code, review_year, poor_not_reviewed from marts.rpt_review_summary
         where area_level = 'province' and area_type = 'total' and standard_code in (
               select standard_code from marts.dim_poverty_standard where is_confirmed)""")
    assert sorted((r["standard_code"], int(r["review_year"]), int(r["poor_not_reviewed"]))
                  for r in rows) == sorted(expected)

    # the submitter's markup code stays text; the server's paths are not in the file
    rows = read_csv(get(f"{base}/csv/submissions?period={period}")[1])
    assert MARKUP_CODE in {r["submitter_code"] for r in rows}
    assert "latest_path" not in rows[0] and "feedback_url" not in rows[0]
    assert get(f"{base}/csv/no-such-table")[0] == 404
    assert get(f"{base}/csv/flows?level=<x>")[0] == 400


def test_the_exported_review_summaries_are_linked(built, server):
    """The review summary workbooks the build exports to the landing are linked from the
    Poverty page and served as they are; nothing else of the landing is."""
    base = f"{server['base']}/poverty"
    with connect(built["url"]) as conn:
        written = review_report.export_review_summaries(conn, built["landing"].as_uri())
    assert written
    folder = built["landing"] / "_reports" / "review_summary"
    links = re.findall(r'href="(workbook/review-summary/[^"]+)"', dump_dom(f"{base}/poverty"))
    assert sorted(links) == sorted(f"workbook/review-summary/{p.name}" for p in folder.glob("*.xlsx"))
    for link in links:
        status, body, headers = get_with_headers(f"{base}/{link}")
        assert (status, body) == (200, (folder / link.rsplit("/", 1)[1]).read_bytes()), link
        assert headers["content-type"].startswith("application/vnd.openxmlformats"), link
    assert get(f"{base}/workbook/review-summary/..%2F..%2Fcommunes%2F2025%2Fevil.feedback.html")[0] == 404
    assert get(f"{base}/workbook/elsewhere/{links[0].rsplit('/', 1)[1]}")[0] == 404


def test_the_submissions_page_opens_on_the_newest_period_with_files(built, server):
    """Without a period chosen, the page shows the newest period of the calendar for which an
    expected file arrived — never a later, empty one."""
    ((newest,),) = query(built["url"], """
        select period from marts.fct_submission_status
         where is_expected and is_received
         group by period order by max(period_end) desc nulls last, period desc limit 1""")
    dom = dump_dom(f"{server['base']}/poverty/submissions")
    assert re.search(rf'<option value="{re.escape(newest)}" selected', dom), newest
    assert f"Tỷ lệ báo cáo kỳ {newest}" in dom


def test_a_submitters_markup_is_text_on_the_submissions_page(built, server):
    """A commune code that is markup (a rejected file, still listed as received) is shown as
    the text it is: no element of the submitter's reaches the page."""
    period = str(REJECTED[1])
    assert query(built["url"], "select 1 from marts.fct_submission_status"
                 " where submitter_code = %s and period = %s", MARKUP_CODE, period)
    page = f"{server['base']}/poverty/submissions?period={period}"
    status, body, headers = get_with_headers(page)
    assert status == 200 and MARKUP_CODE.encode() not in body
    dom = dump_dom(page)
    (table,) = Tables(dom).captioned("household reviews")
    assert MARKUP_CODE in [cells[0] for cells, _ in table["rows"][1:]]
    assert "<img" not in dom


def test_the_data_docs_never_hold_a_folder_name_as_markup(built, server):
    """A period folder named with markup: its batch's name reaches the Data Docs site (index,
    pages, file names) only in the allow-listed encoding of ``data_docs.safe_name``, and the
    site renders under its policy (sandboxed scripts) without a violation."""
    site = built["data_docs"]
    files = [p for p in site.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        assert MARKUP_FOLDER not in str(path.relative_to(site)), path
        assert MARKUP_FOLDER not in path.read_text("utf-8", errors="replace"), path
    encoded = data_docs.safe_name(MARKUP_FOLDER)
    assert set(encoded) <= data_docs.SAFE_NAME_CHARS | {"~"}
    base = f"{server['base']}/poverty/data-docs"
    status, body, headers = get_with_headers(f"{base}/")
    assert status == 200 and encoded.encode() in body
    assert "sandbox" in directives(headers["content-security-policy"])
    # the batch's validation page, as the index links it, is served
    links = set(re.findall(r"validations/[^\"'\s]*~3Csvg[^\"'\s]*\.html", body.decode()))
    assert links
    for link in links:
        assert get(f"{base}/{link}")[0] == 200, link
    dom, console = browse(f"{base}/", wait_ms=10000)
    assert "Validation Results" in dom and "<svg onload" not in dom
    assert csp_violations(console) == []


@pytest.fixture(scope="module")
def landed_later(built):
    """Files landing after the build, taken in by the pipeline's ingest (the feedback route
    reads audit.submissions; the marts are not rebuilt): {path: (submission id, feedback URL)}."""
    landing, url = built["landing"], built["url"]
    folder = landing / "communes" / "2025"
    (folder / "evil.feedback.html").write_text(SUBMITTERS_HTML)
    names = (*ODD_NAMES, CLIMBING_NAME)
    for i, name in enumerate(names):  # each its own content, all rejected (a household twice)
        doc = submission(ma_xa=REJECTED[0], year=REJECTED[1], nguoi_lap=f"Người lập {i}",
                         households=[household("HO001"), household("HO001")])
        (folder / name).write_bytes(json_bytes(doc))
    saved = os.environ.get("POVERTY_DATA_DOCS_DIR")
    os.environ["POVERTY_DATA_DOCS_DIR"] = str(built["data_docs"])
    try:
        with connect(url, autocommit=True) as conn:
            ingest_files(conn, landing.as_uri(), new_files(conn, landing.as_uri(), "communes"),
                         run_id="ui-test-later")
            rows = conn.execute("select path, submission_id, feedback_url from audit.submissions"
                                " where path = any(%s)", ([f"communes/2025/{n}" for n in names],))
            found = {path: (sid, feedback) for path, sid, feedback in rows}
    finally:
        if saved is None:
            os.environ.pop("POVERTY_DATA_DOCS_DIR", None)
        else:
            os.environ["POVERTY_DATA_DOCS_DIR"] = saved
    assert len(found) == len(names)
    return found


def test_a_name_that_climbs_out_of_the_feedback_folder_gets_its_own_report(built, server, landed_later):
    """The stored-script attack: a file named ``%2E%2E%2F..%2F..%2Fcommunes%2F2025%2Fevil``
    beside ``communes/2025/evil.feedback.html`` (the submitter's HTML). Its feedback link
    serves the report the ingest wrote about it — whatever URL is recorded (as this version
    records it, percent-encoded; as an earlier version did, not encoded, which decodes to
    ``../../../communes/2025/evil``; pointing outside ``_feedback``; a link out of it) — and
    never the submitter's page."""
    landing = built["landing"]
    submission_id, url = landed_later[f"communes/2025/{CLIMBING_NAME}"]
    report = landing / "_feedback" / "communes" / "2025" / f"{CLIMBING_NAME}.feedback.html"
    assert report.is_file() and url == report.as_uri()
    page = f"{server['base']}/poverty/feedback/{submission_id}"
    status, body, headers = get_with_headers(page)
    assert (status, body) == (200, report.read_bytes())
    policy = directives(headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert policy["sandbox"] == []  # no script, no form, an origin of its own
    assert headers["x-content-type-options"] == "nosniff"
    dom = dump_dom(page)
    assert "SUBMITTER'S PAGE" not in dom and "pwned" not in dom

    evil = landing / "communes" / "2025" / "evil.feedback.html"
    link = report.with_name("link.feedback.html")
    link.symlink_to(evil)
    recorded = (
        f"file://{report}",  # unencoded, as recorded before: %2E%2E%2F.. decodes to ../
        evil.as_uri(),  # outside the feedback folder
        link.as_uri(),  # inside it by name, outside once resolved
        f"{(landing / '_feedback').as_uri()}/../communes/2025/evil.feedback.html",
        "file:///etc/passwd",
    )
    try:
        for bad in recorded:
            with connect(built["url"], autocommit=True) as conn:
                conn.execute("update audit.submissions set feedback_url = %s where submission_id = %s",
                             (bad, submission_id))
            assert get(page) == (200, report.read_bytes(), "text/html; charset=utf-8"), bad
    finally:
        link.unlink()
        with connect(built["url"], autocommit=True) as conn:
            conn.execute("update audit.submissions set feedback_url = %s where submission_id = %s",
                         (url, submission_id))


def test_reports_whose_names_hold_url_characters_are_found(built, server, landed_later):
    """``#``, ``?``, ``%``, spaces and Vietnamese letters in a landed file's name: the recorded
    URL is percent-encoded and decodes back to the report's path, which the route serves."""
    for name in ODD_NAMES:
        submission_id, url = landed_later[f"communes/2025/{name}"]
        report = built["landing"] / "_feedback" / "communes" / "2025" / f"{name}.feedback.html"
        assert url == report.as_uri() and locations.parse(url).local_path() == report, name
        status, body, _ = get(f"{server['base']}/poverty/feedback/{submission_id}")
        assert (status, body) == (200, report.read_bytes()), name


def test_every_response_carries_a_content_security_policy_and_nosniff(built, server, landed_later):
    """Our pages: no script at all. Feedback reports: no script, sandboxed. The dbt docs:
    scripts of its own page and origin. The Data Docs: scripts sandboxed in an opaque origin."""
    base = f"{server['base']}/poverty"
    submission_id, _ = landed_later[f"communes/2025/{ODD_NAMES[0]}"]
    policies = {}
    for path in ("", "submissions", "poverty", "poverty?year=1", "district?code=815",
                 "commune?code=28249", "csv/poor-rates", f"feedback/{submission_id}",
                 "feedback/unknown", "dbt-docs/", "dbt-docs/manifest.json", "dbt-docs/run_results.json",
                 "data-docs/", "data-docs/missing.html"):
        status, _, headers = get_with_headers(f"{base}/{path}")
        assert status in (200, 404), path
        assert headers.get("x-content-type-options") == "nosniff", path
        policies[path] = directives(headers["content-security-policy"])
    for path in ("", "submissions", "poverty", "poverty?year=1", "district?code=815",
                 "commune?code=28249", "csv/poor-rates"):
        policy = policies[path]
        assert policy["default-src"] == ["'none'"] and "script-src" not in policy, path
        assert policy["frame-ancestors"] == ["'self'"], path  # framed by the Airflow UI only
    for path in (f"feedback/{submission_id}", "feedback/unknown"):
        assert "script-src" not in policies[path] and policies[path]["sandbox"] == [], path
    dbt_docs = policies["dbt-docs/"]
    assert "'unsafe-eval'" not in dbt_docs["script-src"] and "sandbox" not in dbt_docs
    assert dbt_docs["connect-src"] == ["'self'"]
    assert policies["data-docs/"]["sandbox"] == ["allow-scripts", "allow-popups"]


def test_dbt_docs_and_data_docs_are_served(built, server):
    base = f"{server['base']}/poverty"
    status, body, kind = get(f"{base}/dbt-docs/")
    assert status == 200 and kind.startswith("text/html") and b"dbt" in body
    status, body, _ = get(f"{base}/dbt-docs/manifest.json")
    assert status == 200
    assert "model.poverty_warehouse.rpt_poverty_indicators_by_area" in json.loads(body)["nodes"]
    status, body, _ = get(f"{base}/dbt-docs/catalog.json")
    assert status == 200 and any("rpt_poverty_indicators_by_area" in n for n in json.loads(body)["nodes"])
    # the rest of the target folder stays private
    assert get(f"{base}/dbt-docs/run_results.json")[0] == 404
    assert get(f"{base}/dbt-docs")[0] == 200  # redirected to the folder

    # the Data Docs site: as the ingest wrote it, or, before it is written, a page saying so
    site = built["data_docs"]
    status, body, _ = get(f"{base}/data-docs/")
    assert status == 200
    if (site / "index.html").is_file():
        assert body == (site / "index.html").read_bytes()
    else:
        assert b"make run" in body
    (site / "validations").mkdir(exist_ok=True)
    stamp = dt.datetime.now().isoformat()
    (site / "index.html").write_text(f"<html><body>Data Docs {stamp}</body></html>")  # a new build
    (site / "validations" / "run.html").write_text("<html><body>one validation</body></html>")
    assert stamp.encode() in get(f"{base}/data-docs/")[1]
    assert b"one validation" in get(f"{base}/data-docs/validations/run.html")[1]
    # nothing outside the site, however the path is spelt
    outside = site.parent / "secret.txt"
    outside.write_text("not for the browser")
    assert get(f"{base}/data-docs/%2e%2e/secret.txt")[0] == 404
    assert get(f"{base}/data-docs/..%2fsecret.txt")[0] == 404

    # the nav's dbt docs entry in the browser: the docs site renders the project's models,
    # its scripts allowed by its Content-Security-Policy
    dom, console = browse(f"{base}/dbt-docs/", wait_ms=20000)
    assert "rpt_poverty_indicators_by_area" in dom
    assert csp_violations(console) == []


def test_the_pages_need_an_airflow_user():
    """Without the all-admins middleware of the test server a request carries no token: the
    app, called in-process, refuses it."""
    from fastapi.testclient import TestClient

    from poverty_pipeline.ui.app import app

    client = TestClient(app)
    for path in ("/submissions", "/poverty", "/district", "/csv/poor-rates", "/dbt-docs/",
                 "/data-docs/", "/feedback/x"):
        assert client.get(path).status_code == 401, path


def test_a_browser_not_signed_in_is_sent_to_the_sign_in_page(server):
    """A page opened by a browser without a sign-in redirects to Airflow's sign-in route
    (under the API server's base, the app being mounted at /poverty), which brings it back;
    that route of the running server accepts the page as where to return."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from poverty_pipeline.ui.app import app

    host = FastAPI()
    host.mount("/poverty", app)
    client = TestClient(host, follow_redirects=False)
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/poverty/poverty", "/poverty/district?code=815", "/poverty/submissions?period=2025"):
        response = client.get(path, headers=html)
        assert response.status_code == 303, path
        assert response.headers["location"] == (
            "/api/v2/auth/login?next=" + urllib.parse.quote(f"http://testserver{path}", safe="")), path
        assert "content-security-policy" in response.headers
        # a script or an API client still gets 401
        assert client.get(path).status_code == 401, path
    page = f"{server['base']}/poverty/poverty"
    login = f"{server['base']}/api/v2/auth/login?next={urllib.parse.quote(page, safe='')}"
    request = urllib.request.Request(login)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=30)
        pytest.fail("the sign-in route should redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code in (302, 303, 307), answer.code  # not 400: ``next`` is of this site


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_pages_say_when_the_warehouse_is_not_ready(warehouse, monkeypatch):
    """An empty warehouse (marts not built) and no warehouse at all each get a page saying what
    to do, not a server error."""
    from fastapi.testclient import TestClient

    from poverty_pipeline.ui.app import app, require_ui_user

    app.dependency_overrides[require_ui_user] = lambda: None  # signed in (checked above)
    try:
        client = TestClient(app)
        for path in ("/submissions", "/poverty"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "warehouse_build" in response.text and "does not exist" in response.text, path
        monkeypatch.delenv("POVERTY_WAREHOUSE_URL")
        response = client.get("/poverty")
        assert response.status_code == 503 and "POVERTY_WAREHOUSE_URL" in response.text
    finally:
        app.dependency_overrides.clear()
