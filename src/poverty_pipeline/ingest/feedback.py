"""The feedback report each submitter gets for each file, in Vietnamese with English beside it.

Written next to the landing area, to
``<landing>/_feedback/<landing folder>/<period>/<file name>.feedback.html`` with a
``.feedback.json`` twin, through ObjectStoragePath (the landing may be object storage); a name
too long for a file system or an object store is shortened with a hash (``feedback_key``). It
holds the outcome and every problem with sheet, row, column, value, rule and how to fix it —
built only from the submission itself (and the seeds' name of its own submitter), so it names
no other commune or agency. The page is the Jinja2 template ``templates/feedback.html``,
autoescaped: columns are named by the contract's Vietnamese labels, errors come before warnings,
and values are shown as submitted, in cells formatted as text so that a spreadsheet program
opening the page shows ``=…`` as written rather than evaluating it (the JSON keeps the values
as submitted, and the problems in the order found).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import jinja2
import yaml

from poverty_pipeline.ingest.locations import url_of
from poverty_pipeline.ingest.problems import Problem, printable
from poverty_pipeline.ingest.submission import Submission
from poverty_pipeline.reference import labels

FEEDBACK_FOLDER = "_feedback"

STATUS_TEXT = {
    "accepted": ("Đã tiếp nhận", "Accepted"),
    "accepted_with_warnings": ("Đã tiếp nhận, có cảnh báo", "Accepted with warnings"),
    "superseded": ("Đã tiếp nhận làm lịch sử — đã có bản lập sau của cùng kỳ",
                   "Taken in as history — a version prepared later is in use"),
    "rejected": ("Bị từ chối — chưa nhập dữ liệu nào; hãy sửa và gửi lại",
                 "Rejected — nothing was loaded; correct the file and resubmit"),
}
SEVERITY_TEXT = {"error": ("Lỗi", "Error"), "warning": ("Cảnh báo", "Warning")}
PROVINCE_TIME = ZoneInfo("Asia/Ho_Chi_Minh")


@cache
def fixes() -> dict[str, dict[str, str]]:
    text = resources.files("poverty_pipeline.reference").joinpath("contracts/fixes.yml").read_text("utf-8")
    return yaml.safe_load(text)


def how_to_fix(rule: str) -> dict[str, str]:
    return fixes().get(rule) or fixes()["default"]


# File systems take names of up to 255 bytes and object stores keys of up to 1,024: a report's
# name is bounded by construction, whatever the landed name (which may use all 255 bytes).
NAME_BYTES = 200  # one part of a report's path, its suffix included
PATH_BYTES = 900  # the whole path under the landing root


def _shortened(part: str, limit: int) -> str:
    """``part`` when it fits ``limit`` bytes, else its start and a hash of all of it."""
    encoded = part.encode("utf-8", "surrogateescape")
    if len(encoded) <= limit:
        return part
    digest = hashlib.sha256(encoded).hexdigest()[:12]
    head = encoded[:limit - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}~{digest}"


def feedback_key(landed_path: str, suffix: str) -> str:
    """``_feedback/<folder>/<period>/<name><suffix>`` for a file landed at
    ``<folder>/<period>/<name>`` (``<name>`` may contain sub-folders). A part too long for a
    file system is shortened and given a hash of its full name; a path too long for an object
    store keeps its first two folders and a hash of the rest. Distinct landed paths give
    distinct reports."""
    parts = [p for p in landed_path.split("/") if p not in ("", ".", "..")] or ["_"]
    folders = [_shortened(p, NAME_BYTES) for p in parts[:-1]]
    name = _shortened(parts[-1], NAME_BYTES - len(suffix.encode())) + suffix
    key = "/".join([FEEDBACK_FOLDER, *folders, name])
    if len(key.encode("utf-8", "surrogateescape")) > PATH_BYTES:
        rest = hashlib.sha256("/".join(parts[2:]).encode("utf-8", "surrogateescape")).hexdigest()[:24]
        key = "/".join([FEEDBACK_FOLDER, *folders[:2], rest + suffix])
    return key


def feedback_path(root, landed_path: str, suffix: str):
    """Where the report ``suffix`` of the file landed at ``landed_path`` goes, under ``root``."""
    target = root
    for part in feedback_key(landed_path, suffix).split("/"):
        target = target / part
    return target


def report(sub: Submission, status: str, rows_loaded: int, submitter: str | None,
           period: str | None) -> dict:
    """The report as data (the JSON twin); only what this submission itself holds."""
    vi, en = STATUS_TEXT[status]
    path = printable(sub.path)
    return {
        "file": path.rsplit("/", 1)[-1],
        "path": path,
        "submission_id": sub.submission_id,
        "submitter_code": submitter,
        "submitter_name": labels.submitter_name(submitter, period),
        "period": period,
        "status": status,
        "status_vi": vi,
        "status_en": en,
        "rows_loaded": rows_loaded,
        "errors": sum(p.is_error for p in sub.problems),
        "warnings": sum(not p.is_error for p in sub.problems),
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "problems": [_problem(p) for p in sub.problems],
    }


def _problem(p: Problem) -> dict:
    fix = how_to_fix(p.rule)
    return {"severity": p.severity, "sheet": p.sheet, "row": p.row_number, "column": p.column_name,
            "value": p.value, "rule": p.rule, "message_vi": p.message_vi, "message_en": p.message_en,
            "fix_vi": fix["vi"], "fix_en": fix["en"]}


@cache
def _environment() -> jinja2.Environment:
    # autoescape on: submitted values, names and messages are always shown as text
    return jinja2.Environment(loader=jinja2.PackageLoader("poverty_pipeline.ingest", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


def _written_at(iso: str) -> str:
    """``dd/mm/yyyy HH:MM`` in the province's time."""
    return labels.date_time(dt.datetime.fromisoformat(iso).astimezone(PROVINCE_TIME))


def render_html(data: dict) -> str:
    """The report as a page: columns named by the contract's words (the code beside them),
    values as submitted, errors before warnings (the order found within each)."""
    problems = []
    for p in sorted(data["problems"], key=lambda p: p["severity"] != "error"):
        severity_vi, severity_en = SEVERITY_TEXT[p["severity"]]
        label = labels.column_label(p["sheet"], p["column"])
        problems.append({**p, "severity_vi": severity_vi, "severity_en": severity_en,
                         "column_label": label if label != p["column"] else None})
    return _environment().get_template("feedback.html").render(
        **{**data, "problems": problems, "rows_loaded": labels.number(data["rows_loaded"]),
           "errors": labels.number(data["errors"]), "warnings": labels.number(data["warnings"]),
           "written_at": _written_at(data["written_at"])})


def write_feedback(root, sub: Submission, status: str, rows_loaded: int, submitter: str | None,
                   period: str | None) -> str:
    """Write the HTML report and its JSON twin; return the HTML report's URL."""
    data = report(sub, status, rows_loaded, submitter, period)
    target = feedback_path(root, sub.path, ".feedback.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    feedback_path(root, sub.path, ".feedback.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    target.write_text(render_html(data), encoding="utf-8")
    return _url(target)


def _url(path) -> str:
    """Percent-encoded (``locations.url_of``): a name with ``#``, ``?`` or ``%`` round-trips."""
    return url_of(path)
