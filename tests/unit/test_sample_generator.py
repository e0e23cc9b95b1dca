"""The sample-submission generator: determinism, layout, contract conformance, calibration,
classification and the household panel across review years."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from poverty_pipeline.reference.admin_units import (
    HOUSEHOLD_PREFIX,
    review_date,
    successions_2025_from_package,
    units_on,
)
from poverty_pipeline.reference.contract import header_index, header_key, load_contract
from poverty_pipeline.samples import build_submissions, generate_submissions, render
from poverty_pipeline.samples.model import calibration

YEARS = range(2021, 2026)
CONTRACT = load_contract()
FLAG_CODES = [f.code for f in CONTRACT.sheets["danh_sach_ho"].fields if f.type == "flag"]
ND07 = [c for c in FLAG_CODES if c.startswith("td_")]
LINE = {"nong_thon": 1_500_000, "thanh_thi": 2_000_000}
# The codes the warehouse counts (a "list_contains" row of ref_household_characteristics), so a
# generated code the marts would miss fails here.
with (Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "reference"
      / "ref_household_characteristics.csv").open(encoding="utf-8") as _seed:
    _COUNTED = [r for r in csv.DictReader(_seed) if r["match_rule"] == "list_contains"]
CAUSES = {r["match_value"] for r in _COUNTED if r["characteristic_type"] == "poverty_cause"}
NEEDS = {r["match_value"] for r in _COUNTED if r["characteristic_type"] == "support_need"}
SAMPLE = ["28249", "28261", "28387", "28528", "28540", "28753"]


@pytest.fixture(scope="module")
def province():
    """All communes, all review years, in memory (scale 1)."""
    return list(build_submissions(YEARS))


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    """The whole province written to a local landing folder (small scale: fast)."""
    root = tmp_path_factory.mktemp("landing")
    summary = generate_submissions(str(root), years=YEARS, scale=0.05)
    return root, summary


def _hashes(seed: int) -> list[str]:
    subs = build_submissions([2021, 2024], seed=seed, scale=0.3, communes=SAMPLE)
    return [hashlib.sha256(render(s)).hexdigest() for s in subs]


def test_deterministic_bytes():
    first = _hashes(2021)
    assert first == _hashes(2021)
    other = _hashes(7)
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_subset_matches_full_province(province):
    # a 2025 unit's file holds every commune merged into it: choose them all
    dao_thanh = [code for code, new in successions_2025_from_package().items() if new == "28249"]
    sample = SAMPLE + dao_thanh
    full = {(s.commune_code, s.year): s.parts for s in province}
    subset = list(build_submissions(YEARS, communes=sample))
    assert ("28249", 2025) in {(s.commune_code, s.year) for s in subset}
    for s in subset:
        if s.year < 2025 or s.commune_code == "28249":
            assert s.parts == full[(s.commune_code, s.year)]


def test_files_follow_the_units_of_each_review_date(province):
    """2021–2023 on the 172 pre-2024 units (every commune closed in 2024 still sends its own),
    2024 on the 164-unit list, 2025 on the 57 new units; the households of a unit that merged
    keep their former commune's code, and the province's totals do not change."""
    by_year = defaultdict(dict)
    for s in province:
        by_year[s.year][s.commune_code] = s
    for year in YEARS:
        assert set(by_year[year]) == {u.code for u in units_on(review_date(year))}, year
    assert len(by_year[2023]) == 172 and len(by_year[2024]) == 164 and len(by_year[2025]) == 57
    # a host that took in two communes (Phường 2 of Mỹ Tho: Phường 3 and Phường 8) gives each
    # hamlets of its own before the merger and lists both under their codes after it
    for closed in ("28258", "28267"):
        before = {h["ma_ho"] for h in by_year[2023][closed].parts["danh_sach_ho"]}
        after = {h["ma_ho"].removeprefix(f"{closed}-") for h in by_year[2024]["28264"].parts["danh_sach_ho"]
                 if h["ma_ho"].startswith(f"{closed}-")}
        assert before and len(before & after) > 0.8 * len(before), closed
    assert by_year[2023]["28264"].parts["danh_sach_ho"]
    tan_ly_tay_2023 = {h["ma_ho"] for h in by_year[2023]["28531"].parts["danh_sach_ho"]}
    tan_hiep_2024 = by_year[2024]["28519"].parts["danh_sach_ho"]
    in_tan_hiep_2024 = {h["ma_ho"].removeprefix("28531-") for h in tan_hiep_2024
                        if h["ma_ho"].startswith("28531-")}
    assert len(tan_ly_tay_2023 & in_tan_hiep_2024) > 0.8 * len(tan_ly_tay_2023)
    # the host lists its own households unprefixed, the communes it took in under their codes
    dao_thanh = by_year[2025]["28249"].parts["danh_sach_ho"]
    prefixes = {m.group(1) for h in dao_thanh if (m := HOUSEHOLD_PREFIX.match(h["ma_ho"]))}
    assert prefixes == {code for code, new in successions_2025_from_package().items()
                        if new == "28249"} - {"28249"}
    assert any(not HOUSEHOLD_PREFIX.match(h["ma_ho"]) for h in dao_thanh)
    households = {year: sum(r["tong_so_ho"] for s in subs.values() for r in s.parts["tong_hop"])
                  for year, subs in by_year.items()}
    assert households[2021] == 506_184
    residents_2024 = sum(s.stats["residents"] for s in by_year[2024].values())
    assert households[2024] == residents_2024


def test_every_commune_and_year_written(landing):
    root, summary = landing
    units = {year: {u.code for u in units_on(review_date(year))} for year in YEARS}
    assert summary.files_written == summary.files == 172 * 3 + 164 + 57
    for year in YEARS:
        files = list((root / "communes" / str(year)).iterdir())
        assert {f.name.split("_")[0] for f in files} == units[year]
        assert all(
            f.name.endswith((f"_{year}_dinh_ky.xlsx", f"_{year}_dinh_ky.json")) for f in files
        )
        formats = Counter(f.suffix for f in files)
        assert min(formats[".xlsx"], formats[".json"]) > len(files) / 4, formats


def _cell(v):
    """calamine gives floats for numbers and '' for empty cells."""
    if v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _read(path) -> tuple[dict, dict[str, list[str]]]:
    """A landed file → (parts keyed by field code, the header cells as written)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        doc = json.loads(data.decode("utf-8"))
        return doc, {name: list(doc[name][0]) for name in ("tong_hop", "danh_sach_ho") if doc[name]}
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert wb.sheet_names == ["thong_tin", "tong_hop", "danh_sach_ho"]
    parts, headers = {}, {}
    rows = wb.get_sheet_by_name("thong_tin").to_python()
    sheet = CONTRACT.sheets["thong_tin"]
    assert rows[0] in (
        [sheet.key_header["code"], sheet.value_header["code"]],
        [sheet.key_header["label"], sheet.value_header["label"]],
    )
    index = header_index(sheet)
    parts["thong_tin"] = {index[header_key(k)]: _cell(v) for k, v in rows[1:]}
    for name in ("tong_hop", "danh_sach_ho"):
        rows = wb.get_sheet_by_name(name).to_python()
        headers[name] = rows[0]
        index = header_index(CONTRACT.sheets[name])
        codes = [index[header_key(h)] for h in rows[0]]
        parts[name] = [dict(zip(codes, map(_cell, r), strict=True)) for r in rows[1:]]
    return parts, headers


