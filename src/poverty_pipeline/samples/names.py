"""Synthetic Vietnamese personal data: names, citizen IDs and phone numbers.

Everything here is invented: the names are common Vietnamese name parts drawn at random, the IDs
follow the 12-digit citizen-ID layout (province of birth ``082`` = Tiền Giang, century/sex digit,
two-digit birth year, six random digits) and belong to nobody.
"""

from __future__ import annotations

import numpy as np

# Surname frequencies roughly as in the South-West; Huỳnh / Võ are the southern forms.
SURNAMES = {
    "Nguyễn": 36,
    "Trần": 11,
    "Lê": 9,
    "Phạm": 6,
    "Huỳnh": 6,
    "Võ": 5,
    "Phan": 4,
    "Trương": 2,
    "Bùi": 2,
    "Đặng": 2,
    "Đỗ": 1.5,
    "Ngô": 1.5,
    "Hồ": 2,
    "Dương": 1.5,
    "Đinh": 1,
    "Lý": 1,
    "Đoàn": 1,
    "Châu": 1,
    "Lâm": 1,
    "Mai": 1,
    "Tô": 0.5,
    "Cao": 1,
    "Lương": 0.5,
    "Hà": 0.5,
    "Thái": 0.5,
    "Quách": 0.3,
    "Tạ": 0.3,
    "Đào": 0.7,
}
MIDDLE_MALE = {
    "Văn": 55,
    "Hữu": 6,
    "Minh": 8,
    "Thanh": 8,
    "Quốc": 5,
    "Công": 4,
    "Hoàng": 3,
    "Ngọc": 3,
    "Tấn": 5,
    "Phước": 3,
}
MIDDLE_FEMALE = {
    "Thị": 60,
    "Ngọc": 9,
    "Thanh": 7,
    "Kim": 7,
    "Mỹ": 5,
    "Hồng": 4,
    "Bích": 3,
    "Thu": 3,
    "Phương": 2,
}
GIVEN_MALE = [
    "Hùng",
    "Dũng",
    "Tuấn",
    "Phúc",
    "Tài",
    "Lộc",
    "Hải",
    "Sơn",
    "Tâm",
    "Bình",
    "Hòa",
    "Thành",
    "Nam",
    "Long",
    "Khánh",
    "Phong",
    "Trung",
    "Nghĩa",
    "Hiếu",
    "Lâm",
    "Tùng",
    "Quang",
    "Hậu",
    "Tín",
    "Nhân",
    "Sang",
    "Út",
    "Em",
    "Bảy",
    "Tư",
    "Sáu",
    "Tám",
    "Chín",
    "Mười",
    "Hiền",
    "Thuận",
    "Lợi",
    "Thắng",
    "Vinh",
    "Danh",
    "Kiệt",
    "Hoàng",
    "Phát",
    "Đức",
    "Trí",
    "Tính",
]
GIVEN_FEMALE = [
    "Lan",
    "Hoa",
    "Mai",
    "Hồng",
    "Hạnh",
    "Thủy",
    "Hương",
    "Nga",
    "Loan",
    "Liên",
    "Cúc",
    "Đào",
    "Xuân",
    "Thu",
    "Hằng",
    "Trang",
    "Phượng",
    "Yến",
    "Ngân",
    "Nhung",
    "Tuyết",
    "Hiền",
    "Dung",
    "Út",
    "Bé",
    "Ba",
    "Năm",
    "Sương",
    "Diệu",
    "Thảo",
    "Vân",
    "Oanh",
    "Lệ",
    "Nguyệt",
    "Kiều",
    "Trinh",
    "Tươi",
    "Lài",
    "Hiệp",
    "Gấm",
]
KHMER_SURNAMES = ["Thạch", "Danh", "Sơn", "Kim", "Lý"]
KHMER_GIVEN = [
    "Sa Rây",
    "Sóc Phol",
    "Chanh Đa",
    "Sà Rươl",
    "Phon",
    "Kha",
    "Sô Phết",
    "Rết",
    "Thi",
    "Sa Ni",
]
HOA_SURNAMES = ["Lâm", "Quách", "Lý", "Tăng", "Mã", "Trương", "Hứa", "Lưu"]

MOBILE_PREFIXES = [
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "070",
    "076",
    "077",
    "078",
    "079",
    "081",
    "082",
    "083",
    "084",
    "085",
    "086",
    "088",
    "089",
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
]

ETHNIC_GROUPS = ["Kinh", "Khmer", "Hoa"]
ETHNIC_P = [0.993, 0.004, 0.003]


def _pick(rng: np.random.Generator, table: dict[str, float] | list[str], n: int) -> np.ndarray:
    if isinstance(table, dict):
        keys = list(table)
        p = np.array([table[k] for k in keys], dtype=float)
        return np.array(keys, dtype=object)[rng.choice(len(keys), n, p=p / p.sum())]
    return np.array(table, dtype=object)[rng.integers(0, len(table), n)]


def person_names(rng: np.random.Generator, male: np.ndarray, ethnic: np.ndarray) -> list[str]:
    """Full names (``Họ đệm tên``) for heads of the given sex and ethnicity."""
    n = len(male)
    surname = _pick(rng, SURNAMES, n)
    middle = np.where(male, _pick(rng, MIDDLE_MALE, n), _pick(rng, MIDDLE_FEMALE, n))
    given = np.where(male, _pick(rng, GIVEN_MALE, n), _pick(rng, GIVEN_FEMALE, n))
    khmer = ethnic == "Khmer"
    if khmer.any():
        k = int(khmer.sum())
        surname[khmer] = _pick(rng, KHMER_SURNAMES, k)
        given[khmer] = _pick(rng, KHMER_GIVEN, k)
    hoa = ethnic == "Hoa"
    if hoa.any():
        surname[hoa] = _pick(rng, HOA_SURNAMES, int(hoa.sum()))
    return [f"{s} {m} {g}" for s, m, g in zip(surname, middle, given, strict=True)]


def citizen_ids(rng: np.random.Generator, male: np.ndarray, birth_year: np.ndarray) -> list[str]:
    """12-digit IDs: ``082`` + century/sex digit + yy + 6 random digits."""
    century = (birth_year >= 2000).astype(int) * 2 + (~male).astype(int)
    yy = birth_year % 100
    serial = rng.integers(0, 1_000_000, len(male))
    return [
        f"082{c}{y:02d}{s:06d}"
        for c, y, s in zip(century.tolist(), yy.tolist(), serial.tolist(), strict=True)
    ]


def phone_number(rng: np.random.Generator) -> str:
    prefix = MOBILE_PREFIXES[int(rng.integers(0, len(MOBILE_PREFIXES)))]
    return f"{prefix}{int(rng.integers(0, 10_000_000)):07d}"
