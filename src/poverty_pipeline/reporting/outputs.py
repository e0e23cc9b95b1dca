"""Where a run's results are: the workbooks and feedback reports it writes into the landing, the
Data Docs and dbt docs sites, the pages, the warehouse and the logs — the table ``poverty run``
ends with. Every location comes from the setting or constant its writer uses, so the printed
paths are the written ones; a local one not written yet says what writes it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from poverty_pipeline.config import LOCAL_DIR, dbt_docs_dir
from poverty_pipeline.ingest import locations

# What `poverty ui` serves by default, and where Airflow's simple auth manager writes the
# password it generates for the user ``admin`` (under AIRFLOW_HOME).
UI_HOST, UI_PORT = "127.0.0.1", 8080
UI_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
# The pages in the Airflow UI: the plugin's nav entries (their url_route under /plugin/), and the
# Data Docs, which open as a site of their own.
PAGES = (("Poverty", "plugin/poverty-poverty"), ("Submissions", "plugin/poverty-submissions"),
         ("dbt docs", "plugin/poverty-dbt-docs"), ("Data Docs", "poverty/data-docs/"))


@dataclass(frozen=True)
class Output:
    what: str
    where: str  # a local path, a URL, or what to run
    path: Path | None = None  # the local file or folder, when it exists
    note: str = ""


def airflow_home() -> Path:
    """The AIRFLOW_HOME of ``poverty run`` and ``poverty ui`` (``runner.airflow_env``)."""
    return LOCAL_DIR / "airflow"


def ui_url(port: int = UI_PORT) -> str:
    return f"http://{UI_HOST}:{port}"


def sign_in(home: Path | None = None) -> str:
    """How to sign in to the local Airflow UI: its user and the file holding the password."""
    return f"user {UI_USER}, password in {shown((home or airflow_home()) / PASSWORDS_FILE)}"


def shown(path: Path) -> str:
    """A local path as printed: relative to the current folder when inside it (``make run``
    runs from the repository's root), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = quote(parts.username or "", safe="")
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _landing_output(what: str, landing_url: str, folder: tuple[str, ...], pattern: str,
                    written_by: str) -> Output:
    where = locations.child(locations.root_of(landing_url), *folder)
    if not where.is_local:
        return Output(what, f"{where.scheme}://{where.authority}/{'/'.join(where.segments)}/")
    path = where.local_path()
    if not path.is_dir():
        return Output(what, f"{shown(path)}/", note=f"not written yet: {written_by}")
    count = sum(1 for _ in path.rglob(pattern))
    return Output(what, f"{shown(path)}/", path, f"{count} file{'s' * (count != 1)}")


def listing(landing_url: str, warehouse_url: str, log_dir: Path | None = None,
            port: int = UI_PORT) -> list[Output]:
    """The run's outputs, in the order a reader looks for them."""
    from poverty_pipeline.ingest import data_docs
    from poverty_pipeline.ingest.feedback import FEEDBACK_FOLDER
    from poverty_pipeline.reporting.followup import FOLLOW_UP_FOLDER
    from poverty_pipeline.reporting.review_report import REPORT_FOLDER

    build = "the warehouse_build DAG writes it"
    out = [
        _landing_output("Review summaries (xlsx)", landing_url, REPORT_FOLDER, "*.xlsx", build),
        _landing_output("Follow-up lists (xlsx)", landing_url, FOLLOW_UP_FOLDER, "*.xlsx", build),
        _landing_output("Feedback reports (html)", landing_url, (FEEDBACK_FOLDER,), "*.html",
                        "the ingest DAGs write one per file"),
    ]
    index = data_docs.index_path()
    out.append(Output("Data Docs (Great Expectations)", shown(index), index) if index.is_file() else
               Output("Data Docs (Great Expectations)", shown(index), note="not written yet: the "
                      "ingest DAGs and the build's quality gate write it"))
    # `dbt docs generate` takes 10 s and more (dbt's start, the catalog query): not run by
    # every `poverty run`, only said
    docs = dbt_docs_dir() / "index.html"
    out.append(Output("dbt docs", shown(docs), docs, "rebuild: `make docs`") if docs.is_file() else
               Output("dbt docs", "`make docs`", note=f"builds {shown(docs)}"))
    base = ui_url(port)
    out.append(Output("Pages (run `poverty ui`)", f"{base}/{PAGES[0][1]}", note=PAGES[0][0]))
    out.extend(Output("", f"{base}/{route}", note=name) for name, route in PAGES[1:])
    out.append(Output("", f"sign in: {sign_in()}"))
    out.append(Output("Warehouse", without_password(warehouse_url),
                      note="schema marts; problems per file in audit.submission_problems"))
    logs = log_dir or LOCAL_DIR / "logs"
    out.append(Output("Airflow logs", f"{shown(logs)}/", logs if logs.is_dir() else None,
                      "one file per DAG" if logs.is_dir() else "not written yet: `poverty run`"))
    return out


def format_table(outputs: list[Output]) -> str:
    width = max(len(o.what) for o in outputs) + 2
    lines = ["Outputs"]
    for o in outputs:
        lines.append(f"  {o.what:<{width}}{o.where}" + (f"  ({o.note})" if o.note else ""))
    return "\n".join(lines)