def test_landed_files_conform(landing):
    root, _ = landing
    styles = Counter()
    files = sorted((root / "communes").glob("*/*"))
    for path in files[::7]:  # a spread of communes, years and formats
        parts, headers = _read(path)
        year = int(path.parent.name)
        for name, cells in headers.items():
            sheet = CONTRACT.sheets[name]
            codes, labels = sheet.codes, [f.label for f in sheet.fields]
            assert cells in (codes, labels), (path, name)
            styles[path.suffix, "code" if cells == codes else "label"] += 1
        info = parts["thong_tin"]
        assert info["ma_tinh"] == "82" and info["ma_xa"] == path.name[:5]
        assert info["nam_ra_soat"] == year and info["loai_ra_soat"] == "dinh_ky"
        assert info["chuan_ngheo"] == "ND07_2022_2025"
        made = info["ngay_lap"]
        made = (
            dt.date.fromisoformat(made)
            if "-" in made
            else dt.datetime.strptime(made, "%d/%m/%Y").date()
        )
        assert made.year == year and made.month == 12 and made.day <= 10
        _check_parts(parts, year)
    assert styles[".xlsx", "code"] and styles[".xlsx", "label"], styles


def _check_parts(parts: dict, year: int) -> None:
    info = parts["thong_tin"]
    for f in CONTRACT.sheets["thong_tin"].fields:
        assert not f.required or info.get(f.code) not in (None, ""), f.code
    phone = str(info["dien_thoai"])
    assert len(phone) == 10 and phone.isdigit() and phone[0] == "0"
    rows = parts["danh_sach_ho"]
    assert len({r["ma_ho"] for r in rows}) == len(rows)
    # one summary row per area; a 2025 unit may join urban and rural communes
    assert len({t["khu_vuc"] for t in parts["tong_hop"]}) == len(parts["tong_hop"])
    for total in parts["tong_hop"]:
        assert total["khu_vuc"] in ("thanh_thi", "nong_thon")
        assert total["tong_so_nhan_khau"] >= total["tong_so_ho"] > 0
        classes = Counter(r["phan_loai_cua_xa"] for r in rows if r["khu_vuc"] == total["khu_vuc"])
        assert total["so_ho_ngheo"] == classes["ngheo"]
        assert total["so_ho_can_ngheo"] == classes["can_ngheo"]
        n = total["tong_so_ho"]
        assert total["ty_le_ho_ngheo"] == round(100 * total["so_ho_ngheo"] / n, 2)
        assert total["ty_le_ho_can_ngheo"] == round(100 * total["so_ho_can_ngheo"] / n, 2)
    areas = {t["khu_vuc"] for t in parts["tong_hop"]}
    required = [f.code for f in CONTRACT.sheets["danh_sach_ho"].fields if f.required]
    for r in rows:
        assert all(r[c] not in (None, "") for c in required)
        assert r["khu_vuc"] in areas
        assert len(r["so_dinh_danh_chu_ho"]) == 12 and r["so_dinh_danh_chu_ho"][:3] == "082"
        assert r["gioi_tinh_chu_ho"] in ("nam", "nu")
        assert 1900 <= r["nam_sinh_chu_ho"] <= year
        assert 1 <= r["so_nhan_khau"] <= 30
        assert 0 <= r["thu_nhap_binh_quan"] <= 100_000_000
        assert r["diem_a"] >= 0 and r["diem_b"] % 10 == 0
        assert all(r[c] in (0, 1, None) for c in FLAG_CODES)
        assert r["phan_loai_cua_xa"] in ("ngheo", "can_ngheo", "khong")
        listed = r["phan_loai_cua_xa"] != "khong"
        for code, allowed in (("nguyen_nhan_ngheo", CAUSES), ("nhu_cau_ho_tro", NEEDS)):
            if listed:
                assert set(r[code].split(";")) <= allowed
            else:
                assert r[code] is None


