"""The Poverty page's charts and tables, shaped from the rows :mod:`.queries` read."""

from __future__ import annotations

from collections import defaultdict

from poverty_pipeline.ui import charts, labels


def short_name(standard_code: str) -> str:
    """QD59_2016_2020 → QD59: the legal document the standard comes from."""
    return standard_code.split("_")[0]


def _percent_series(rows: list[dict], standards: list[dict], key) -> list[charts.Series]:
    series = []
    for i, s in enumerate(standards):
        values = {key(r): float(r["poor_rate"]) * 100 for r in rows
                  if r["standard_code"] == s["standard_code"] and r["poor_rate"] is not None}
        series.append(charts.Series(short_name(s["standard_code"]), values,
                                    charts.PALETTE[i % len(charts.PALETTE)],
                                    charts.MARKERS[i % len(charts.MARKERS)]))
    return series


def _target(targets: list[dict]) -> charts.Target | None:
    if not targets:
        return None
    t = targets[0]
    value = float(t["target_value"])
    sign = "<" if t["comparison"] == "below" else "≤"
    label = (f"Mục tiêu {sign} {charts._fmt(value)}% ({short_name(t['standard_code'] or '')},"
             f" {t['target_review_year']}) · target")
    return charts.Target(value, label)


def _areas(rows: list[dict], level: str) -> list[tuple[str, str, list[dict]]]:
    """(code, name, rows) of each area of a level, in the query's order."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in rows:
        if r["area_level"] == level:
            grouped[r["area_code"]].append(r)
            names[r["area_code"]] = r["area_name"] or r["area_code"]
    return [(code, names[code], grouped[code]) for code in grouped]


def rate_table(areas: list[tuple[str, str, list[dict]]], standards: list[dict]) -> list[dict]:
    """One row per area × year with each standard's poor rate and counts."""
    table = []
    for code, name, rows in areas:
        by_year: dict[int, dict] = defaultdict(dict)
        for r in rows:
            by_year[r["review_year"]][r["standard_code"]] = r
        for year in sorted(by_year):
            table.append({"area_code": code, "area_name": name, "year": year,
                          "by_standard": [by_year[year].get(s["standard_code"]) for s in standards]})
    return table


def _agency_label(code: str, name: str | None) -> str:
    text = f"{code} – {name or ''}"
    return text if len(text) <= 48 else text[:47] + "…"


def build(standards, rates, targets, progress, flows, completion, results, years, year) -> dict:
    target = _target(targets)
    years_all = sorted({r["review_year"] for r in rates})
    series_template = _percent_series([], standards, lambda r: r)

    district_areas = _areas(rates, "province") + _areas(rates, "district")
    area_charts = []
    for code, name, rows in district_areas:
        # a district exists only up to the 2025 reorganisation: its axis ends with its data
        area_years = years_all if rows[0]["area_level"] == "province" else \
            sorted({r["review_year"] for r in rows})
        series = _percent_series(rows, standards, lambda r: r["review_year"])
        area_charts.append((code, name, charts.line_chart(f"{name} ({code})", area_years, series, target)))

    current = _areas(rates, "current_commune")
    current_chart = None
    current_year = None
    if current:
        current_year = max(r["review_year"] for _, _, rows in current for r in rows)
        latest = [r for _, _, rows in current for r in rows if r["review_year"] == current_year]
        names = [f"{name} ({code})" for code, name, _ in current]
        label = {r["area_code"]: f"{r['area_name'] or r['area_code']} ({r['area_code']})" for r in latest}
        series = _percent_series(latest, standards, lambda r: label[r["area_code"]])
        current_chart = charts.bar_chart(
            f"Tỷ lệ hộ nghèo theo xã hiện nay, năm {current_year} · poor rate by current commune",
            names, series, target)

    flow_colours = dict(zip([*labels.FLOWS_OUT, *labels.FLOWS_IN],
                            ["#009E73", "#56B4E9", "#999999", "#E69F00", "#D55E00", "#CC79A7", "#F0E442"],
                            strict=True))
    flow_charts = []
    for s in standards:
        rows = [r for r in flows if r["standard_code"] == s["standard_code"]]
        if not rows:
            continue
        bars = [charts.Flow(str(r["review_year"]),
                            out=[(k, float(r[k] or 0)) for k in labels.FLOWS_OUT],
                            into=[(k, float(r[k] or 0)) for k in labels.FLOWS_IN]) for r in rows]
        flow_charts.append((s, rows, charts.diverging_bars(
            f"{short_name(s['standard_code'])}: ra khỏi nghèo ← | → vào nghèo · out of | into poverty",
            bars, flow_colours)))
    flow_legend = [(flow_colours[k], labels.vi_en({**labels.FLOWS_OUT, **labels.FLOWS_IN}, k))
                   for k in flow_colours]

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
        "standards": standards,
        "short_name": short_name,
        "target": target,
        "legend": charts.legend(series_template, target),
        "area_charts": area_charts,
        "district_table": rate_table(district_areas, standards),
        "current_chart": current_chart,
        "current_year": current_year,
        "current_table": rate_table(current, standards),
        "progress": progress,
        "flow_charts": flow_charts,
        "flow_legend": flow_legend,
        "heatmap": heatmap,
        "completion": completion,
        "results": results,
        "years": years,
        "year": year,
    }
