"""Reference data: Tiền Giang's commune-level units through the 2024 and 2025 reorganisations.

Three seeds are written from the ``vietnamadminunits`` package, by code (its own old → new
mapping is keyed by names, so it is turned into codes here and checked):

- ``ref_communes_2024``: the 164 units of 1 Nov 2024 – 30 Jun 2025 with their 11 districts;
- ``ref_communes_2025``: the 57 units that hold the same territory from 1 Jul 2025 (province
  Đồng Tháp, no districts);
- ``ref_commune_successions_2025``: each of the 164 units → the one new unit it merged into.

Three small seeds are kept by hand because the package does not hold them:
``ref_commune_mergers_2024`` (the units closed by Resolutions 1013/NQ-UBTVQH15, 1 May 2024,
and 1202/NQ-UBTVQH15, 1 Nov 2024), ``ref_commune_renames`` (a unit's name or type before a
change that kept its code) and ``ref_district_renames``. dbt assembles all six into the SCD2
``dim_commune``; the ingest checks read the same seeds (``units_on`` / ``successor_on``), so
both share one history.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from poverty_pipeline.config import DBT_PROJECT_DIR

PROVINCE_CODE = "82"
PACKAGE_PROVINCE_KEY = "tinhtiengiang"       # the province key of the pre-2025 list
NEW_PROVINCE_KEY = "tinhdongthap"            # the province Tiền Giang merged into
REORGANISATION_2025 = dt.date(2025, 7, 1)


def _records_start() -> dt.date:
    """The first day of the unit history: dbt_project.yml's var ``admin_records_start``."""
    import yaml

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text("utf-8"))
    return dt.date.fromisoformat(project["vars"]["admin_records_start"])


RECORDS_START = _records_start()
SEEDS = DBT_PROJECT_DIR / "seeds" / "reference"
UNIT_TYPES = {"Xã": "xa", "Phường": "phuong", "Thị trấn": "thi_tran"}
SOURCE_2025 = "vietnamadminunits 1.0.4 (arrangement of Đồng Tháp's commune-level units, 1 Jul 2025)"

COMMUNES_2024_COLUMNS = ["commune_code", "commune_name", "unit_type", "district_code", "district_name",
                         "province_code", "province_name"]
COMMUNES_2025_COLUMNS = ["commune_code", "commune_name", "unit_type", "province_code", "province_name"]
SUCCESSION_COLUMNS = ["predecessor_code", "successor_code", "effective_date", "source"]


class MappingError(ValueError):
    """The package's old → new mapping is not a set of whole mergers."""


def _query(sql: str) -> list[dict]:
    from vietnamadminunits.database import query

    return query(sql)


def communes_2024_from_package() -> list[dict[str, str]]:
    """The province's 164 commune-level units of Jan 2025, with their districts."""
    rows = _query(
        "select distinct wardCode, ward, wardType, districtCode, district, provinceCode, province "
        f"from admin_units_legacy where provinceCode = '{PROVINCE_CODE}' order by wardCode"
    )
    return [
        {"commune_code": r["wardCode"], "commune_name": r["ward"], "unit_type": UNIT_TYPES[r["wardType"]],
         "district_code": r["districtCode"], "district_name": r["district"],
         "province_code": r["provinceCode"], "province_name": r["province"]}
        for r in rows
    ]


def _package_mapping() -> dict:
    from importlib import resources

    text = resources.files("vietnamadminunits").joinpath("data/converter_2025.json").read_text("utf-8")
    return json.loads(text)


