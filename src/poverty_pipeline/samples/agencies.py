"""Sample agency task reports (contract ``agency_task_report``) for every agency of the registry.

Deterministic from ``seed``: the same arguments give the same reports and byte-identical files.
Each agency reports at its registry frequency (monthly, quarterly or annual) on the tasks the
registry assigns it, within the reporting calendar's window and the agency's active dates.
Activities are the agency's yearly work on a task (a stable ``ma_hoat_dong`` through the year),
with a planned quantity, a cumulative achieved quantity that grows period by period, a due date,
and a completion date once done — some finish late, some never do (overdue). Some reports are
missing, some are malformed (each breaking one rule of the contract), some malformed ones are
followed by a correction, and some good ones by a resubmission that supersedes them.

Lateness is not in the files: the warehouse measures it on the date the pipeline received a
file (``audit.submissions.received_at``), so every sample file counts as received on the day it
is ingested.

- :func:`build_reports` — the reports in memory (no I/O).
- :func:`to_json_bytes` / :func:`to_xlsx_bytes` — one report → file bytes (any contract).
- :func:`generate_agency_reports` — everything written to ``<landing>/agencies/<period>/``.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import io
import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import xlsxwriter

from poverty_pipeline.reference import registry
from poverty_pipeline.reference.contract import load_contract
from poverty_pipeline.samples.names import GIVEN_FEMALE, GIVEN_MALE, MIDDLE_FEMALE, MIDDLE_MALE, SURNAMES
from poverty_pipeline.samples.writers import write_cell

CONTRACT = "agency_task_report"
DEFAULT_YEARS = range(2021, 2026)

# Per task: (chi_tieu, don_vi_tinh, noi_dung, yearly planned quantity range).
ACTIVITY_TEMPLATES: dict[str, list[tuple[str, str, str, tuple[int, int]]]] = {
    "NV1": [("so_lop_tap_huan", "lop",
             "Quán triệt Kế hoạch 24-KH/TU, lồng ghép giảm nghèo vào kế hoạch năm", (2, 6))],
    "NV2": [("so_luot_tuyen_truyen", "luot",
             "Tuyên truyền, giới thiệu gương điển hình, mô hình giảm nghèo hiệu quả", (20, 120))],
    "NV3": [("so_ho_duoc_ho_tro", "ho", "Hỗ trợ hộ nghèo, hộ cận nghèo thoát nghèo", (50, 600)),
            ("so_mo_hinh", "mo_hinh", "Xây dựng mô hình sản xuất có hộ nghèo tham gia", (2, 10)),
            ("so_ho_tham_gia_mo_hinh", "ho", "Hộ nghèo, cận nghèo tham gia mô hình sản xuất", (20, 150))],
    "NV4": [("kinh_phi_huy_dong", "dong", "Huy động kinh phí cho công tác giảm nghèo",
             (200_000_000, 5_000_000_000))],
    "NV5": [("so_can_bo_tang_cuong", "nguoi", "Tăng cường cán bộ về xã nghèo, vùng khó khăn", (2, 10)),
            ("so_lop_tap_huan", "lop", "Tập huấn cán bộ làm công tác giảm nghèo", (1, 6))],
    "NV6": [("so_cuoc_kiem_tra", "cuoc", "Kiểm tra, giám sát thực hiện chính sách giảm nghèo", (2, 12))],
}
# Where an agency's funds come from (NV4).
FUNDING_SOURCE = {"NHCSXH": "tin_dung_chinh_sach", "UBMTTQ": "xa_hoi_hoa", "LDLD": "xa_hoi_hoa"}
DUE_DATES = ((6, 30), (9, 30), (12, 31), (12, 31))

P_MISSING = 0.04  # a report never sent
P_MALFORMED = 0.04  # a report breaking one rule …
P_CORRECTED = 0.5  # … followed by a correction
P_RESUBMITTED = 0.03  # a good report followed by a revised one (supersedes it)
P_UNUSUAL_UNIT = 0.03  # a warning, not a rejection
SESSION_COUNTS = ("so_lop_tap_huan", "so_luot_tuyen_truyen")  # may come counted in buoi (a warning)
MALFORMATIONS = ("completion_without_date", "negative_quantity", "unknown_task", "period_mismatch",
                 "completion_after_report", "unknown_agency")


@dataclass
class AgencyReport:
    """One report file of an agency for a period, as the agency would send it."""

    agency_code: str
    period: str
    fmt: str  # "xlsx" or "json"
    headers: str  # "code" or "label" (xlsx header style)
    parts: dict  # {"thong_tin": {...}, "hoat_dong": [...]}
    variant: str = "ok"  # ok | resubmission | correction | malformed:<what>
    suffix: str = ""  # "" for the first file, "_v2" for a correction or resubmission

    @property
    def filename(self) -> str:
        return f"{self.agency_code}_{self.period}{self.suffix}.{self.fmt}"

    @property
    def relative_path(self) -> str:
        return f"agencies/{self.period}/{self.filename}"


@dataclass
class AgencyGenerationSummary:
    landing: str
    seed: int
    files_written: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    variants: dict[str, int] = field(default_factory=dict)
    missing: int = 0

    def __str__(self) -> str:
        return (f"{self.files_written} agency report files, {self.bytes_written / 1e6:.1f} MB → "
                f"{self.landing} ({self.missing} reports left missing; {self.variants})")


# ----------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    code: str  # 2024, 2024-Q1, 2024-03
    start: dt.date
    end: dt.date

    @property
    def year_fraction(self) -> float:
        """How far through its year the period ends (the share of yearly work due by then)."""
        return self.end.month / 12


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, _calendar.monthrange(year, month)[1])


def periods_of(frequency: str, years: Iterable[int]) -> Iterator[Period]:
    for year in years:
        if frequency == "annual":
            yield Period(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))
        elif frequency == "quarterly":
            for q in range(1, 5):
                yield Period(f"{year}-Q{q}", dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
        elif frequency == "monthly":
            for m in range(1, 13):
                yield Period(f"{year}-{m:02d}", dt.date(year, m, 1), _month_end(year, m))
        else:
            raise ValueError(f"unknown reporting frequency {frequency!r}")


def expected_periods(agency: dict[str, str], years: Iterable[int]) -> list[Period]:
    """The periods the agency must report on: its frequency, within the calendar's window and
    its own active dates (periods overlapping both)."""
    cal = registry.agency_calendar(agency["reporting_frequency"])
    starts = [d for d in (registry.parse_date(cal["expected_from"]),
                          registry.parse_date(agency["active_from"])) if d]
    ends = [d for d in (registry.parse_date(cal["expected_to"]),
                        registry.parse_date(agency["active_to"])) if d]
    first, last = max(starts, default=dt.date.min), min(ends, default=dt.date.max)
    return [p for p in periods_of(agency["reporting_frequency"], years)
            if p.end >= first and p.start <= last]


# ----------------------------------------------------------------------------- content


def _preparer(rng: random.Random) -> str:
    if rng.random() < 0.5:
        middle, given = MIDDLE_FEMALE, GIVEN_FEMALE
    else:
        middle, given = MIDDLE_MALE, GIVEN_MALE
    surname = rng.choices(list(SURNAMES), weights=list(SURNAMES.values()))[0]
    return f"{surname} {rng.choices(list(middle), weights=list(middle.values()))[0]} {rng.choice(given)}"


@dataclass
class _Activity:
    code: str
    task: str
    indicator: str
    unit: str
    content: str
    planned: float
    due: dt.date
    pace: float  # share of the yearly plan done by the time the year is `pace`-complete
    reach: float  # share of the plan finally achieved (≥ 1: completed)
    source: str | None


def _year_activities(agency: str, tasks: Iterable[str], year: int, seed: int) -> list[_Activity]:
    rng = random.Random(f"{seed}:{agency}:{year}:activities")
    activities = []
    for task in tasks:
        templates = ACTIVITY_TEMPLATES[task]
        chosen = templates if agency == "SLDTBXH" else templates[:1] + rng.sample(templates[1:], k=min(
            len(templates) - 1, rng.randint(0, 1)))
        for i, (indicator, unit, content, (low, high)) in enumerate(chosen, start=1):
            planned = rng.randint(low, high)
            if unit == "dong":
                planned = round(planned, -6)
            month, day = rng.choice(DUE_DATES)
            activities.append(_Activity(
                code=f"{task}-{year}-{i:02d}", task=task, indicator=indicator, unit=unit,
                content=content, planned=planned, due=dt.date(year, month, day),
                pace=rng.uniform(0.9, 1.6), reach=rng.choice((0.7, 0.85, 1.0, 1.0, 1.0, 1.1)),
                source=FUNDING_SOURCE.get(agency, "ngan_sach") if unit == "dong" else None,
            ))
    return activities


def _quantity(activity: _Activity, fraction: float) -> float:
    value = activity.planned * fraction
    return round(value, -6) if activity.unit == "dong" else float(round(value))


def _activity_row(activity: _Activity, period: Period, prepared: dt.date) -> dict:
    """The activity as reported at the end of ``period``."""
    def share(t: float) -> float:
        return min(activity.reach, t * activity.pace)

    done = share(period.year_fraction)
    completed = done >= 1
    row = {
        "ma_nhiem_vu": activity.task, "ma_hoat_dong": activity.code, "noi_dung": activity.content,
        "chi_tieu": activity.indicator, "don_vi_tinh": activity.unit,
        "ke_hoach": float(activity.planned), "thuc_hien": _quantity(activity, done),
        "nguon_kinh_phi": activity.source,
        "trang_thai": "hoan_thanh" if completed else ("dang_thuc_hien" if done > 0 else "chua_thuc_hien"),
        "han_hoan_thanh": activity.due.isoformat(), "ngay_hoan_thanh": None, "ghi_chu": None,
    }
    if completed:
        # the month the plan was reached: the first month-end at which the share reaches 1
        month = next(m for m in range(1, 13) if share(m / 12) >= 1)
        day = _month_end(period.end.year, month) - dt.timedelta(days=(activity.planned % 9) + 1)
        row["ngay_hoan_thanh"] = min(day, prepared).isoformat()
        row["thuc_hien"] = _quantity(activity, done)
    if not completed and done > 0 and activity.reach < 1 and period.end > activity.due:
        row["ghi_chu"] = "Chậm tiến độ"
    return row


def _report(agency: dict[str, str], period: Period, tasks: tuple[str, ...], seed: int,
            preparer: str) -> dict:
    rng = random.Random(f"{seed}:{agency['agency_code']}:{period.code}:report")
    prepared = period.end + dt.timedelta(days=rng.randint(2, 12))
    activities = _year_activities(agency["agency_code"], tasks, period.end.year, seed)
    return {
        "thong_tin": {"ma_don_vi": agency["agency_code"], "ky_bao_cao": period.code,
                      "nguoi_lap": preparer, "ngay_lap": prepared.isoformat()},
        "hoat_dong": [_activity_row(a, period, prepared) for a in activities],
    }


def _malform(parts: dict, what: str, period: Period) -> dict:
    parts = json.loads(json.dumps(parts))  # a deep copy
    rows = parts["hoat_dong"]
    if what == "completion_without_date":
        row = rows[0]
        row["trang_thai"], row["ngay_hoan_thanh"] = "hoan_thanh", None
    elif what == "negative_quantity":
        rows[0]["thuc_hien"] = -abs(rows[0]["thuc_hien"] or 5)
    elif what == "unknown_task":
        rows[0]["ma_nhiem_vu"] = "NV7"
    elif what == "period_mismatch":
        parts["thong_tin"]["ky_bao_cao"] = str(period.end.year - 1)
    elif what == "completion_after_report":
        row = rows[0]
        prepared = dt.date.fromisoformat(parts["thong_tin"]["ngay_lap"])
        row["trang_thai"] = "hoan_thanh"
        row["ngay_hoan_thanh"] = (prepared + dt.timedelta(days=20)).isoformat()
    elif what == "unknown_agency":
        parts["thong_tin"]["ma_don_vi"] = parts["thong_tin"]["ma_don_vi"][:-1]
    else:
        raise ValueError(what)
    return parts


def build_reports(years: Iterable[int] = DEFAULT_YEARS, seed: int = 2021,
                  agencies: Iterable[str] | None = None) -> tuple[list[AgencyReport], int]:
    """Every agency's report files for ``years`` and how many reports were left missing."""
    years = tuple(years)
    wanted = set(agencies) if agencies is not None else None
    assigned = registry.agency_tasks()
    reports: list[AgencyReport] = []
    missing = 0
    for agency in registry.agencies():
        code = agency["agency_code"]
        if wanted is not None and code not in wanted:
            continue
        tasks = assigned.get(code, ())
        for period in expected_periods(agency, years):
            rng = random.Random(f"{seed}:{code}:{period.code}:file")
            preparer = _preparer(random.Random(f"{seed}:{code}:{period.end.year}:preparer"))
            if rng.random() < P_MISSING:
                missing += 1
                continue
            draw = rng.random()
            fmt, headers = ("json", "code") if draw < 0.3 else ("xlsx", "label" if draw < 0.5 else "code")
            parts = _report(agency, period, tasks, seed, preparer)
            sessions = [row for row in parts["hoat_dong"] if row["chi_tieu"] in SESSION_COUNTS]
            if rng.random() < P_UNUSUAL_UNIT and sessions:
                sessions[0]["don_vi_tinh"] = "buoi"  # sessions, not the contract's lop / luot
            report = AgencyReport(code, period.code, fmt, headers, parts)
            if rng.random() < P_MALFORMED:
                what = rng.choice(MALFORMATIONS)
                reports.append(AgencyReport(code, period.code, fmt, headers, _malform(parts, what, period),
                                            variant=f"malformed:{what}"))
                if rng.random() < P_CORRECTED:  # otherwise rejected for good: a follow-up case
                    reports.append(AgencyReport(code, period.code, "json", "code", parts,
                                                variant="correction", suffix="_v2"))
                continue
            reports.append(report)
            if rng.random() < P_RESUBMITTED:
                revised = json.loads(json.dumps(parts))
                revised["hoat_dong"][0]["ghi_chu"] = "Báo cáo bổ sung, điều chỉnh số liệu"
                reports.append(AgencyReport(code, period.code, fmt, headers, revised,
                                            variant="resubmission", suffix="_v2"))
    return reports, missing


