"""Read the headline figures back from the marts (and say so when they are not built yet)."""

from __future__ import annotations

import psycopg

RATES_SQL = """
select area_code, area_name, review_year, standard_code,
       total_households, poor_households, near_poor_households, poor_rate, near_poor_rate
  from marts.rpt_poverty_indicators_by_area
 where area_level = %s
 order by area_code, review_year, standard_code
"""


def rates(conn: psycopg.Connection, level: str) -> list[dict]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(RATES_SQL, (level,)).fetchall()


def province_rates(conn: psycopg.Connection) -> list[dict]:
    return [
        {k: (float(v) if k.endswith("_rate") and v is not None else v) for k, v in row.items()}
        for row in rates(conn, "province")
    ]


def _pct(value) -> str:
    return "   –  " if value is None else f"{100 * float(value):5.2f}%"


def format_table(rows: list[dict]) -> str:
    """Areas down, review years across, 'poor / near-poor' per standard."""
    years = sorted({r["review_year"] for r in rows})
    standards = sorted({r["standard_code"] for r in rows})
    # one line per area, under its latest name (TX → TP Gò Công; Tiền Giang → Đồng Tháp)
    areas = {r["area_code"]: r["area_name"] for r in sorted(rows, key=lambda r: r["review_year"])}
    cell = {(r["area_code"], r["review_year"], r["standard_code"]): r for r in rows}
    lines = []
    for standard in standards:
        lines.append(f"\n{standard}: poor / near-poor households as % of resident households")
        lines.append(f"{'':34}" + "".join(f"{y:>17}" for y in years))
        for code, name in areas.items():
            values = []
            for y in years:
                r = cell.get((code, y, standard))
                values.append(f"{_pct(r and r['poor_rate'])} /{_pct(r and r['near_poor_rate'])}" if r else "")
            lines.append(f"{code:>4} {(name or '')[:29]:29}" + "".join(f"{v:>17}" for v in values))
    return "\n".join(lines)


def district_summary(conn: psycopg.Connection) -> str:
    return format_table(rates(conn, "district") + rates(conn, "province"))


def submission_counts(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        "select contract, status, count(*) from audit.submissions group by 1, 2 order by 1, 2"
    ).fetchall()
    by_contract: dict[str, list[str]] = {}
    for contract, status, n in rows:
        by_contract.setdefault(contract, []).append(f"{status} {n}")
    return "\n".join(f"Submissions ({contract}): " + ", ".join(parts)
                     for contract, parts in by_contract.items())


NO_SUBMISSIONS = ("No submissions recorded yet (audit.submissions does not exist): "
                  "run `poverty run` to ingest the landing.")
NOT_BUILT = ("The marts are not built yet (marts.rpt_poverty_indicators_by_area does not exist): "
             "run `poverty run`, or `poverty run --dag warehouse_build` after the ingest.")


def report(conn: psycopg.Connection) -> tuple[str, bool]:
    """The submission counts and the district table, and whether the marts were there: a
    warehouse without them gets a sentence saying what to run instead of an error."""
    parts, built = [], True
    for part, missing in ((submission_counts, NO_SUBMISSIONS), (district_summary, NOT_BUILT)):
        try:
            with conn.transaction():
                parts.append(part(conn))
        except psycopg.errors.UndefinedTable:
            parts.append(missing)
            if part is district_summary:
                built = False
    return "\n".join(parts), built
