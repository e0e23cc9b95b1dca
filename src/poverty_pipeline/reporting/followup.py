"""Follow-up lists: per period, the submissions to chase — expected ones that are overdue (nothing
arrived by the deadline) and rejected ones (only rejected files arrived) — with whom to contact.

The rows are the dbt model ``restricted.rst_follow_up_list``: ``marts.fct_submission_status``
where ``follow_up_reason`` is set, plus rejected files that cannot be attributed to a submitter
or period at all, each with the contacts to choose from. The contact is, in this order: the
preparer (and phone) the latest file itself gives (kept for rejected files too, in the
restricted ``raw.submission_contacts``), else the one the submitter's most recent file gave,
else the registry's contact (``reference.ref_reporting_agencies``). The list of a period is
written to ``<landing>/_reports/follow_up/<period>.xlsx`` (Vietnamese with English beside it);
a period with nothing to chase has no file (an old one is removed). When an Airflow SMTP
connection ``smtp_default`` exists and names recipients (extra ``follow_up_to``), the files are
e-mailed; otherwise they are only written.

The workbook reads in words: kinds of report and contact sources by their labels, a submitter
without a name in the marts named from the seeds, deadlines and receipt times as real dates
(dd/mm/yyyy), text a spreadsheet would evaluate in quote-prefixed cells (shown as written). It
prints A4 landscape, one page wide, its two header rows on every page, with filters on its
columns.

The lists carry names and phone numbers: they are read from schema ``restricted`` (owner only)
and go to the landing location (restricted, like the submissions themselves), never to the
``marts`` schema.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import re
from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row

from poverty_pipeline.ingest.cell_safety import formula_like
from poverty_pipeline.reference import labels

log = logging.getLogger(__name__)

FOLLOW_UP_FOLDER = ("_reports", "follow_up")
SHEET_NAME = "Cần đôn đốc"
SMTP_CONN_ID = "smtp_default"

# The rows, their contacts and first errors are joined in dbt (restricted.rst_follow_up_list,
# docs in its YAML); the ties after the submitter are broken so the workbooks are reproducible.
FOLLOW_UP_SQL = """
select *
  from restricted.rst_follow_up_list
 order by period, submitter_type, group_name nulls last, submitter_code, submission_kind, submission_id
"""

# (key, Vietnamese header, English header, column width)
COLUMNS = (
    ("period", "Kỳ", "Period", 9),
    ("submission_kind", "Loại báo cáo", "Kind of submission", 24),
    ("submitter_code", "Mã", "Code", 10),
    ("submitter_name", "Tên xã / đơn vị", "Commune / agency", 34),
    ("group_name", "Huyện / khối", "District / group", 26),
    ("deadline_on", "Hạn nộp", "Deadline", 11),
    ("reason_vi", "Tình trạng", "Status", 22),
    ("days_overdue", "Số ngày quá hạn", "Days overdue", 9),
    ("latest_path", "Tệp gần nhất", "Latest file", 40),
    ("latest_received_at", "Nhận lúc", "Received at", 17),
    ("first_problem_vi", "Lỗi đầu tiên", "First problem", 50),
    ("first_problem_en", "Lỗi đầu tiên (tiếng Anh)", "First problem (English)", 50),
    ("contact_name", "Người liên hệ", "Contact", 24),
    ("contact_phone", "Điện thoại", "Phone", 14),
    ("contact_email", "Email", "E-mail", 24),
    ("contact_source", "Nguồn thông tin liên hệ", "Contact from", 22),
)
REASONS = {
    "overdue": ("Quá hạn, chưa nộp", "overdue, nothing received"),
    "rejected": ("Bị từ chối, cần nộp lại", "rejected, to be resubmitted"),
}
CONTACT_SOURCES = {
    "submission": "tệp đã nộp / the file",
    "previous_submission": "tệp trước của đơn vị / an earlier file",
    "registry": "danh bạ đơn vị / the registry",
}


@dataclass
class FollowUpResult:
    periods: dict[str, int] = field(default_factory=dict)  # period → rows listed
    files: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    emailed: bool = False

    def as_dict(self) -> dict:
        return {"periods": len(self.periods), "rows": sum(self.periods.values()),
                "files": self.files, "removed": self.removed, "emailed": self.emailed}


def choose_contact(row: dict) -> dict:
    """The contact of a row: the file's own preparer, else the submitter's most recent one,
    else the registry's — whichever first gives a name or a phone, both taken from it."""
    for source, name, phone, email in (
        ("submission", row.get("own_name"), row.get("own_phone"), None),
        ("previous_submission", row.get("previous_name"), row.get("previous_phone"), None),
        ("registry", row.get("registry_name"), row.get("registry_phone"), row.get("registry_email")),
    ):
        if name or phone or email:
            return {"contact_name": name, "contact_phone": phone, "contact_email": email,
                    "contact_source": source}
    return {"contact_name": None, "contact_phone": None, "contact_email": None,
            "contact_source": None}


