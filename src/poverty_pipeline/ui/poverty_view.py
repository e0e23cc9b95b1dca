"""The Poverty page's charts and tables, shaped from the rows :mod:`.queries` read."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import quote

from poverty_pipeline.ui import charts, labels


class Standards:
    """The confirmed standards and their names as the warehouse holds them: a chart or table
    names a standard by its legal document (``QĐ 59/2015``), and the page's legend words it."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.labels = {r["standard_code"]: labels.standard_label(r) for r in rows}

    def __call__(self, standard_code: str | None) -> str:
        if not standard_code:
            return ""
        return self.labels.get(standard_code, standard_code.split("_")[0])


def _rate_series(rows: list[dict], standards: Standards, key) -> list[charts.Series]:
    """Per standard, the poor rate (solid) and the near-poor rate (dotted, same colour), in %."""
    series = []
    for i, s in enumerate(standards.rows):
        code = s["standard_code"]
        for measure, dashed in (("poor", False), ("near_poor", True)):
            column = f"{measure}_rate"
            values = {key(r): float(r[column]) * 100 for r in rows
                      if r["standard_code"] == code and r.get(column) is not None}
            vi, en = labels.MEASURES[measure]
            series.append(charts.Series(f"{standards(code)} · {vi.lower()} ({en})", values,
                                        charts.PALETTE[i % len(charts.PALETTE)],
                                        charts.MARKERS[i % len(charts.MARKERS)], dashed))
    return series


def _target(targets: list[dict], standards: Standards) -> charts.Target | None:
    if not targets:
        return None
    t = targets[0]
    value = float(t["target_value"])
    sign = "<" if t["comparison"] == "below" else "≤"
    label = (f"Mục tiêu {sign} {charts._fmt(value)}% hộ nghèo ({standards(t['standard_code'])},"
             f" {t['target_review_year']}) · target")
    return charts.Target(value, label)