def test_in_memory_conforms_and_json_round_trips(province):
    for sub in province[::37]:
        _check_parts(sub.parts, sub.year)
        if sub.fmt == "json":
            assert json.loads(render(sub).decode("utf-8")) == sub.parts


def _totals(province):
    out = defaultdict(Counter)
    for s in province:
        for t in s.parts["tong_hop"]:
            out[s.year].update(
                ho=t["tong_so_ho"], ngheo=t["so_ho_ngheo"], can_ngheo=t["so_ho_can_ngheo"]
            )
    return out


def test_calibration_2021(province):
    pub = calibration()["published"]["review_2021"]
    totals = _totals(province)[2021]
    # the published review, exactly, whatever the units each commune's file is sent under
    assert (totals["ho"], totals["ngheo"], totals["can_ngheo"]) == (
        pub["households"], pub["poor"], pub["near_poor"]) == (506_184, 8_112, 16_113)
    assert round(100 * totals["ngheo"] / totals["ho"], 2) == 1.60
    assert round(100 * totals["can_ngheo"] / totals["ho"], 2) == 3.18
    end_2023 = _totals(province)[2023]
    assert round(100 * end_2023["ngheo"] / end_2023["ho"], 2) == calibration()["published"]["poor_rate_2023"]
    district_of = {u.code: u.district_code for u in units_on(review_date(2021))}
    by_district = Counter()
    for s in province:
        if s.year == 2021:
            by_district[district_of[s.commune_code]] += s.parts["tong_hop"][0]["tong_so_ho"]
    assert by_district == {d: n for d, n in pub["households_by_district"].items()}


def test_rates_fall_and_districts_differ(province):
    totals = _totals(province)
    poor = {y: 100 * t["ngheo"] / t["ho"] for y, t in totals.items()}
    near = {y: 100 * t["can_ngheo"] / t["ho"] for y, t in totals.items()}
    assert poor[2023] == pytest.approx(1.0, abs=0.15)
    assert all(poor[y] > poor[y + 1] for y in range(2021, 2025))
    assert all(near[y] > near[y + 1] for y in range(2021, 2025))
    assert poor[2025] < 0.8 and near[2025] > 2.0
    growth = totals[2025]["ho"] / totals[2021]["ho"]
    assert 1.02 < growth < 1.06
    district_of = {u.code: u.district_code for u in units_on(review_date(2021))}
    d = defaultdict(Counter)
    for s in province:
        if s.year == 2021:
            t = s.parts["tong_hop"][0]
            d[district_of[s.commune_code]].update(ho=t["tong_so_ho"], ngheo=t["so_ho_ngheo"])
    rate = {k: v["ngheo"] / v["ho"] for k, v in d.items()}
    assert rate["825"] > rate["818"] > rate["815"] and rate["824"] > 2 * rate["815"]
    assert min(rate, key=rate.get) == "815"


def test_reviewed_share(province):
    for year in (2021, 2025):
        subs = [s for s in province if s.year == year]
        reviewed = sum(len(s.parts["danh_sach_ho"]) for s in subs)
        residents = sum(t["tong_so_ho"] for s in subs for t in s.parts["tong_hop"])
        assert 0.10 <= reviewed / residents <= 0.12


