"""The commune template (`poverty template`): generated from the contract and its suites, filled
as an officer fills it — typing under the headers, choosing from the lists — and sent through
the real ingest into PostgreSQL, where it loads as `accepted`; pre-filled from the last
accepted review (after a merger, from every unit merged in), edited, it loads too and
supersedes only what it replaces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from support.builders import household, json_bytes, land, submission, xlsx_bytes
from support.pipeline_helpers import ingest

from poverty_pipeline.cli import main as cli
from poverty_pipeline.ingest import template
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.ingest.normalise import canonical_values, convert_value
from poverty_pipeline.ingest.validate import suite_definition, value_sets
from poverty_pipeline.reference.contract import header_key, load_contract
from poverty_pipeline.warehouse.database import connect, ensure_schema

CONTRACT = load_contract()
LABEL = {sheet: {f.code: f.label for f in spec.fields} for sheet, spec in CONTRACT.sheets.items()}


# ------------------------------------------------------------------ as a person fills it


class Officer:
    """Fills an opened template the way a person does: finds a column by its header's label,
    types into the first empty row under it, picks list entries as the list shows them."""

    def __init__(self, path: Path):
        self.path = path
        self.book = openpyxl.load_workbook(path)

    def columns(self, sheet: str) -> dict[str, int]:
        ws = self.book[sheet]
        return {cell.value: cell.column for cell in ws[1] if cell.value}

    def info(self, label: str, value) -> None:
        ws = self.book["thong_tin"]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == label)
        ws.cell(row, 2).value = value

    def info_value(self, label: str):
        ws = self.book["thong_tin"]
        return next(ws.cell(r, 2).value for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == label)

    def first_empty_row(self, sheet: str) -> int:
        ws = self.book[sheet]
        row = 2
        while ws.cell(row, 1).value not in (None, ""):
            row += 1
        return row

    def add_row(self, sheet: str, values: dict[str, object]) -> int:
        """``values`` by header label, typed into the first empty row."""
        ws, columns = self.book[sheet], self.columns(sheet)
        row = self.first_empty_row(sheet)
        for label, value in values.items():
            ws.cell(row, columns[label]).value = value
        return row

    def set(self, sheet: str, row: int, label: str, value) -> None:
        self.book[sheet].cell(row, self.columns(sheet)[label]).value = value

    def rows(self, sheet: str) -> list[dict[str, object]]:
        ws, columns = self.book[sheet], self.columns(sheet)
        return [{label: ws.cell(r, c).value for label, c in columns.items()}
                for r in range(2, self.first_empty_row(sheet))]

    def choices(self, sheet: str, label: str) -> list[str]:
        """The entries of the column's drop-down list, as the officer sees them."""
        ws, column = self.book[sheet], self.columns(sheet)[label]
        letter = openpyxl.utils.get_column_letter(column)
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list" and any(str(r).startswith(f"{letter}2") for r in dv.sqref.ranges):
                return dv.formula1.strip('"').split(",")
        raise AssertionError(f"{sheet}.{label} has no drop-down list")

    def save_to(self, landing: Path, year: int, code: str, name: str) -> str:
        target = landing / "communes" / str(year) / code / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self.book.save(target)
        return f"communes/{year}/{code}/{name}"


def make_template(code: str, year: int, out: Path, *extra: str) -> Path:
    cli.main(["template", "--commune", code, "--year", str(year), "--out", str(out), *extra])
    path = out / str(year) / f"{code}.xlsx"
    assert path.is_file()
    return path


def outcomes(url: str, landing: Path) -> dict[str, str]:
    return {o.path: o.status for o in ingest(url, landing).outcomes}


