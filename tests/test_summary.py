"""The run's summary table: one line per area, under its latest name."""

from __future__ import annotations

from decimal import Decimal

from poverty_pipeline.summary import format_table


def _row(code: str, name: str, year: int, poor: str) -> dict:
    return {"area_code": code, "area_name": name, "review_year": year, "standard_code": "ND07_2022_2025",
            "poor_rate": Decimal(poor), "near_poor_rate": Decimal("0.03")}


def test_an_area_renamed_keeps_one_line_under_its_latest_name():
    table = format_table([
        _row("816", "Thị xã Gò Công", 2023, "0.02"),
        _row("816", "Thành phố Gò Công", 2024, "0.015"),
        _row("82", "Tỉnh Tiền Giang", 2024, "0.008"),
        _row("82", "Tỉnh Đồng Tháp", 2025, "0.0065"),
    ])
    lines = [line for line in table.splitlines() if line.strip().startswith(("816", "82 "))]
    assert len(lines) == 2
    assert "Thành phố Gò Công" in lines[0] and " 2.00% /" in lines[0] and " 1.50% /" in lines[0]
    assert "Tỉnh Đồng Tháp" in lines[1] and " 0.80% /" in lines[1] and " 0.65% /" in lines[1]