def successions_2025_from_package() -> dict[str, str]:
    """Old unit code → new unit code, turned from the package's name keys into codes.

    The package lists a few old wards as "divided" only because their short names (Phường 3,
    4, 6) also exist in Cao Lãnh, in the old Đồng Tháp; for those its default new ward is the
    one on Tiền Giang's territory, and the other candidate is checked to hold old Đồng Tháp
    territory only. Anything else — an old unit missing, mapped twice, or split — is a
    ``MappingError``.
    """
    data = _package_mapping()
    old_units = _query(
        "select wardCode, provinceKey, districtKey, wardKey from admin_units_legacy "
        f"where provinceCode = '{PROVINCE_CODE}'"
    )
    old_code = {f"{u['provinceKey']}_{u['districtKey']}_{u['wardKey']}": u["wardCode"] for u in old_units}
    new_code = {u["wardKey"]: u["wardCode"] for u in _query(
        f"select wardKey, wardCode from admin_units where provinceKey = '{NEW_PROVINCE_KEY}'")}
    whole = data["DICT_PROVINCE_WARD_NO_DIVIDED"][NEW_PROVINCE_KEY]
    divided = data["DICT_PROVINCE_WARD_DIVIDED"].get(NEW_PROVINCE_KEY, {})
    prefix = f"{PACKAGE_PROVINCE_KEY}_"

    pairs: list[tuple[str, str]] = []
    for new_key, old_keys in whole.items():
        pairs += [(old_code[k], new_code[new_key]) for k in old_keys if k.startswith(prefix)]
    for old_key, candidates in divided.items():
        if not old_key.startswith(prefix):
            continue
        default = [c["newWardKey"] for c in candidates if c["isDefaultNewWard"]]
        for other in (c["newWardKey"] for c in candidates if not c["isDefaultNewWard"]):
            if any(k.startswith(prefix) for k in whole.get(other, [])):
                raise MappingError(f"{old_key} is split between {default} and {other}")
        if len(default) != 1:
            raise MappingError(f"{old_key} has no single default new unit: {candidates}")
        pairs.append((old_code[old_key], new_code[default[0]]))

    counts = Counter(old for old, _ in pairs)
    if twice := sorted(code for code, n in counts.items() if n > 1):
        raise MappingError(f"old units mapped more than once: {twice}")
    if missing := sorted(set(old_code.values()) - set(counts)):
        raise MappingError(f"old units without a new unit: {missing}")
    return dict(sorted(pairs))


def communes_2025_from_package(successions: dict[str, str]) -> list[dict[str, str]]:
    """The new units that hold Tiền Giang's former territory."""
    codes = sorted(set(successions.values()))
    rows = _query(
        "select wardCode, ward, wardType, provinceCode, province from admin_units "
        f"where provinceKey = '{NEW_PROVINCE_KEY}' and wardCode in ({', '.join(repr(c) for c in codes)}) "
        "order by wardCode"
    )
    return [
        {"commune_code": r["wardCode"], "commune_name": r["ward"], "unit_type": UNIT_TYPES[r["wardType"]],
         "province_code": r["provinceCode"], "province_name": r["province"]}
        for r in rows
    ]


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_seeds(folder: Path = SEEDS) -> dict[str, int]:
    """Write the three package-derived seeds; return their row counts."""
    successions = successions_2025_from_package()
    seeds = {
        "ref_communes_2024": (COMMUNES_2024_COLUMNS, communes_2024_from_package()),
        "ref_communes_2025": (COMMUNES_2025_COLUMNS, communes_2025_from_package(successions)),
        "ref_commune_successions_2025": (SUCCESSION_COLUMNS, [
            {"predecessor_code": old, "successor_code": new,
             "effective_date": REORGANISATION_2025.isoformat(), "source": SOURCE_2025}
            for old, new in successions.items()
        ]),
    }
    for name, (columns, rows) in seeds.items():
        _write(folder / f"{name}.csv", columns, rows)
    return {name: len(rows) for name, (_, rows) in seeds.items()}


# --- the history the seeds describe, for the ingest checks and the sample generator ---------

@dataclass(frozen=True)
class Unit:
    """One version of a commune-level unit: valid on ``valid_from`` ≤ day < ``valid_to``."""

    code: str
    name: str
    unit_type: str
    district_code: str | None
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Succession:
    predecessor: str
    successor: str
    effective: dt.date