def problems(url: str, path: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(
            "select severity, sheet, row_number, column_name, value, rule from audit.submission_problems "
            "join audit.submissions using (submission_id) where path = %s order by problem_id", (path,)
        ).fetchall()


def raw_households(url: str, path: str) -> list[dict]:
    codes = CONTRACT.sheets["danh_sach_ho"].codes
    with connect(url) as conn:
        rows = conn.execute(
            f"select {', '.join(codes)} from raw.commune_households join audit.submissions "
            "using (submission_id) where path = %s order by row_number", (path,)).fetchall()
    return [dict(zip(codes, row, strict=True)) for row in rows]


def statuses(url: str) -> dict[str, str]:
    with connect(url) as conn:
        return dict(conn.execute("select path, status from audit.submissions").fetchall())


# ------------------------------------------------------------------ generated from the contract


def test_every_coded_column_has_a_list_whose_entries_load_as_the_suites_codes(tmp_path):
    book = Officer(make_template("28249", 2025, tmp_path, "--blank"))
    sets = value_sets(CONTRACT.name, CONTRACT.sheets)
    checked = 0
    for sheet, spec in CONTRACT.sheets.items():
        rules = template.column_rules(spec, 2025)
        for f in spec.fields:
            rule = rules[f.code]
            if rule.values is None and rule.codes is None:
                continue
            if sheet == "thong_tin" and f.code == "ma_tinh":
                continue  # pre-filled and locked: the province's own code
            on_info = sheet == "thong_tin"
            choices = _info_choices(book, f.label) if on_info else book.choices(sheet, f.label)
            expected = rule.codes or rule.values
            canon = canonical_values(sets[(sheet, f.code)]) if (sheet, f.code) in sets else None
            # each entry, typed or picked, becomes exactly the suite's code
            loaded = [convert_value(f, choice, canon)[0] for choice in choices]
            assert loaded == expected, (sheet, f.code, choices)
            # and every code has words for the people who fill the form
            strings = [v for v in expected if isinstance(v, str)]
            assert all(v in rule.words for v in strings), (f.code, set(strings) - set(rule.words))
            checked += 1
    assert checked >= 27  # area, gender, class, review type, standard, 2 code lists, flags, score B


def _info_choices(book: Officer, label: str) -> list[str]:
    ws = book.book["thong_tin"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == label)
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list" and f"B{row}" in str(dv.sqref):
            return dv.formula1.strip('"').split(",")
    raise AssertionError(f"thong_tin.{label} has no list")


def test_lists_show_words_where_they_load_and_codes_where_they_would_not():
    rules = template.column_rules(CONTRACT.sheets["danh_sach_ho"], 2025)
    assert rules["khu_vuc"].choices == ["Thành thị", "Nông thôn"]
    assert rules["gioi_tinh_chu_ho"].choices == ["Nam", "Nữ"]
    assert rules["phan_loai_cua_xa"].choices == ["Nghèo", "Cận nghèo", "Không"]
    # words that do not fold to their code would not load: the codes are listed, the words in
    # the instructions (the standards' names, the causes of poverty)
    info = template.column_rules(CONTRACT.sheets["thong_tin"], 2025)
    assert info["chuan_ngheo"].choices == ["QD59_2016_2020", "ND07_2022_2025", "ND351_2027_2030"]
    assert rules["nguyen_nhan_ngheo"].choices[:2] == ["thieu_dat", "thieu_von"]
    assert rules["nguyen_nhan_ngheo"].words["thieu_von"][0] == "Thiếu vốn sản xuất kinh doanh"
    for rule in rules.values():
        for code, (vi, _) in rule.words.items():
            if rule.shows_words:
                assert header_key(vi) == header_key(code)


def test_checks_and_hints_follow_the_suites(tmp_path):
    book = Officer(make_template("28249", 2024, tmp_path, "--blank")).book
    ws = book["danh_sach_ho"]
    header = {c.value: c.column_letter for c in ws[1]}
    by_column = {}
    for dv in ws.data_validations.dataValidation:
        for ref in dv.sqref.ranges:
            by_column[str(ref).split(":")[0].rstrip("0123456789")] = dv
    assert len(by_column) == len(CONTRACT.sheets["danh_sach_ho"].fields)  # every column: a hint at least

    size = by_column[header[LABEL["danh_sach_ho"]["so_nhan_khau"]]]
    assert (size.type, float(size.formula1), float(size.formula2)) == ("whole", 1, 30)  # the suite's range
    born = by_column[header[LABEL["danh_sach_ho"]["nam_sinh_chu_ho"]]]
    assert (born.type, float(born.formula1), float(born.formula2)) == ("whole", 1900, 2024)  # ≤ review year
    income = by_column[header[LABEL["danh_sach_ho"]["thu_nhap_binh_quan"]]]
    assert (income.type, float(income.formula2)) == ("decimal", 100_000_000)
    citizen = by_column[header[LABEL["danh_sach_ho"]["so_dinh_danh_chu_ho"]]]
    assert (citizen.type, citizen.operator, citizen.formula1) == ("textLength", "equal", "12")
    household_code = by_column["A"]
    assert household_code.type == "custom" and "COUNTIF" in household_code.formula1  # unique
    score_b = by_column[header[LABEL["danh_sach_ho"]["diem_b"]]]
    assert score_b.formula1.strip('"').split(",") == [str(v) for v in range(0, 200, 10)]
    for dv in by_column.values():
        assert dv.showInputMessage and dv.prompt and "Mã cột / code:" in dv.prompt
        assert next(iter(dv.sqref.ranges)).max_row == 1_048_576  # every row a person adds is checked
    date = next(dv for dv in book["thong_tin"].data_validations.dataValidation if dv.type == "date")
    assert date.formula2 == "TODAY()"  # ngay_lap: not after today (date_not_future)


def test_headers_are_protected_the_data_area_is_editable_and_panes_frozen(tmp_path):
    book = Officer(make_template("28249", 2025, tmp_path, "--blank")).book
    assert book.sheetnames == ["huong_dan", "thong_tin", "tong_hop", "danh_sach_ho"]
    assert book.active.title == "huong_dan"
    for name in ("tong_hop", "danh_sach_ho"):
        ws = book[name]
        assert ws.protection.sheet and ws.protection.password is None
        assert ws.protection.insertRows is False and ws.protection.deleteRows is False  # allowed
        assert [c.value for c in ws[1]] == [f.label for f in CONTRACT.sheets[name].fields]
        assert all(c.protection.locked for c in ws[1])
        assert ws.freeze_panes == "B2"
        # the data area: every column's style is unlocked (a cell typed into takes it), also
        # right of the table, so whole rows can be deleted
        for column in [*range(1, len(CONTRACT.sheets[name].fields) + 1), 200]:
            dimension = next(d for d in ws.column_dimensions.values() if d.min <= column <= d.max)
            assert dimension.protection.locked is False, (name, column)
    info = book["thong_tin"]
    assert info.freeze_panes == "A2" and info.protection.sheet
    fixed = {info.cell(r, 1).value: info.cell(r, 2) for r in range(2, info.max_row + 1)}
    assert fixed["Mã xã"].value == "28249" and fixed["Mã xã"].protection.locked
    assert fixed["Năm rà soát"].value == 2025 and fixed["Năm rà soát"].protection.locked
    assert not fixed["Người lập biểu"].protection.locked and not fixed["Ngày lập"].protection.locked
    assert fixed["Chuẩn nghèo áp dụng"].value == "ND07_2022_2025"  # the seed's standard of 2025
    guide = "\n".join(str(c.value) for row in book["huong_dan"].iter_rows() for c in row if c.value)
    assert "DỮ LIỆU CÁ NHÂN" in guide and "PERSONAL DATA" in guide
    assert "communes/2025/28249/" in guide and "_feedback/communes/2025/28249/" in guide
    assert "Thiếu vốn sản xuất kinh doanh" in guide  # the codes' words


def test_the_standard_is_the_one_of_the_review_year():
    assert template.standard_of(2020) == "QD59_2016_2020"
    assert template.standard_of(2021) == "ND07_2022_2025"
    assert template.standard_of(2025) == "ND07_2022_2025"
    assert template.standard_of(2027) == "ND351_2027_2030"


# ------------------------------------------------------------------ filled and sent


def test_a_blank_template_filled_as_an_officer_would_loads_as_accepted(warehouse, landing, tmp_path):
    path = make_template("28249", 2025, tmp_path)  # an empty warehouse: nothing to pre-fill
    officer = Officer(path)
    assert officer.rows("danh_sach_ho") == []
    officer.info("Người lập biểu", "Nguyễn Thị Lan")
    officer.info("Điện thoại", "0912345678")
    officer.info("Ngày lập", dt.datetime(2025, 12, 20))
    areas = officer.choices("tong_hop", "Khu vực")
    officer.add_row("tong_hop", {"Khu vực": areas[1], "Tổng số hộ dân cư": 2400, "Tổng số nhân khẩu": 8100,
                                 "Số hộ nghèo": 1, "Tỷ lệ hộ nghèo (%)": 0.04, "Số hộ cận nghèo": 1,
                                 "Tỷ lệ hộ cận nghèo (%)": 0.04})
    L = LABEL["danh_sach_ho"]
    classes = officer.choices("danh_sach_ho", L["phan_loai_cua_xa"])
    officer.add_row("danh_sach_ho", {
        L["ma_ho"]: "HO001", L["ap"]: "Ấp Tân Hòa", L["khu_vuc"]: "Nông thôn",
        L["ho_ten_chu_ho"]: "Trần Văn Út", L["so_dinh_danh_chu_ho"]: "082085000123",
        L["gioi_tinh_chu_ho"]: "Nam", L["nam_sinh_chu_ho"]: 1961, L["dan_toc"]: "Kinh",
        L["so_nhan_khau"]: 3, L["thu_nhap_binh_quan"]: 1_150_000, L["diem_b"]: 40,
        L["td_viec_lam"]: 1, L["td_bhyt"]: 1, L["td_nha_tieu"]: 1, L["td_chat_luong_nha"]: 1,
        L["nguyen_nhan_ngheo"]: "thieu_von;om_dau", L["nhu_cau_ho_tro"]: "von_vay",
        L["phan_loai_cua_xa"]: classes[0], L["ghi_chu"]: "-hộ neo đơn",
    })
    officer.add_row("danh_sach_ho", {
        L["ma_ho"]: "HO002", L["ap"]: "Ấp Tân Hòa", L["khu_vuc"]: "Nông thôn",
        L["ho_ten_chu_ho"]: "Lê Thị Mười", L["gioi_tinh_chu_ho"]: "Nữ", L["nam_sinh_chu_ho"]: 1980,
        L["so_nhan_khau"]: 5, L["thu_nhap_binh_quan"]: 1_400_000, L["td_dinh_duong"]: 1,
        L["phan_loai_cua_xa"]: classes[1],
    })
    sent = officer.save_to(landing, 2025, "28249", "28249_2025_dinh_ky.xlsx")

    assert outcomes(warehouse, landing) == {sent: "accepted"}
    assert problems(warehouse, sent) == []  # not even a warning: the instructions sheet is the template's
    first, second = raw_households(warehouse, sent)
    assert (first["khu_vuc"], first["gioi_tinh_chu_ho"]) == ("nong_thon", "nam")
    assert first["phan_loai_cua_xa"] == "ngheo"
    assert first["so_dinh_danh_chu_ho"] == "082085000123"  # typed digits stayed text
    assert first["nguyen_nhan_ngheo"] == "thieu_von;om_dau" and first["ghi_chu"] == "-hộ neo đơn"
    assert (second["gioi_tinh_chu_ho"], second["phan_loai_cua_xa"]) == ("nu", "can_ngheo")
    assert second["td_dinh_duong"] == 1
    with connect(warehouse) as conn:
        info = conn.execute("select ma_xa, nam_ra_soat, loai_ra_soat, chuan_ngheo, ngay_lap "
                            "from raw.commune_submission_info").fetchone()
        area = conn.execute("select khu_vuc, tong_so_ho from raw.commune_area_totals").fetchone()
    assert info == ("28249", 2025, "dinh_ky", "ND07_2022_2025", dt.date(2025, 12, 20))
    assert area == ("nong_thon", 2400)


def test_a_template_pre_filled_from_the_last_review_edited_loads_and_supersedes_nothing_else(
        warehouse, landing, tmp_path, monkeypatch):
    formula_like = "=HYPERLINK(\"http://x\",\"y\")"
    before = [
        household("HO001", thu_nhap_binh_quan=1_200_000, td_bhyt=1, td_nha_tieu=1, td_viec_lam=1,
                  phan_loai_cua_xa="ngheo", nguyen_nhan_ngheo="thieu_von", ghi_chu=formula_like),
        household("HO002", thu_nhap_binh_quan=1_400_000, phan_loai_cua_xa="can_ngheo",
                  ho_ten_chu_ho="+Lê Văn Hai", gioi_tinh_chu_ho="nu"),
        household("HO003", khu_vuc="thanh_thi"),
        household("HO004", so_dinh_danh_chu_ho="012345678901"),
    ]
    # as JSON: a workbook writer would have turned the text into a formula
    land(landing, "28249_2023.json", json_bytes(submission("28249", 2023, households=before)), 2023)
    land(landing, "28252_2023.xlsx", xlsx_bytes(submission("28252", 2023)), 2023)
    land(landing, "28249_2024_monthly.xlsx", xlsx_bytes(submission(
        "28249", 2024, households=[household("HO009")], loai_ra_soat="thuong_xuyen", thang=3)), 2024)
    assert set(outcomes(warehouse, landing).values()) == {"accepted"}

    # into the landing's _templates folder (the default), which discovery never takes in
    monkeypatch.setenv("POVERTY_LANDING_URL", landing.as_uri())
    cli.main(["template", "--commune", "28249", "--year", "2024"])
    path = landing / "_templates" / "2024" / "28249.xlsx"
    with connect(warehouse, autocommit=True) as conn:
        assert new_files(conn, landing.as_uri(), "communes") == []

    officer = Officer(path)
    L = LABEL["danh_sach_ho"]
    listed = officer.rows("danh_sach_ho")
    # the 2023 periodic review's households (not the monthly one of 2024), as words and values
    assert [r[L["ma_ho"]] for r in listed] == ["HO001", "HO002", "HO003", "HO004"]
    assert [r[L["khu_vuc"]] for r in listed] == ["Nông thôn", "Nông thôn", "Thành thị", "Nông thôn"]
    assert listed[1][L["gioi_tinh_chu_ho"]] == "Nữ" and listed[0][L["phan_loai_cua_xa"]] == "Nghèo"
    assert listed[0][L["thu_nhap_binh_quan"]] == 1_200_000 and listed[0][L["td_bhyt"]] == 1
    assert listed[3][L["so_dinh_danh_chu_ho"]] == "012345678901"  # text, its leading 0 kept
    # formula-like text is shown as typed: a string with the quote-prefix mark, no formula
    ws = officer.book["danh_sach_ho"]
    note = ws.cell(2, officer.columns("danh_sach_ho")[L["ghi_chu"]])
    name = ws.cell(3, officer.columns("danh_sach_ho")[L["ho_ten_chu_ho"]])
    for cell, text in ((note, formula_like), (name, "+Lê Văn Hai")):
        assert cell.data_type == "s" and cell.value == text and cell.quotePrefix
    areas = [r["Khu vực"] for r in officer.rows("tong_hop")]
    assert areas == ["Nông thôn"]  # the areas of the last review, numbers left to fill

    # the officer reviews: one household moved away, one's income rose, a new one arrived
    ws.delete_rows(5)  # HO004
    officer.set("danh_sach_ho", 3, L["thu_nhap_binh_quan"], 2_600_000)
    officer.set("danh_sach_ho", 3, L["phan_loai_cua_xa"], "Không")
    officer.add_row("danh_sach_ho", {
        L["ma_ho"]: "HO010", L["ap"]: "Ấp 2", L["khu_vuc"]: "Nông thôn", L["ho_ten_chu_ho"]: "Phạm Văn Tư",
        L["so_nhan_khau"]: 2, L["thu_nhap_binh_quan"]: 3_000_000, L["phan_loai_cua_xa"]: "Không"})
    ws_area = officer.book["tong_hop"]
    totals = {"Tổng số hộ dân cư": 120, "Tổng số nhân khẩu": 400, "Số hộ nghèo": 1,
              "Tỷ lệ hộ nghèo (%)": 0.83, "Số hộ cận nghèo": 0, "Tỷ lệ hộ cận nghèo (%)": 0}
    for label, value in totals.items():
        ws_area.cell(2, officer.columns("tong_hop")[label]).value = value
    officer.info("Người lập biểu", "Trần Thị Bình")
    officer.info("Ngày lập", dt.datetime(2024, 12, 18))
    sent = officer.save_to(landing, 2024, "28249", "28249_2024_dinh_ky.xlsx")

    assert outcomes(warehouse, landing) == {sent: "accepted"}
    assert problems(warehouse, sent) == []
    loaded = raw_households(warehouse, sent)
    assert [h["ma_ho"] for h in loaded] == ["HO001", "HO002", "HO003", "HO010"]
    assert loaded[0]["ghi_chu"] == formula_like and loaded[1]["ho_ten_chu_ho"] == "+Lê Văn Hai"
    assert (loaded[1]["thu_nhap_binh_quan"], loaded[1]["phan_loai_cua_xa"]) == (2_600_000, "khong")
    assert (loaded[0]["nguyen_nhan_ngheo"], loaded[0]["td_bhyt"]) == ("thieu_von", 1)
    # a new review year: the 2023 reviews and the 2024 monthly review stay as they were
    assert statuses(warehouse) == {
        "communes/2023/28249_2023.json": "accepted", "communes/2023/28252_2023.xlsx": "accepted",
        "communes/2024/28249_2024_monthly.xlsx": "accepted", sent: "accepted"}

    # a second template of the same year is pre-filled from 2023 still; sent again, corrected,
    # it supersedes the first 2024 file only
    path.unlink()
    cli.main(["template", "--commune", "28249", "--year", "2024"])
    again = Officer(path)
    assert [r[L["ma_ho"]] for r in again.rows("danh_sach_ho")] == ["HO001", "HO002", "HO003", "HO004"]
    corrected = Officer(landing / sent)
    corrected.set("danh_sach_ho", 2, L["so_nhan_khau"], 5)
    second = corrected.save_to(landing, 2024, "28249", "28249_2024_dinh_ky_sua.xlsx")
    assert outcomes(warehouse, landing) == {second: "accepted"}
    assert statuses(warehouse)[sent] == "superseded"
    assert statuses(warehouse)["communes/2023/28249_2023.json"] == "accepted"


def test_a_merged_unit_is_pre_filled_with_the_households_of_every_unit_merged_into_it(
        warehouse, landing, tmp_path):
    # 1 Jul 2025: 28249 (Phường 5), 28252 (Phường 4) and 28282 became Phường Đạo Thạnh (28249)
    members = {"28249": ["HO001", "HO002"], "28252": ["HO001", "HO007"], "28282": ["HO003"]}
    for code, households in members.items():
        land(landing, f"{code}_2024.xlsx", xlsx_bytes(submission(
            code, 2024, households=[household(h, ho_ten_chu_ho=f"Chủ hộ {code} {h}") for h in households])),
            2024)
    land(landing, "28261_2024.xlsx", xlsx_bytes(submission("28261", 2024)), 2024)  # another unit
    assert set(outcomes(warehouse, landing).values()) == {"accepted"}
    assert template.territory("28249", 2025) == ["28249", "28252", "28282"]

    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        previous = template.previous_review(conn, "28249", 2025)
    assert previous.year == 2024 and list(previous.submissions) == ["28249", "28252", "28282"]
    # the unit's own households as they were; the others under their former commune's code
    assert [h["ma_ho"] for h in previous.households] == [
        "HO001", "HO002", "28252-HO001", "28252-HO007", "28282-HO003"]
    assert previous.households[2]["ho_ten_chu_ho"] == "Chủ hộ 28252 HO001"

    path = make_template("28249", 2025, tmp_path)
    officer = Officer(path)
    L = LABEL["danh_sach_ho"]
    assert [r[L["ma_ho"]] for r in officer.rows("danh_sach_ho")] == [h["ma_ho"] for h in previous.households]
    officer.set("tong_hop", 2, "Tổng số hộ dân cư", 300)
    for label, value in {"Tổng số nhân khẩu": 1000, "Số hộ nghèo": 0, "Tỷ lệ hộ nghèo (%)": 0,
                         "Số hộ cận nghèo": 0, "Tỷ lệ hộ cận nghèo (%)": 0}.items():
        officer.set("tong_hop", 2, label, value)
    officer.info("Người lập biểu", "Võ Thị Hạnh")
    officer.info("Ngày lập", dt.datetime(2025, 12, 22))
    sent = officer.save_to(landing, 2025, "28249", "28249_2025.xlsx")
    assert outcomes(warehouse, landing) == {sent: "accepted"}
    assert problems(warehouse, sent) == []
    assert [h["ma_ho"] for h in raw_households(warehouse, sent)] == [h["ma_ho"] for h in previous.households]
    assert set(statuses(warehouse).values()) == {"accepted"}  # the 2024 reviews stay


def test_templates_for_every_unit_of_a_year(tmp_path):
    cli.main(["template", "--year", "2025", "--out", str(tmp_path), "--blank"])
    written = sorted(p.stem for p in (tmp_path / "2025").glob("*.xlsx"))
    assert written == [u.code for u in template.units_of(2025)] and len(written) == 57


def test_an_unknown_commune_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(SystemExit) as refused:
        cli.main(["template", "--commune", "28252", "--year", "2025", "--out", str(tmp_path), "--blank"])
    assert "not a commune-level unit on 31/12/2025: 28252" in str(refused.value)
    assert not (tmp_path / "2025").exists()


def test_every_code_list_of_the_suites_has_words():
    for sheet in CONTRACT.sheets:
        for exp in suite_definition(CONTRACT.name, sheet)["expectations"]:
            if exp["meta"]["rule"] == "allowed_codes":
                rule = template.column_rules(CONTRACT.sheets[sheet], 2025)[exp["kwargs"]["column"]]
                assert rule.codes and set(rule.codes) <= set(rule.words), rule.field.code
