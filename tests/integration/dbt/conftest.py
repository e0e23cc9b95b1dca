"""Fixtures for the dbt project's tests: a fresh PostgreSQL database per module
(``warehouse_url``), hand-written submissions loaded into audit/raw as the Python loader would
(``load_submission``), and dbt run in-process (``run_dbt``).

The server is ``POVERTY_TEST_SERVER_URL`` (default: the local server on 127.0.0.1:5432).
A household row may give its deprivation flags as ``deprived=[...]`` and ``blank=[...]``:
every other flag is then reported 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from support.databases import throwaway_database
from support.pipeline_helpers import dbt as invoke_dbt

from poverty_pipeline.reference.contract import load_contract
from poverty_pipeline.warehouse.database import RAW_TABLES, ensure_schema

# Every deprivation flag of the contract (td_*, td59_*, td351_*).
FLAG_COLUMNS = tuple(
    f.code for f in load_contract().sheets["danh_sach_ho"].fields if f.code.startswith("td")
)


def flags(deprived: Sequence[str] = (), blank: Sequence[str] = ()) -> dict[str, int | None]:
    """All deprivation flags reported 0, except ``deprived`` (1) and ``blank`` (not collected)."""
    unknown = set(deprived) | set(blank)
    unknown -= set(FLAG_COLUMNS)
    assert not unknown, f"not flags of the contract: {unknown}"
    values: dict[str, int | None] = dict.fromkeys(FLAG_COLUMNS, 0)
    values.update(dict.fromkeys(deprived, 1))
    values.update(dict.fromkeys(blank, None))
    return values


@pytest.fixture(scope="module")
def warehouse_url() -> Iterator[str]:
    """A new, uniquely named database with the raw/audit schema; dropped afterwards."""
    with throwaway_database("dbt_test") as url:
        with psycopg.connect(url) as conn:
            ensure_schema(conn)
        yield url


@pytest.fixture(scope="session")
def load_submission():
    """``load_submission(conn, submission_id=..., commune_code=..., review_year=..., ...)``."""
    return insert_submission


@pytest.fixture(scope="session")
def load_generated():
    """``load_generated(conn, years, communes, skip=())``: the sample generator's submissions
    (``poverty_pipeline.samples``) loaded as the loader records them, except the
    ``(commune, year)`` pairs of ``skip``."""
    return insert_generated


@pytest.fixture(scope="session")
def run_dbt():
    """``run_dbt(url, target_dir, "build", ...)``: raises AssertionError when dbt fails."""
    return invoke_dbt


def insert_submission(
    conn: psycopg.Connection,
    *,
    submission_id: str,
    commune_code: str,
    review_year: int,
    households: Sequence[Mapping[str, object]] = (),
    areas: Sequence[Mapping[str, object]] = (),
    standard: str = "ND07_2022_2025",
    status: str = "accepted",
    review_type: str = "dinh_ky",
    review_month: int | None = None,
    received_at: dt.datetime | None = None,
) -> None:
    """One submission as the loader records it: the manifest row, and for an accepted file
    its thong_tin, tong_hop and danh_sach_ho rows (values already typed).

    ``areas`` rows need khu_vuc, tong_so_ho, tong_so_nhan_khau; ``households`` rows need
    ma_ho, khu_vuc, thu_nhap_binh_quan and any flags (see ``flags``); the rest is filled in.
    """
    received_at = received_at or dt.datetime(review_year, 12, 20, tzinfo=dt.UTC)
    conn.execute(
        """
        insert into audit.submissions (
            submission_id, contract, path, submitter_code, period, review_year, review_type,
            review_month, received_at, status, household_rows
        ) values (%s, 'commune_household_review', %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            submission_id,
            f"communes/{review_year}/{commune_code}-{submission_id}.json",
            commune_code,
            str(review_year),
            review_year,
            review_type,
            review_month,
            received_at,
            status,
            len(households),
        ),
    )
    if status not in ("accepted", "accepted_with_warnings"):
        return
    info = {
        "ma_tinh": "82",
        "ma_xa": commune_code,
        "nam_ra_soat": review_year,
        "loai_ra_soat": review_type,
        "thang": review_month,
        "chuan_ngheo": standard,
        "nguoi_lap": "Cán bộ LĐTBXH",
        "dien_thoai": "0273000000",
        "ngay_lap": dt.date(review_year, 12, 1),
    }
    _insert_rows(conn, "thong_tin", submission_id, [info])
    area_defaults = {
        "so_ho_ngheo": 0,
        "ty_le_ho_ngheo": 0,
        "so_ho_can_ngheo": 0,
        "ty_le_ho_can_ngheo": 0,
    }
    _insert_rows(conn, "tong_hop", submission_id, [{**area_defaults, **a} for a in areas])
    household_defaults = {
        "ap": "Ấp 1",
        "ho_ten_chu_ho": "Nguyễn Văn A",
        "so_dinh_danh_chu_ho": "082000000001",
        "so_nhan_khau": 4,
        "phan_loai_cua_xa": "khong",
    }
    rows = []
    for household in households:
        values = dict(household)
        flag_values = flags(values.pop("deprived", ()), values.pop("blank", ()))
        rows.append({**household_defaults, **flag_values, **values})
    _insert_rows(conn, "danh_sach_ho", submission_id, rows)


def _insert_rows(
    conn: psycopg.Connection, sheet: str, submission_id: str, rows: Sequence[Mapping[str, object]]
) -> None:
    spec = load_contract().sheets[sheet]
    unknown = {k for row in rows for k in row} - set(spec.codes)
    assert not unknown, f"not columns of sheet {sheet}: {unknown}"
    table = sql.Identifier("raw", RAW_TABLES[sheet])
    keyed = spec.layout == "table"
    columns = ["submission_id", *(["row_number"] if keyed else []), *spec.codes, "extra_columns"]
    statement = sql.SQL("insert into {} ({}) values ({})").format(
        table,
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    for number, row in enumerate(rows, start=2):  # the header is row 1
        values = [submission_id, *([number] if keyed else [])]
        values += [row.get(code) for code in spec.codes]
        values.append(Jsonb({}))
        conn.execute(statement, values)


def insert_generated(conn: psycopg.Connection, years, communes, skip=()) -> None:
    from poverty_pipeline.samples.generate import build_submissions

    for sub in build_submissions(years=years, communes=communes, seed=2021):
        if (sub.commune_code, sub.year) in skip:
            continue
        insert_submission(
            conn,
            submission_id=f"{sub.commune_code}-{sub.year}",
            commune_code=sub.commune_code,
            review_year=sub.year,
            standard=sub.parts["thong_tin"]["chuan_ngheo"],
            areas=sub.parts["tong_hop"],
            households=sub.parts["danh_sach_ho"],
        )
