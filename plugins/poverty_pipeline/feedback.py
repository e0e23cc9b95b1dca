"""The feedback report each submitter gets for each file, in Vietnamese with English beside it.

Written next to the landing area, to
``<landing>/_feedback/<landing folder>/<period>/<file name>.feedback.html`` with a
``.feedback.json`` twin, through ObjectStoragePath (the landing may be object storage); a name
too long for a file system or an object store is shortened with a hash (``feedback_key``). It
holds the outcome and every problem with sheet, row, column, value, rule and how to fix it —
built only from the submission itself, so it names no other commune or agency. Every text is
HTML-escaped, and cell values pass through ``cell_safety.neutralise`` because spreadsheet
programs open HTML tables and would evaluate ``=…`` (the JSON keeps the values as submitted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from functools import cache
from importlib import resources

import yaml

from poverty_pipeline.cell_safety import neutralise
from poverty_pipeline.locations import url_of
from poverty_pipeline.normalise import Submission
from poverty_pipeline.problems import Problem, printable

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


@cache
def fixes() -> dict[str, dict[str, str]]:
    text = resources.files("poverty_pipeline").joinpath("contracts/fixes.yml").read_text("utf-8")
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


def _cell(value: object) -> str:
    """A table cell: formula-neutralised, then escaped."""
    return html.escape("" if value is None else str(neutralise(value)))


def render_html(data: dict) -> str:
    e = html.escape
    rows = []
    for p in data["problems"]:
        sev_vi, sev_en = SEVERITY_TEXT[p["severity"]]
        rows.append(
            f"<tr class=\"{e(p['severity'])}\"><td>{e(sev_vi)}<br><i>{e(sev_en)}</i></td>"
            f"<td>{_cell(p['sheet'])}</td><td>{_cell(p['row'])}</td><td>{_cell(p['column'])}</td>"
            f"<td><code>{_cell(p['value'])}</code></td><td>{_cell(p['rule'])}</td>"
            f"<td>{_cell(p['message_vi'])}<br><i>{_cell(p['message_en'])}</i></td>"
            f"<td>{_cell(p['fix_vi'])}<br><i>{_cell(p['fix_en'])}</i></td></tr>"
        )
    problems = (
        "<table><thead><tr><th>Mức độ<br><i>Severity</i></th><th>Sheet</th><th>Dòng<br><i>Row</i></th>"
        "<th>Cột<br><i>Column</i></th><th>Giá trị<br><i>Value</i></th><th>Quy tắc<br><i>Rule</i></th>"
        "<th>Vấn đề<br><i>Problem</i></th><th>Cách sửa<br><i>How to fix</i></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows else "<p>Không có vấn đề nào. <i>No problems found.</i></p>"
    )
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Phản hồi / Feedback: {_cell(data['file'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px 8px;vertical-align:top;text-align:left}}
tr.error td:first-child{{color:#b00}}tr.warning td:first-child{{color:#a60}}i{{color:#555}}</style>
</head><body>
<h1>Kết quả tiếp nhận tệp <i>/ Submission feedback</i></h1>
<table>
<tr><th>Tệp <i>/ File</i></th><td>{_cell(data['path'])}</td></tr>
<tr><th>Đơn vị <i>/ Submitter</i></th><td>{_cell(data['submitter_code'])}</td></tr>
<tr><th>Kỳ <i>/ Period</i></th><td>{_cell(data['period'])}</td></tr>
<tr><th>Kết quả <i>/ Status</i></th>
<td><b>{e(data["status_vi"])}</b><br><i>{e(data["status_en"])}</i></td></tr>
<tr><th>Số dòng đã nhập <i>/ Rows loaded</i></th><td>{data['rows_loaded']}</td></tr>
<tr><th>Lỗi / Cảnh báo <i>/ Errors / Warnings</i></th><td>{data['errors']} / {data['warnings']}</td></tr>
<tr><th>Mã tệp <i>/ Submission id</i></th><td><code>{e(data['submission_id'])}</code></td></tr>
</table>
<h2>Các vấn đề <i>/ Problems</i></h2>
{problems}
</body></html>
"""


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