def _read(name: str, folder: Path = SEEDS) -> tuple[dict[str, str], ...]:
    with (folder / f"{name}.csv").open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


@cache
def successions() -> tuple[Succession, ...]:
    """Every commune closed by a merger → the unit it merged into, with the date."""
    return tuple(
        Succession(r["predecessor_code"], r["successor_code"], dt.date.fromisoformat(r["effective_date"]))
        for seed in ("ref_commune_mergers_2024", "ref_commune_successions_2025")
        for r in _read(seed)
    )


@cache
def units() -> tuple[Unit, ...]:
    """Every unit version, as dim_commune holds them (district renames aside)."""
    mergers = {s.predecessor: s for s in successions() if s.effective < REORGANISATION_2025}
    grown: dict[str, set[dt.date]] = {}
    for s in mergers.values():
        grown.setdefault(s.successor, set()).add(s.effective)
    renames = {r["commune_code"]: r for r in _read("ref_commune_renames")}
    out: list[Unit] = []
    for r in _read("ref_communes_2024"):
        code, rename = r["commune_code"], renames.get(r["commune_code"])
        renamed = dt.date.fromisoformat(rename["effective_date"]) if rename else None
        changes = grown.get(code, set()) | {renamed} - {None}
        bounds = sorted({RECORDS_START, REORGANISATION_2025}
                        | {d for d in changes if RECORDS_START < d < REORGANISATION_2025})
        for start, end in zip(bounds, bounds[1:], strict=False):
            before = renamed is not None and start < renamed
            name = rename["name_before"] if before else r["commune_name"]
            unit_type = rename["unit_type_before"] if before else r["unit_type"]
            out.append(Unit(code, name, unit_type, r["district_code"], start, end))
    for r in _read("ref_commune_mergers_2024"):
        out.append(Unit(r["predecessor_code"], r["predecessor_name"], r["predecessor_unit_type"],
                        r["district_code"], RECORDS_START, dt.date.fromisoformat(r["effective_date"])))
    for r in _read("ref_communes_2025"):
        out.append(Unit(r["commune_code"], r["commune_name"], r["unit_type"], None,
                        REORGANISATION_2025, None))
    return tuple(out)


def units_on(day: dt.date) -> tuple[Unit, ...]:
    """The units valid on ``day``."""
    return tuple(u for u in units() if u.valid_on(day))


def successor_on(code: str, day: dt.date) -> Succession | None:
    """The unit valid on ``day`` that holds ``code``'s territory, when ``code`` itself was closed
    by then, and the day of the last merger that moved that territory (28531 on 2025-12-31 → its
    2025 successor, through 28519). A unit that only kept its code on 1 Jul 2025 moved nothing:
    28546, merged into 28564 on 1 Nov 2024, is still "merged on 1 Nov 2024" in 2025."""
    if any(u.code == code and u.valid_on(day) for u in units()):
        return None
    current, merged = code, None
    for succession in sorted(successions(), key=lambda s: s.effective):
        if succession.predecessor == current and succession.effective <= day:
            if succession.successor != succession.predecessor:
                merged = succession.effective
            current = succession.successor
    if merged is None or not any(u.code == current and u.valid_on(day) for u in units()):
        return None
    return Succession(code, current, merged)


def review_date(review_year: int, review_month: int | None = None) -> dt.date | None:
    """The date a review's units are taken at: the last day of its period (31 Dec for the
    annual review, the month's last day for a regular one); None for a year or month no
    calendar has (year −1 or 0, month 13, December 9999 whose next month is year 10000) — the
    suites reject those values, this only must not fail on them."""
    if not dt.MINYEAR <= review_year <= dt.MAXYEAR or (review_month is not None
                                                        and not 1 <= review_month <= 12):
        return None
    if review_month is None:
        return dt.date(review_year, 12, 31)
    if review_month == 12:
        return dt.date(review_year, 12, 31)
    return dt.date(review_year, review_month + 1, 1) - dt.timedelta(days=1)