def _areas(rows: list[dict], level: str) -> list[tuple[str, str, list[dict]]]:
    """(code, name, rows) of each area of a level, in the query's order; an area's name is
    its newest one."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in rows:
        if r["area_level"] == level:
            grouped[r["area_code"]].append(r)
            names[r["area_code"]] = r["area_name"] or r["area_code"]
    return [(code, names[code], grouped[code]) for code in grouped]


# The page of an area one level down: a district's communes, a commune's own trend.
DRILL_DOWN = {"district": "district?code=", "commune": "commune?code="}


def area_href(level: str, code: str) -> str | None:
    prefix = DRILL_DOWN.get(level)
    return prefix + quote(code, safe="") if prefix else None


def rate_table(areas: list[tuple[str, str, list[dict]]], standards: Standards) -> list[dict]:
    """One row per area × year with each standard's poor and near-poor counts and rates; a
    district's or commune's row links to its page."""
    table = []
    for code, name, rows in areas:
        by_year: dict[int, dict] = defaultdict(dict)
        for r in rows:
            by_year[r["review_year"]][r["standard_code"]] = r
        href = area_href(rows[0]["area_level"], code)
        for year in sorted(by_year):
            table.append({"area_code": code, "area_name": name, "year": year, "href": href,
                          "by_standard": [by_year[year].get(s["standard_code"]) for s in standards.rows]})
    return table


def area_panels(areas: list[tuple[str, str, list[dict]]], standards: Standards,
                target: charts.Target | None, years_all: list[int],
                y_max: float | None = None) -> list[tuple[str, str, object]]:
    """One small line chart per area on a y-scale they share (panels compare at a glance); a
    district exists only up to the 2025 reorganisation, so its axis ends with its data."""
    series_of = [_rate_series(rows, standards, lambda r: r["review_year"]) for _, _, rows in areas]
    y_max = y_max or charts.shared_max(series_of, target.value if target else 0)
    panels = []
    for (code, name, rows), series in zip(areas, series_of, strict=True):
        area_years = years_all if rows[0]["area_level"] == "province" else \
            sorted({r["review_year"] for r in rows})
        panels.append((code, name, charts.line_chart(f"{name} ({code})", area_years, series, target,
                                                     y_max=y_max)))
    return panels


FLOW_COLOURS = dict(zip([*labels.FLOWS_OUT, *labels.FLOWS_IN],
                        ["#009E73", "#56B4E9", "#999999", "#E69F00", "#D55E00", "#CC79A7", "#F0E442"],
                        strict=True))
# Drawn as bars: the flows between two reviews. "Not compared" (all poor of a first review)
# is no flow: it stays in the table, and a year with only that says so in the chart.
CHARTED_IN = [k for k in labels.FLOWS_IN if k != "poor_not_compared"]


def flow_charts(flows: list[dict], standards: Standards, where: str) -> list[tuple]:
    """Per standard: (standard, rows, diverging bar chart of the poor's flows)."""
    names = {k: labels.vi_en({**labels.FLOWS_OUT, **labels.FLOWS_IN}, k) for k in FLOW_COLOURS}
    out = []
    for s in standards.rows:
        rows = [r for r in flows if r["standard_code"] == s["standard_code"]]
        if not rows:
            continue
        bars = []
        for r in rows:
            flow = charts.Flow(str(r["review_year"]),
                               out=[(k, float(r[k] or 0)) for k in labels.FLOWS_OUT],
                               into=[(k, float(r[k] or 0)) for k in CHARTED_IN])
            if r["poor_not_compared"] and not any(v for _, v in [*flow.out, *flow.into]):
                flow.note = (f"rà soát lần đầu: {charts._fmt(float(r['poor_not_compared']), 0)} hộ"
                             " chưa so sánh · first review, not compared")
            bars.append(flow)
        out.append((s, rows, charts.diverging_bars(
            f"{standards(s['standard_code'])}: ← ra khỏi | vào nghèo → · out of | into poverty",
            bars, FLOW_COLOURS, names=names)))
    return out


def flow_legend() -> list[tuple[str, str]]:
    return [(FLOW_COLOURS[k], labels.vi_en({**labels.FLOWS_OUT, **labels.FLOWS_IN}, k)) for k in FLOW_COLOURS
            if k in labels.FLOWS_OUT or k in CHARTED_IN]


def trend_context(standards: list[dict], rates: list[dict], targets: list[dict]) -> dict:
    """What every page with rate charts shares: the standards, the target and the legend."""
    named = Standards(standards)
    target = _target(targets, named)
    return {"standards": standards, "short_name": named, "target": target,
            "legend": charts.legend(_rate_series([], named, lambda r: r), target),
            "years_all": sorted({r["review_year"] for r in rates})}


def build_district(standards, rates, targets, flows, district: dict) -> dict:
    """A district's page: its trend and each of its communes' (panels on one scale), the
    table of both linking each commune to its page, and the district's flows."""
    ctx = trend_context(standards, rates, targets)
    named = ctx["short_name"]
    own, communes = _areas(rates, "district"), _areas(rates, "commune")
    # the district and its communes on one scale
    y_max = charts.shared_max([_rate_series(rates, named, lambda r: (r["area_code"], r["review_year"]))],
                              ctx["target"].value if ctx["target"] else 0)
    return {**ctx, "district": district,
            "district_charts": area_panels(own, named, ctx["target"], ctx["years_all"], y_max),
            "commune_charts": area_panels(communes, named, ctx["target"], ctx["years_all"], y_max),
            "district_table": rate_table(own, named), "commune_table": rate_table(communes, named),
            "flow_charts": flow_charts(flows, named, district["area_name"]), "flow_legend": flow_legend()}


def build_commune(standards, rates, targets, flows) -> dict:
    """A commune's page: its trend, its table and its flows of the poor and near-poor."""
    ctx = trend_context(standards, rates, targets)
    named = ctx["short_name"]
    own = _areas(rates, "commune")
    name = own[0][1] if own else ""
    return {**ctx, "commune_name": name, "parents": sorted({r["parent_area_code"] for r in rates
                                                              if r["parent_area_code"]}),
            "commune_charts": area_panels(own, named, ctx["target"], ctx["years_all"]),
            "commune_table": rate_table(own, named),
            "flow_charts": flow_charts(flows, named, name), "flow_legend": flow_legend()}


def _agency_label(code: str, name: str | None) -> str:
    text = f"{code} – {name or ''}"
    return text if len(text) <= 48 else text[:47] + "…"


def build(standards, rates, targets, progress, flows, completion, results, years, year,
          districts=()) -> dict:
    ctx = trend_context(standards, rates, targets)
    named, target = ctx["short_name"], ctx["target"]
    district_areas = _areas(rates, "province") + _areas(rates, "district")
    area_charts = area_panels(district_areas, named, target, ctx["years_all"])

    current = _areas(rates, "current_commune")
    current_chart = None
    current_year = None
    if current:
        current_year = max(r["review_year"] for _, _, rows in current for r in rows)
        latest = [r for _, _, rows in current for r in rows if r["review_year"] == current_year]
        names = [f"{name} ({code})" for code, name, _ in current]
        label = {r["area_code"]: f"{r['area_name'] or r['area_code']} ({r['area_code']})" for r in latest}
        series = _rate_series(latest, named, lambda r: label[r["area_code"]])
        current_chart = charts.bar_chart(
            f"Tỷ lệ hộ nghèo và cận nghèo theo xã hiện nay, năm {current_year}"
            " · poor and near-poor rate by current commune", names, series, target)

    agencies = sorted({(r["agency_code"], r["agency_name_vi"] or "") for r in completion})
    tasks = sorted({r["task_code"] for r in completion})
    cells = {}
    for r in completion:
        row = _agency_label(r["agency_code"], r["agency_name_vi"])
        if not r["has_current_report"]:
            cells[(row, r["task_code"])] = (None, "chưa có")
        else:
            share = float(r["completion_rate"]) if r["completion_rate"] is not None else None
            cells[(row, r["task_code"])] = (share, f"{r['activities_completed']}/{r['activities_reported']}")
    heatmap = charts.heatmap(
        f"Hoàn thành nhiệm vụ năm {year} (xong/báo cáo) · tasks completed/reported, {year}",
        [_agency_label(code, name) for code, name in agencies], tasks, cells) if completion else None

    return {
        **ctx,
        "area_charts": area_charts,
        "district_table": rate_table(district_areas, named),
        "districts": districts,
        "current_chart": current_chart,
        "current_year": current_year,
        "current_table": rate_table(current, named),
        "progress": progress,
        "flow_charts": flow_charts(flows, named, "toàn tỉnh"),
        "flow_legend": flow_legend(),
        "heatmap": heatmap,
        "completion": completion,
        "results": results,
        "years": years,
        "year": year,
    }
