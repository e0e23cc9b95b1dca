"""Typical dashboard queries on the marts — what a BI tool or the UI pages ask most — and their
timing. Each filters on the columns the marts' indexes lead with (area level and code, review
year, standard; period for the reporting and task facts: the ``indexes`` of each mart's YAML);
``make bench`` reports their p50/p95 and the tests check that each can use an index.

The marts are at area × year × standard grain, so their size does not grow with the number of
households: the figures hold at any scale of the sample.
"""

from __future__ import annotations

import random
import time

import psycopg

QUERIES: dict[str, str] = {
    "province_trend": """
        select review_year, poor_rate, near_poor_rate from marts.rpt_poverty_indicators_by_area
         where area_level = 'province' and standard_code = %(standard)s order by review_year""",
    "district_communes": """
        select area_name, poor_rate from marts.rpt_poverty_indicators_by_area
         where parent_area_code = %(district)s and review_year = %(year)s
           and area_level = 'commune' and standard_code = %(standard)s order by area_code""",
    "commune_map": """
        select area_code, poor_rate from marts.rpt_poverty_indicators_by_area
         where area_level = 'current_commune' and review_year = %(year)s and standard_code = %(standard)s""",
    "household_profile": """
        select characteristic_type, characteristic_label_vi, share_of_poor_households
          from marts.rpt_household_profiles_by_area
         where area_level = 'commune' and area_code = %(commune)s and review_year = %(year)s
           and standard_code = %(standard)s order by sort_order""",
    "deprivation_contributions": """
        select indicator_label_vi, contribution_to_adjusted_headcount
          from marts.rpt_alkire_foster_indicators_by_area
         where area_level = 'district' and area_code = %(district)s and review_year = %(year)s
           and standard_code = %(standard)s""",
    "review_flows": """
        select review_year, poor_escaped, newly_poor from marts.rpt_review_summary
         where area_level = 'commune' and area_code = %(commune)s and standard_code = %(standard)s
         order by review_year""",
    "submission_status": """
        select submitter_code, outcome, timeliness, days_late from marts.fct_submission_status
         where period = %(period)s order by submitter_code""",
    "task_completion": """
        select agency_code, task_code, completion_rate from marts.fct_task_completion
         where period_year = %(year)s order by agency_code, task_code""",
}


def parameter_sets(conn: psycopg.Connection, count: int, seed: int = 1) -> list[dict[str, object]]:
    """``count`` parameter sets drawn from what the marts hold (a commune with its year, a
    district, a standard, a reporting period)."""
    def values(sql: str) -> list:
        return conn.execute(sql).fetchall()

    standards = [r[0] for r in values("select standard_code from marts.dim_poverty_standard")]
    districts = [r[0] for r in values("select distinct area_code from marts.rpt_poverty_indicators_by_area"
                                      " where area_level = 'district'")] or [""]
    communes = values("select distinct area_code, review_year from marts.rpt_poverty_indicators_by_area"
                      " where area_level = 'commune'") or [("", 0)]
    periods = [r[0] for r in values("select distinct period from marts.fct_submission_status")] or [""]
    rng = random.Random(seed)
    sets = []
    for _ in range(count):
        commune, year = rng.choice(communes)
        sets.append({"standard": rng.choice(standards) if standards else "",
                     "district": rng.choice(districts), "commune": commune, "year": year,
                     "period": rng.choice(periods)})
    return sets


def _percentiles(sorted_ms: list[float]) -> dict[str, float]:
    def at(share: float) -> float:
        return round(sorted_ms[min(len(sorted_ms) - 1, int(share * len(sorted_ms)))], 2)

    return {"p50_ms": at(0.5), "p95_ms": at(0.95)}


def measure(url: str, repeats: int = 200) -> dict[str, dict[str, float]]:
    """p50 and p95 (milliseconds, round trip with the rows fetched) of each query over
    ``repeats`` parameter sets, and of all of them together (``all``)."""
    figures: dict[str, dict[str, float]] = {}
    every: list[float] = []
    with psycopg.connect(url) as conn:
        sets = parameter_sets(conn, repeats)
        for name, sql in QUERIES.items():
            times = []
            for params in sets:
                started = time.perf_counter()
                conn.execute(sql, params).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            every += times
            figures[name] = _percentiles(times)
    every.sort()
    figures["all"] = _percentiles(every)
    return figures


def plans_without_index(conn: psycopg.Connection) -> dict[str, str]:
    """The queries whose plan reads a mart without an index even when sequential scans are
    priced out: query name → its plan. Empty when every query has an index to use."""
    (params,) = parameter_sets(conn, 1)
    missing = {}
    with conn.transaction():
        conn.execute("set local enable_seqscan = off")
        for name, sql in QUERIES.items():
            plan = "\n".join(r[0] for r in conn.execute("explain " + sql, params))
            if "Seq Scan" in plan:
                missing[name] = plan
    return missing