def follow_up_rows(conn: psycopg.Connection) -> list[dict]:
    """Every row of every period's follow-up list, contact chosen."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(FOLLOW_UP_SQL).fetchall()
    out = []
    for row in rows:
        reason_vi, reason_en = REASONS[row["follow_up_reason"]]
        name = row["submitter_name"] or labels.submitter_name(row["submitter_code"], row["period"])
        out.append({**row, **choose_contact(row), "submitter_name": name,
                    "reason_vi": f"{reason_vi} / {reason_en}"})
    return out


def period_file_name(period: str | None) -> str:
    """A safe file name for a period (2024, 2024-Q1, 2024-03; anything else sanitised)."""
    text = re.sub(r"[^0-9A-Za-z_-]+", "_", period or "").strip("_")
    return f"{text or 'khong_xac_dinh'}.xlsx"


def to_xlsx_bytes(rows: list[dict], as_of: dt.date) -> bytes:
    """One period's follow-up list as a workbook (sheet ``SHEET_NAME``)."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"created": dt.datetime(as_of.year, as_of.month, as_of.day),
                         "title": "Danh sách cần đôn đốc / Follow-up list",
                         "author": "poverty_pipeline"})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
    header_en = book.add_format({"italic": True, "text_wrap": True, "valign": "top", "bg_color": "#F2F2F2"})
    quoted = book.add_format({"quote_prefix": True})
    count = book.add_format({"num_format": "#,##0"})
    day = book.add_format({"num_format": labels.EXCEL_DATE_FORMAT, "align": "left"})
    moment = book.add_format({"num_format": labels.EXCEL_DATETIME_FORMAT, "align": "left"})
    ws = book.add_worksheet(SHEET_NAME)
    for col, (_, vi, en, width) in enumerate(COLUMNS):
        ws.set_column(col, col, width)
        ws.write_string(0, col, vi, header)
        ws.write_string(1, col, en, header_en)
    for r, row in enumerate(rows, start=2):
        for col, (key, *_rest) in enumerate(COLUMNS):
            value = row.get(key)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, col, value.replace(tzinfo=None), moment)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, col, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                ws.write_number(r, col, value, count)
            else:
                text = str(_words(key, value))
                ws.write_string(r, col, text, quoted if formula_like(text) else None)
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, max(1, len(rows) + 1), len(COLUMNS) - 1)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # one page wide
    ws.repeat_rows(0, 1)
    ws.set_footer("&CTrang &P/&N")
    book.close()
    return buffer.getvalue()


def _words(key: str, value: object) -> object:
    """The label of a coded value (kind of report, where the contact came from)."""
    if key == "submission_kind":
        return labels.vi_en(labels.SUBMISSION_KIND, value)
    if key == "contact_source":
        return CONTACT_SOURCES.get(value, value)
    return value


def write_follow_up(conn: psycopg.Connection, landing_url: str,
                    as_of: dt.date | None = None) -> FollowUpResult:
    """Write each period's list to ``<landing>/_reports/follow_up/<period>.xlsx``; remove the
    list of a period that no longer has anything to chase."""
    from airflow.sdk import ObjectStoragePath

    rows = follow_up_rows(conn)
    as_of = as_of or max((r["as_of_date"] for r in rows if r["as_of_date"]), default=dt.date.today())
    by_period: dict[str, list[dict]] = {}
    for row in rows:
        by_period.setdefault(period_file_name(row["period"]), []).append(row)
    folder = ObjectStoragePath(landing_url).joinpath(*FOLLOW_UP_FOLDER)
    if folder.protocol in ("", "file", "local"):
        folder.mkdir(parents=True, exist_ok=True)
    result = FollowUpResult()
    for name in sorted(by_period):
        path = folder / name
        path.write_bytes(to_xlsx_bytes(by_period[name], as_of))
        result.periods[name.removesuffix(".xlsx")] = len(by_period[name])
        result.files.append(str(path))
    if folder.exists():
        for old in sorted(folder.iterdir(), key=str):
            if old.name.endswith(".xlsx") and old.name not in by_period:
                old.unlink()
                result.removed.append(str(old))
    log.info("follow-up lists: %d rows in %d period(s) written to %s", len(rows), len(by_period), folder)
    return result


def smtp_connection(conn_id: str = SMTP_CONN_ID):
    """The Airflow connection ``conn_id``, or None when it is not configured."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def email_follow_up(result: FollowUpResult, conn_id: str = SMTP_CONN_ID) -> bool:
    """E-mail the written lists through the Airflow SMTP connection, when there is one with
    recipients (extra ``follow_up_to``: addresses separated by , or ;). Returns whether sent."""
    if not result.files:
        return False
    connection = smtp_connection(conn_id)
    if connection is None:
        log.info("no Airflow connection %r: follow-up lists written, not e-mailed", conn_id)
        return False
    recipients = [a.strip() for a in re.split(r"[,;]", str(connection.extra_dejson.get("follow_up_to") or ""))
                  if a.strip()]
    if not recipients:
        log.info("connection %r has no follow_up_to recipients: follow-up lists not e-mailed", conn_id)
        return False
    import tempfile
    from pathlib import Path

    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk import ObjectStoragePath

    with tempfile.TemporaryDirectory() as tmp:
        attachments = []
        for file in result.files:
            source = ObjectStoragePath(file)
            local = Path(tmp) / source.name
            local.write_bytes(source.read_bytes())
            attachments.append(str(local))
        listing = "".join(f"<li>{html.escape(period)}: {labels.number(n)}</li>"
                          for period, n in sorted(result.periods.items()))
        with SmtpHook(smtp_conn_id=conn_id) as hook:
            hook.send_email_smtp(
                to=recipients,
                subject="Danh sách báo cáo cần đôn đốc / Submissions to follow up",
                html_content=(
                    "<p>Các báo cáo quá hạn hoặc bị từ chối, theo kỳ (số dòng) / "
                    f"Overdue or rejected submissions by period (rows):</p><ul>{listing}</ul>"
                ),
                files=attachments,
            )
    log.info("follow-up lists e-mailed to %d recipient(s)", len(recipients))
    return True


def run_follow_up(conn: psycopg.Connection, landing_url: str, as_of: dt.date | None = None) -> dict:
    """The build task: write the lists, e-mail them when SMTP is configured."""
    result = write_follow_up(conn, landing_url, as_of)
    result.emailed = email_follow_up(result)
    return result.as_dict()