def _review_date_of(info: dict, path_period: str | None) -> dt.date | None:
    year = info.get("nam_ra_soat") or path_period
    if not isinstance(year, int):
        text = str(year)[:4] if year is not None else ""
        if not (len(text) == 4 and text.isascii() and text.isdigit()):
            return None
        year = int(text)
    month = info.get("thang") if info.get("loai_ra_soat") == "thuong_xuyen" else None
    return review_date(year, month if isinstance(month, int) and 1 <= month <= 12 else None)


def commune_status(info: dict, path_period: str | None) -> str | None:
    """``valid`` (a unit on the review date), ``merged`` (closed by then; the crosswalk
    knows its successor) or ``unknown``; the contract's helper column for the suites."""
    code, day = info.get("ma_xa"), _review_date_of(info, path_period)
    if not code or day is None:
        return None
    if any(u.code == code for u in units_on(day)):
        return "valid"
    return "merged" if successor_on(str(code), day) else "unknown"


def commune_successor(info: dict, path_period: str | None) -> str | None:
    """The unit a merged commune's territory belongs to on the review date."""
    day = _review_date_of(info, path_period)
    step = successor_on(str(info.get("ma_xa")), day) if info.get("ma_xa") and day else None
    return step.successor if step else None


def commune_merged_on(info: dict, path_period: str | None) -> str | None:
    """The day (DD/MM/YYYY) a merged commune joined that unit."""
    day = _review_date_of(info, path_period)
    step = successor_on(str(info.get("ma_xa")), day) if info.get("ma_xa") and day else None
    return step.effective.strftime("%d/%m/%Y") if step else None


def unit_on(code: str, day: dt.date) -> str | None:
    """The unit valid on ``day`` that holds ``code``'s territory: ``code`` itself, its successor
    when it was closed by then, or None for a code no unit holds."""
    if any(u.code == code and u.valid_on(day) for u in units()):
        return code
    step = successor_on(code, day)
    return step.successor if step else None


def same_unit_codes_on(code: str, day: dt.date) -> frozenset[str]:
    """The other codes whose territory belongs, on ``day``, to the unit that holds ``code``'s:
    the communes merged into it (28531 into 28519 in 2024, both into a 2025 unit) and, for a
    closed code that still reports, its successor and the successor's other predecessors."""
    unit = unit_on(code, day)
    if unit is None:
        return frozenset()
    return frozenset(c for c in commune_codes() if c != code and unit_on(c, day) == unit)


# The household code of a merged commune's household, as the household_key macro reads it.
HOUSEHOLD_PREFIX = re.compile(r"([0-9]{5})-.", re.ASCII | re.DOTALL)


def household_prefix_status(codes: list, info: dict, path_period: str | None) -> list[str | None]:
    """Per household code: None when it has no ``NNNNN-`` prefix, ``same_unit`` when NNNNN's
    territory belongs to the submitting commune's unit on the review date, ``other_unit``
    otherwise (the commune's own code, a neighbour's: its key would collide with that commune's
    household, and a file speaks only for its own unit)."""
    day = _review_date_of(info, path_period)
    allowed = same_unit_codes_on(str(info.get("ma_xa")), day) if info.get("ma_xa") and day else frozenset()
    out: list[str | None] = []
    for code in codes:
        match = HOUSEHOLD_PREFIX.match(code) if isinstance(code, str) else None
        out.append(None if match is None else
                   "same_unit" if match.group(1) in allowed else "other_unit")
    return out


def commune_codes() -> frozenset[str]:
    """Every code that has named a commune-level unit of the province."""
    return frozenset(u.code for u in units())


def communes() -> tuple[dict[str, str], ...]:
    """The units of the 164-unit list (1 Nov 2024 – 30 Jun 2025), with their districts."""
    return _read("ref_communes_2024")
