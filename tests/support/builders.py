"""Build small contract-conforming submissions in tests, and write them as .json or .xlsx."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import xlsxwriter

from poverty_pipeline.reference.contract import load_contract

FLAGS_ZERO = {f.code: 0 for f in load_contract().sheets["danh_sach_ho"].fields if f.type == "flag"}


def household(ma_ho: str, **values) -> dict:
    row = {
        "ma_ho": ma_ho, "ap": "Ấp 1", "khu_vuc": "nong_thon", "ho_ten_chu_ho": "Nguyễn Văn An",
        "so_dinh_danh_chu_ho": "082123456789", "gioi_tinh_chu_ho": "nam", "nam_sinh_chu_ho": 1970,
        "dan_toc": "Kinh", "so_nhan_khau": 4, "thu_nhap_binh_quan": 2_500_000, **FLAGS_ZERO,
        "phan_loai_cua_xa": "khong",
    }
    row.update(values)
    return row


def submission(ma_xa: str = "28249", year: int = 2021, households: list[dict] | None = None,
               **info) -> dict:
    households = households if households is not None else [
        household("HO001", thu_nhap_binh_quan=1_200_000, td_bhyt=1, td_nha_tieu=1, td_viec_lam=1,
                  phan_loai_cua_xa="ngheo"),
        household("HO002", thu_nhap_binh_quan=1_400_000, phan_loai_cua_xa="can_ngheo"),
        household("HO003"),
    ]
    return {
        "thong_tin": {
            "ma_tinh": "82", "ma_xa": ma_xa, "nam_ra_soat": year, "loai_ra_soat": "dinh_ky",
            "chuan_ngheo": "ND07_2022_2025", "nguoi_lap": "Trần Thị Bình",
            "dien_thoai": "0912345678", "ngay_lap": f"{year}-12-05", **info,
        },
        "tong_hop": [{
            "khu_vuc": "nong_thon", "tong_so_ho": 100, "tong_so_nhan_khau": 350, "so_ho_ngheo": 1,
            "ty_le_ho_ngheo": 1.0, "so_ho_can_ngheo": 1, "ty_le_ho_can_ngheo": 1.0,
        }],
        "danh_sach_ho": households,
    }


def agency_activity(code: str, **values) -> dict:
    """A row of an agency report's activity sheet (hoat_dong)."""
    row = {"ma_nhiem_vu": "NV4", "ma_hoat_dong": code, "noi_dung": "Huy động kinh phí giảm nghèo",
           "chi_tieu": None, "don_vi_tinh": None, "ke_hoach": None, "thuc_hien": None,
           "nguon_kinh_phi": None, "trang_thai": "dang_thuc_hien", "han_hoan_thanh": None,
           "ngay_hoan_thanh": None, "ghi_chu": None}
    row.update(values)
    return row


def agency_report(ma_don_vi: str = "STC", period: str = "2024-Q1",
                  activities: list[dict] | None = None, **info) -> dict:
    """An agency task report (contract agency_task_report): three activities by default, one
    in progress with figures, one done, one not started."""
    activities = activities if activities is not None else [
        agency_activity("HD-01", chi_tieu="kinh_phi_huy_dong", don_vi_tinh="dong",
                        ke_hoach=500_000_000, thuc_hien=200_000_000, nguon_kinh_phi="ngan_sach",
                        han_hoan_thanh="2024-06-30"),
        agency_activity("HD-02", chi_tieu="so_lop_tap_huan", don_vi_tinh="lop", ke_hoach=2,
                        thuc_hien=2, trang_thai="hoan_thanh", han_hoan_thanh="2024-03-31",
                        ngay_hoan_thanh="2024-03-20"),
        agency_activity("HD-03", noi_dung="Rà soát cơ chế phân bổ vốn",
                        trang_thai="chua_thuc_hien"),
    ]
    return {
        "thong_tin": {"ma_don_vi": ma_don_vi, "ky_bao_cao": period, "nguoi_lap": "Lê Thị Cúc",
                      "ngay_lap": "2024-04-05", **info},
        "hoat_dong": activities,
    }


def variant(doc: dict, **changes) -> dict:
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        out[key] = value
    return out


def json_bytes(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def xlsx_bytes(doc: dict, labels: bool = False, sheets: tuple[str, ...] | None = None) -> bytes:
    """The submission as a workbook; ``labels`` writes the Vietnamese header labels."""
    contract = load_contract()
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name in sheets or ("thong_tin", "tong_hop", "danh_sach_ho"):
        ws = book.add_worksheet(name)
        spec = contract.sheets[name]
        label = {f.code: f.label for f in spec.fields}
        if name == "thong_tin":
            ws.write_row(0, 0, ["Trường", "Giá trị"] if labels else ["truong", "gia_tri"])
            for i, (k, v) in enumerate(doc[name].items(), start=1):
                ws.write_row(i, 0, [label.get(k, k) if labels else k, v])
        else:
            rows = doc[name]
            header = list(dict.fromkeys(k for r in rows for k in r))
            ws.write_row(0, 0, [label.get(k, k) if labels else k for k in header])
            for i, r in enumerate(rows, start=1):
                ws.write_row(i, 0, [r.get(k) for k in header])
    book.close()
    return buffer.getvalue()


def land(landing: Path, name: str, data: bytes, year: int | str = 2021) -> Path:
    path = landing / "communes" / str(year) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
