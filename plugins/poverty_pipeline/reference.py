"""Reference data: Tiền Giang's commune-level units and their districts.

The list comes from the ``vietnamadminunits`` package (its pre-July-2025 vintage: 164 units in
11 districts) and is written as the dbt seed ``seeds/reference/ref_communes.csv``; the pipeline
reads the seed, so the warehouse and the ingest checks share one list.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from poverty_pipeline.config import DBT_PROJECT_DIR

PROVINCE_CODE = "82"
COMMUNES_SEED = DBT_PROJECT_DIR / "seeds" / "reference" / "ref_communes.csv"
SEED_COLUMNS = [
    "commune_code",
    "commune_name",
    "unit_type",
    "district_code",
    "district_name",
    "province_code",
    "province_name",
]
UNIT_TYPES = {"Xã": "xa", "Phường": "phuong", "Thị trấn": "thi_tran"}


def communes_from_package(province_code: str = PROVINCE_CODE) -> list[dict[str, str]]:
    """The province's commune-level units, with their districts, from vietnamadminunits."""
    from vietnamadminunits.database import query

    rows = query(
        "select distinct wardCode, ward, wardType, districtCode, district, provinceCode, province "
        "from admin_units_legacy "
        f"where provinceCode = '{province_code}' order by wardCode"
    )
    return [
        {
            "commune_code": r["wardCode"],
            "commune_name": r["ward"],
            "unit_type": UNIT_TYPES[r["wardType"]],
            "district_code": r["districtCode"],
            "district_name": r["district"],
            "province_code": r["provinceCode"],
            "province_name": r["province"],
        }
        for r in rows
    ]


def write_communes_seed(path: Path = COMMUNES_SEED) -> int:
    rows = communes_from_package()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=SEED_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


@cache
def communes(path: Path = COMMUNES_SEED) -> tuple[dict[str, str], ...]:
    with path.open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def commune_codes() -> frozenset[str]:
    return frozenset(c["commune_code"] for c in communes())