def test_classification_consistent_with_income_and_flags(province):
    seen = Counter()
    for s in province[::3]:
        for r in s.parts["danh_sach_ho"]:
            d = sum(r[c] for c in ND07)
            assert r["diem_b"] == 10 * d
            under = r["thu_nhap_binh_quan"] <= LINE[r["khu_vuc"]]
            expected = "khong" if not under else ("ngheo" if d >= 3 else "can_ngheo")
            assert r["phan_loai_cua_xa"] == expected
            score_line = 140 if r["khu_vuc"] == "nong_thon" else 175
            assert (r["diem_a"] <= score_line) == under
            assert all(r[c] is not None for c in ND07)
            assert r["td351_dich_vu_so"] is not None
            seen[s.year, r["td59_vien_thong"] is not None] += 1
            seen[r["phan_loai_cua_xa"]] += 1
    assert seen[2021, True] and not seen[2021, False]  # every commune collects QĐ59 in 2021
    later = seen[2024, True] / (seen[2024, True] + seen[2024, False])
    assert 0.05 < later < 0.4  # about one commune in five afterwards
    assert seen["khong"] > seen["can_ngheo"] > seen["ngheo"] > 0


def test_qd59_rate_plausible(province):
    lines = {"nong_thon": (700_000, 1_000_000), "thanh_thi": (900_000, 1_300_000)}
    shared = [
        "td_bhyt",
        "td_chat_luong_nha",
        "td_dien_tich_nha",
        "td_nuoc_sinh_hoat",
        "td_nha_tieu",
    ]
    own = [c for c in FLAG_CODES if c.startswith("td59_")]
    poor = residents = 0
    for s in province:
        if s.year != 2021:
            continue
        residents += s.parts["tong_hop"][0]["tong_so_ho"]
        for r in s.parts["danh_sach_ho"]:
            lo, hi = lines[r["khu_vuc"]]
            d = sum(r[c] for c in shared + own)
            income = r["thu_nhap_binh_quan"]
            poor += income <= lo or (income <= hi and d >= 3)
    assert 1.0 <= 100 * poor / residents <= 1.5


def test_households_persist_across_years(province):
    cls = defaultdict(dict)  # (commune, ma_ho) → year → class
    for s in province:
        for r in s.parts["danh_sach_ho"]:
            # a merged commune lists a household as "<former commune>-<ma_ho>"
            former, _, code = r["ma_ho"].rpartition("-")
            cls[former or s.commune_code, code][s.year] = r["phan_loai_cua_xa"]
    flows = Counter()
    for years in cls.values():
        for y in range(2022, 2026):
            a, b = years.get(y - 1), years.get(y)
            if a == "ngheo" and b in ("can_ngheo", "khong"):
                flows["escaped"] += 1
            if a == "can_ngheo" and b == "ngheo":
                flows["near_to_poor"] += 1
            if b == "ngheo" and a in (None, "khong"):
                earlier = [years.get(x) for x in range(2021, y - 1)]
                flows["re_poor" if "ngheo" in earlier else "new_poor"] += 1
            if a is None and b is not None and y > min(years):
                flows["gap"] += 1
            if a is None and b is not None:
                flows["joined"] += 1
            if a is not None and b is None:
                flows["left"] += 1
    recurring = sum(len(v) == 5 for v in cls.values()) / len(cls)
    assert recurring > 0.75
    assert flows["gap"] == 0  # a household that left never comes back
    for kind in ("escaped", "near_to_poor", "new_poor", "re_poor", "joined", "left"):
        assert flows[kind] > 100, flows
    assert flows["escaped"] > flows["new_poor"] + flows["re_poor"]


def test_summary_matches_files(landing):
    root, summary = landing
    assert set(summary.households) == set(YEARS)
    for year in YEARS:
        files = summary.files_by_year[year]
        assert files["xlsx"] + files["json"] == len(units_on(review_date(year)))
    # The small-scale summary still follows the province's rates.
    assert summary.poor_rate[2021] == pytest.approx(1.60, abs=0.1)
    assert summary.poor_rate[2025] < summary.poor_rate[2021]


def test_scale_multiplies_households():
    from poverty_pipeline.samples.model import province_plan

    one, two = province_plan(2021, 1.0), province_plan(2021, 2.0)
    for attr in ("residents", "poor", "near_poor"):
        a = sum(getattr(p, attr)[0] for p in one.values())
        b = sum(getattr(p, attr)[0] for p in two.values())
        assert b == pytest.approx(2 * a, rel=0.001), attr
    assert sum(p.reviewed for p in two.values()) == pytest.approx(
        2 * sum(p.reviewed for p in one.values()), rel=0.01
    )