# ----------------------------------------------------------------------------- files


def to_json_bytes(parts: dict) -> bytes:
    """``{"thong_tin": {...}, "<table sheet>": [...]}``, UTF-8."""
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _created(parts: dict) -> dt.datetime:
    text = str(parts.get("thong_tin", {}).get("ngay_lap") or "2000-01-01")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = dt.date(2000, 1, 1)
    return dt.datetime(day.year, day.month, day.day, 8, 0, 0)


def to_xlsx_bytes(parts: dict, headers: str = "code", contract: str = CONTRACT,
                  sheets: Iterable[str] | None = None) -> bytes:
    """A workbook with the contract's sheets (or ``sheets``), from plain Python values.

    ``headers`` is ``code`` or ``label`` (the contract's Vietnamese labels, dates written
    DD/MM/YYYY the way a clerk would). Table columns follow the contract, then any extra keys
    the rows carry; a value of ``None`` is an empty cell.
    """
    spec = load_contract(contract)
    use_label = headers == "label"
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": _created(parts), "author": "poverty_pipeline.samples"})
    for name in sheets or spec.sheets:
        sheet = spec.sheets[name]
        ws = book.add_worksheet(name)
        label = {f.code: f.label for f in sheet.fields}
        dates = {f.code for f in sheet.fields if f.type == "date"}
        if sheet.layout == "key_value":
            ws.write_row(0, 0, [sheet.key_header["label" if use_label else "code"],
                                sheet.value_header["label" if use_label else "code"]])
            for r, (key, value) in enumerate(parts[name].items(), start=1):
                ws.write_string(r, 0, label.get(key, key) if use_label else key)
                write_cell(ws, r, 1, _date_text(value) if use_label and key in dates else value)
        else:
            rows = parts[name]
            columns = [f.code for f in sheet.fields if any(f.code in row for row in rows)]
            columns += [k for k in dict.fromkeys(k for row in rows for k in row) if k not in columns]
            ws.write_row(0, 0, [label.get(c, c) if use_label else c for c in columns])
            for r, row in enumerate(rows, start=1):
                for c, code in enumerate(columns):
                    value = row.get(code)
                    write_cell(ws, r, c, _date_text(value) if use_label and code in dates else value)
    book.close()
    return buffer.getvalue()


