"""The FastAPI app behind the pages (mounted by the Airflow plugin under ``/poverty``).

Every route needs a signed-in Airflow user allowed to use the UI (the same token the Airflow
UI holds; the pages open inside it); a browser that is not signed in is sent to Airflow's
sign-in page, which brings it back. Links between pages are relative, so the app works under
any base URL or proxy prefix.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import psycopg
from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from poverty_pipeline import config
from poverty_pipeline.config import dbt_docs_dir
from poverty_pipeline.reporting import followup
from poverty_pipeline.ui import downloads, files, labels, queries
from poverty_pipeline.ui.poverty_view import build as poverty_context
from poverty_pipeline.ui.poverty_view import build_commune, build_district
from poverty_pipeline.ui.security import SecurityHeaders

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Where the Airflow plugin mounts the app (poverty_ui_plugin.URL_PREFIX).
MOUNT = "/poverty"

# The pages and their nav entries in the Airflow UI (the plugin's external views).
PAGES = (
    ("submissions", "Nộp báo cáo · Submissions"),
    ("poverty", "Tình hình nghèo · Poverty"),
    ("dbt-docs/", "Tài liệu dbt · dbt docs"),
    ("data-docs/", "Kiểm tra dữ liệu · Data Docs"),
)


def require_ui_user(user: GetUserDep) -> None:
    """The caller must be an Airflow user allowed to use the UI (bearer token or the UI's
    session cookie, resolved by Airflow's own security dependency)."""
    if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise HTTPException(403, "Không có quyền xem / not allowed")


app = FastAPI(
    title="Tiền Giang poverty pages",
    dependencies=[Depends(require_ui_user)],
    docs_url=None, redoc_url=None, openapi_url=None,
)
app.add_middleware(SecurityHeaders)

# Airflow's own sign-in route (whatever the auth manager), which checks ``next`` is of this site.
LOGIN_ROUTE = "/api/v2/auth/login"


def login_url(request: Request) -> str:
    """Airflow's sign-in, coming back to ``request``'s page: the app is mounted at
    ``<base>/poverty``, and the API server's routes lie under ``<base>``."""
    root = request.scope.get("root_path", "")
    base = root[: -len(MOUNT)] if root.endswith(MOUNT) else root
    return f"{base}{LOGIN_ROUTE}?{urlencode({'next': str(request.url)})}"


@app.exception_handler(StarletteHTTPException)
async def sign_in_first(request: Request, exc: StarletteHTTPException) -> Response:
    """A browser opening a page without (or with an expired) sign-in gets Airflow's sign-in
    page, not JSON; a script or API client still gets 401."""
    expired = exc.status_code == 403 and exc.detail == "Invalid JWT token"
    if (exc.status_code == 401 or expired) and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(login_url(request), status_code=303)
    return await http_exception_handler(request, exc)


# ------------------------------------------------------------------ formatting (Vietnamese)


def number(value, digits: int = 0) -> str:
    """18.331 and 0,28 — Vietnamese separators."""
    if value is None:
        return "–"
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(rate, digits: int = 2) -> str:
    """A 0–1 rate as a percentage: 0.0027676 → 0,28%."""
    return "–" if rate is None else number(Decimal(rate) * 100, digits) + "%"


# The units of rpt_target_progress (ref_poverty_targets.unit).
UNITS = {"percent": "%", "percentage_points": " điểm % (pp)", "households": " hộ (households)"}


def measure(value, unit: str | None, comparison: str | None = None) -> str:
    """A target's value in its unit: 0,28%, 1 điểm % (pp), 694 hộ (households). A count of
    households is whole: "at most 12.112,5" is at most 12.112 households, "at least 3,2" is 4."""
    if value is None:
        return "–"
    if unit == "households":
        value = (math.floor(value) if comparison == "at_most" else
                 math.ceil(value) if comparison == "at_least" else round(value))
    text = number(value, 2)
    text = text.rstrip("0").rstrip(",") if "," in text else text
    return text + UNITS.get(unit or "", "")


TEMPLATES.filters.update(number=number, percent=percent, measure=measure)
TEMPLATES.globals.update(pages=PAGES, vi_en=labels.vi_en, labels=labels)


def render(name: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status_code)


# The warehouse not reachable, or its marts not built yet: a page saying so, not a stack trace.
@app.exception_handler(psycopg.errors.UndefinedTable)
def marts_missing(request: Request, exc: psycopg.errors.UndefinedTable) -> HTMLResponse:
    return render("unavailable.html", 503, active="", problem=str(exc).splitlines()[0],
                  hint_vi="Chưa xây dựng kho dữ liệu: chạy DAG warehouse_build (hoặc make run).",
                  hint_en="The marts are not built yet: run the warehouse_build DAG (or make run).")


@app.exception_handler(queries.WarehouseUnavailable)
def warehouse_unreachable(request: Request, exc: queries.WarehouseUnavailable) -> HTMLResponse:
    return render("unavailable.html", 503, active="", problem=str(exc).splitlines()[0],
                  hint_vi="Không kết nối được kho dữ liệu: kiểm tra POVERTY_WAREHOUSE_URL.",
                  hint_en="The warehouse cannot be reached: check POVERTY_WAREHOUSE_URL.")


# ------------------------------------------------------------------ pages


@app.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return render("index.html", active="")


@app.get("/submissions", response_class=HTMLResponse)
def submissions_page(period: str | None = None) -> HTMLResponse:
    with queries.read_only() as conn:
        periods = queries.periods(conn)
        period = period if period in {p["period"] for p in periods} else queries.default_period(periods)
        rows = queries.submissions(conn, period) if period else []
        rates = queries.reporting_rates(conn, period) if period else []
    landing = config.landing_url()
    for row in rows:
        row["feedback_href"] = feedback_href(row, landing)
    follow_up = [n for n in files.workbook_names(landing, "follow-up")
                 if period and n == followup.period_file_name(period)]
    return render(
        "submissions.html", active="submissions", periods=periods, period=period, rates=rates,
        follow_up=follow_up,
        communes=[r for r in rows if r["submitter_type"] == "commune"],
        agencies=[r for r in rows if r["submitter_type"] == "agency"],
    )


def feedback_href(row: dict, landing_url: str) -> str | None:
    """Where the page links a submission's feedback report: a web URL as recorded; any other
    recorded URL through this app; before URLs are recorded, the conventional file when a
    local landing folder holds it."""
    submission_id, url = row["latest_submission_id"], row["feedback_url"]
    if not submission_id:
        return None
    if url:
        return url if urlsplit(url).scheme in ("http", "https") else f"feedback/{quote(submission_id)}"
    conventional = files.conventional_feedback_url(landing_url, row["latest_path"] or "")
    if files.local_feedback(landing_url, conventional) is not None:
        return f"feedback/{quote(submission_id)}"
    return None


@app.get("/feedback/{submission_id}")
def feedback(submission_id: str) -> Response:
    """The feedback report of a submission, read only from inside ``<landing>/_feedback/``:
    at its recorded URL, else (no URL recorded, or one written unencoded by an earlier
    version and not found) at the conventional place of its landed path."""
    with queries.read_only() as conn:
        found = queries.feedback_location(conn, submission_id)
    if found is None:
        raise HTTPException(404, "Không có hồ sơ nộp / no such submission")
    path, url = found
    landing = config.landing_url()
    conventional = files.conventional_feedback_url(landing, path)
    try:
        return files.read_feedback(landing, url or conventional)
    except HTTPException:
        if not url or url == conventional:
            raise
    return files.read_feedback(landing, conventional)


@app.get("/poverty", response_class=HTMLResponse)
def poverty_page(year: int | None = None) -> HTMLResponse:
    with queries.read_only() as conn:
        standards = queries.standards(conn)
        codes = [s["standard_code"] for s in standards]
        rates = queries.poor_rates(conn, codes)
        targets = queries.poor_rate_targets(conn)
        progress = queries.target_progress(conn)
        flows = queries.province_flows(conn, codes)
        years = queries.task_years(conn)
        year = year if year in years else (years[0] if years else None)
        completion = queries.task_completion(conn, year) if year else []
        results = queries.plan_results(conn, year) if year else []
        districts = queries.districts(conn)
    return render("poverty.html", active="poverty",
                  review_workbooks=files.workbook_names(config.landing_url(), "review-summary"),
                  **poverty_context(standards, rates, targets, progress, flows, completion, results,
                                    years, year, districts))


@app.get("/district", response_class=HTMLResponse)
def district_page(code: str | None = None) -> HTMLResponse:
    """A district and its communes, each over the review years (the drill-down of the Poverty
    page's table; the filter picks another district)."""
    with queries.read_only() as conn:
        districts = queries.districts(conn)
        known = {d["area_code"]: d for d in districts}
        if code not in known:
            if code or not districts:
                raise HTTPException(404, "Không có huyện này / no such district")
            code = districts[0]["area_code"]
        standards = queries.standards(conn)
        codes = [s["standard_code"] for s in standards]
        rates = queries.district_rates(conn, codes, code)
        targets = queries.poor_rate_targets(conn)
        flows = queries.area_flows(conn, codes, "district", code)
    return render("district.html", active="poverty", districts=districts,
                  **build_district(standards, rates, targets, flows, known[code]))


@app.get("/commune", response_class=HTMLResponse)
def commune_page(code: str) -> HTMLResponse:
    """A commune (a unit of the review date) over the review years, with its flows."""
    with queries.read_only() as conn:
        standards = queries.standards(conn)
        codes = [s["standard_code"] for s in standards]
        rates = queries.commune_rates(conn, codes, code)
        if not rates:
            raise HTTPException(404, "Không có xã này / no such commune")
        targets = queries.poor_rate_targets(conn)
        flows = queries.area_flows(conn, codes, "commune", code)
        districts = {d["area_code"]: d["area_name"] for d in queries.districts(conn)}
    return render("commune.html", active="poverty", code=code, district_names=districts,
                  **build_commune(standards, rates, targets, flows))


@app.get("/workbook/{kind}/{name}")
def workbook(kind: str, name: str) -> Response:
    """A workbook the build exported (the review summary of a year, a period's follow-up
    list), from its folder of the landing only."""
    return files.read_workbook(config.landing_url(), kind, name)


@app.get("/csv/{table}")
def csv_download(table: str, request: Request) -> Response:
    """A table of the pages as CSV, from the query the page reads."""
    with queries.read_only() as conn:
        return downloads.download(conn, table, request.query_params)


# ------------------------------------------------------------------ documentation sites


@app.get("/dbt-docs", include_in_schema=False)
@app.get("/data-docs", include_in_schema=False)
def add_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url.path.rsplit("/", 1)[-1] + "/")


@app.get("/dbt-docs/{name:path}")
def dbt_docs(name: str = "") -> Response:
    target = dbt_docs_dir()
    name = name or "index.html"
    if name not in files.DBT_DOCS_FILES:
        raise HTTPException(404, "Không có / not part of the dbt docs site")
    path = files.file_in(target, name)
    if path is None:
        if name == "index.html":
            return render("not_built.html", active="dbt-docs/", site="dbt docs", folder=str(target),
                          command="make docs")
        raise HTTPException(404, f"{name}: chưa tạo / not generated (make docs)")
    return files.send(path)


@app.get("/data-docs/{name:path}")
def data_docs(name: str = "") -> Response:
    root = config.data_docs_dir()
    path = files.file_in(root, name or "index.html")
    if path is None:
        if not name or name == "index.html":
            return render("not_built.html", active="data-docs/", site="Data Docs", folder=str(root),
                          command="make run")
        raise HTTPException(404, f"{name}: không có / not found")
    return files.send(path)