def _date_text(value: object) -> object:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value


def render(report: AgencyReport) -> bytes:
    if report.fmt == "json":
        return to_json_bytes(report.parts)
    return to_xlsx_bytes(report.parts, headers=report.headers)


def _landing_path(landing):
    from airflow.sdk import ObjectStoragePath

    if isinstance(landing, ObjectStoragePath):
        return landing
    return ObjectStoragePath(os.fspath(landing) if isinstance(landing, os.PathLike) else landing)


def generate_agency_reports(landing, years: Iterable[int] = DEFAULT_YEARS, seed: int = 2021,
                            agencies: Iterable[str] | None = None) -> AgencyGenerationSummary:
    """Write the reports to ``<landing>/agencies/<period>/<agency>_<period>[_v2].<xlsx|json>``.

    ``landing`` is a local path or any URL ``airflow.sdk.ObjectStoragePath`` understands.
    """
    started = time.perf_counter()
    reports, missing = build_reports(years, seed, agencies)
    root = _landing_path(landing)
    local = root.protocol in ("", "file", "local")
    summary = AgencyGenerationSummary(landing=str(landing), seed=seed, missing=missing)
    made: set[str] = set()
    for report in reports:
        folder = root / "agencies" / report.period
        if local and report.period not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(report.period)
        data = render(report)
        (folder / report.filename).write_bytes(data)
        summary.files_written += 1
        summary.bytes_written += len(data)
    summary.variants = dict(sorted(Counter(r.variant for r in reports).items()))
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary
