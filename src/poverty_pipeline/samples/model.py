"""The generator's model: commune plans calibrated to the province, and a household panel.

Two levels, both deterministic from the seed:

1. :func:`province_plan` splits the published end-2021 district totals over the communes (uneven
   weights, exact district totals), grows them about 1 % a year and apportions the province's
   poor / near-poor counts of every review year over the communes (district factors × commune
   factors, largest-remainder rounding, so the province hits its figures exactly).
2. :func:`simulate_commune` follows the commune's *reviewed* households (all poor and near-poor
   plus borderline ones) through the review years. Each household has a latent welfare and a
   latent deprivation, each a fixed effect plus an AR(1) shock; every year the commune's quota
   of income-poor households is the lowest welfare ranks, of which the most deprived are poor
   (ND07: income under the line and at least 3 deprivations) and the rest near-poor. Incomes,
   scores and the deprivation flags are then drawn consistent with that class, so flows between
   reviews (escapes, new poverty, near-poor → poor, re-poverty) come out of the latent dynamics.

The figures (published and assumed) live in ``calibration.yml``, not here.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from poverty_pipeline.samples import names

PROVINCE_CODE = "82"
STANDARD = "ND07_2022_2025"
REVIEW_TYPE = "dinh_ky"

# ND07 income lines (VND / person / month) and the matching score A on the review form.
ND07_LINE = {"nong_thon": 1_500_000, "thanh_thi": 2_000_000}
ND07_SCORE_A = {"nong_thon": 140, "thanh_thi": 175}
# QĐ59: (income-only poor line, upper line where ≥ 3 deprivations make a household poor).
QD59_LINES = {"nong_thon": (700_000, 1_000_000), "thanh_thi": (900_000, 1_300_000)}

ND07_FLAGS = (
    "td_viec_lam",
    "td_phu_thuoc",
    "td_dinh_duong",
    "td_bhyt",
    "td_trinh_do_nguoi_lon",
    "td_di_hoc_tre_em",
    "td_chat_luong_nha",
    "td_dien_tich_nha",
    "td_nuoc_sinh_hoat",
    "td_nha_tieu",
    "td_vien_thong",
    "td_thiet_bi_thong_tin",
)
# QĐ59's 10 indicators: five shared with ND07 (same column) and five of its own.
QD59_SHARED = (
    "td_bhyt",
    "td_chat_luong_nha",
    "td_dien_tich_nha",
    "td_nuoc_sinh_hoat",
    "td_nha_tieu",
)
QD59_OWN = (
    "td59_tiep_can_y_te",
    "td59_trinh_do_nguoi_lon",
    "td59_di_hoc_tre_em",
    "td59_vien_thong",
    "td59_tai_san_thong_tin",
)
ND351_OWN = ("td351_dich_vu_so", "td351_xu_ly_rac")
SUPPORT_FLAGS = ("co_nguoi_co_cong", "co_doi_tuong_btxh", "khong_co_kha_nang_lao_dong")

CLASS_CODES = ("khong", "can_ngheo", "ngheo")  # index = class: 0 non-poor, 1 near-poor, 2 poor

# Relative propensity of each ND07 deprivation among reviewed households (log-odds-like shift).
_FLAG_PREVALENCE = np.array([0.7, 0.3, -0.6, 0.4, 0.8, -0.4, 0.3, -0.5, 0.2, 0.5, 0.1, -0.3])
_I = {code: i for i, code in enumerate(ND07_FLAGS)}

CAUSES = (
    "thieu_dat",
    "thieu_von",
    "thieu_lao_dong",
    "thieu_cong_cu",
    "thieu_kien_thuc",
    "thieu_ky_nang",
    "om_dau",
    "khac",
)
_CAUSE_P = np.array([0.25, 0.45, 0.15, 0.08, 0.15, 0.20, 0.18, 0.04])
NEEDS = (
    "von_vay",
    "dat_san_xuat",
    "dao_tao_nghe",
    "viec_lam",
    "nha_o",
    "nuoc_ve_sinh",
    "bhyt",
    "giao_duc",
    "thong_tin",
    "khac",
)
_NEED_P = np.array([0.50, 0.08, 0.12, 0.15, 0.10, 0.05, 0.10, 0.05, 0.03, 0.03])


def _code_lists(codes: tuple[str, ...]) -> np.ndarray:
    """Bit mask → ``;``-joined codes, in the contract's order."""
    return np.array(
        [";".join(c for i, c in enumerate(codes) if m >> i & 1) for m in range(1 << len(codes))],
        dtype=object,
    )


_CAUSE_STRINGS = _code_lists(CAUSES)
_NEED_STRINGS = _code_lists(NEEDS)


@cache
def calibration() -> dict:
    path = Path(__file__).with_name("calibration.yml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def supported_years() -> tuple[int, ...]:
    return tuple(sorted(int(y) for y in calibration()["province_rates"]))


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def file_format(commune_code: str) -> str:
    """``xlsx`` or ``json``: about half the communes each, fixed by the commune code."""
    return "json" if _crc(commune_code) % 2 else "xlsx"


def header_style(commune_code: str, year: int) -> str:
    """``code`` or ``label`` headers for a workbook: about half each, fixed per commune-year."""
    return "label" if _crc(f"{commune_code}/{year}") >> 3 & 1 else "code"


@dataclass(frozen=True)
class CommunePlan:
    """One commune's calibrated targets for every supported review year."""

    code: str
    name: str
    unit_type: str
    district_code: str
    area: str  # thanh_thi (phường, thị trấn) or nong_thon (xã)
    years: tuple[int, ...]
    residents: tuple[int, ...]
    persons: tuple[int, ...]
    poor: tuple[int, ...]
    near_poor: tuple[int, ...]
    reviewed: int  # households on the first review's list
    td59_collected: tuple[bool, ...]
    hamlets: int
    fmt: str


@cache
def province_plan(seed: int = 2021, scale: float = 1.0) -> dict[str, CommunePlan]:
    """Plans of all the province's communes (independent of which ones are generated)."""
    from poverty_pipeline.reference.admin_units import communes

    cal = calibration()
    pub = cal["published"]["review_2021"]
    model = cal["model"]
    years = supported_years()
    first = years[0]
    if first != int(pub["year"]):
        raise ValueError("calibration: the first supported year must be the published review")

    refs = sorted(communes(), key=lambda r: r["commune_code"])
    n = len(refs)
    rng = np.random.default_rng([seed, int(PROVINCE_CODE), 0])
    district = np.array([r["district_code"] for r in refs])
    urban = np.array([r["unit_type"] != "xa" for r in refs])

    # Resident households: each district's published total split unevenly over its communes.
    weight = np.exp(rng.normal(0.0, model["commune_size_spread"], n))
    weight *= np.where(urban, model["urban_size_factor"], 1.0)
    res0 = np.zeros(n, dtype=np.int64)
    for d, total in pub["households_by_district"].items():
        m = district == str(d)
        if not m.any():
            raise ValueError(f"calibration: district {d} has no commune in the reference list")
        res0[m] = apportion(round(total * scale), weight[m])
    res0 = np.maximum(res0, 1)
    growth = rng.uniform(*model["household_growth"], n)
    pph = rng.uniform(*model["persons_per_household"], n)
    k = np.arange(len(years))
    residents = np.rint(res0[:, None] * (1 + growth[:, None]) ** k).astype(np.int64)
    residents[:, 0] = res0
    pph_t = pph[:, None] * (1 + model["persons_per_household_drift"]) ** k
    persons = np.maximum(np.rint(residents * pph_t).astype(np.int64), residents)

    # Poverty factors: district × urban × commune (persistent) × yearly deviation.
    factors = cal["district_factors"]
    fd_p = np.array([factors[d]["poor"] for d in district])
    fd_n = np.array([factors[d]["near_poor"] for d in district])
    spread = model["commune_spread"]
    zp = rng.normal(size=n)
    zn = 0.6 * zp + 0.8 * rng.normal(size=n)
    dev_p = np.cumsum(rng.normal(0.0, model["year_spread"], (n, len(years))), axis=1)
    dev_n = np.cumsum(rng.normal(0.0, model["year_spread"], (n, len(years))), axis=1)
    uf = model["urban_factor"]
    poor = np.zeros((n, len(years)), dtype=np.int64)
    near = np.zeros((n, len(years)), dtype=np.int64)
    for j, year in enumerate(years):
        shrink = (1 - model["convergence"]) ** j
        wp = fd_p**shrink * np.where(urban, uf, 1.0) * np.exp(spread * zp + dev_p[:, j])
        wn = fd_n**shrink * np.where(urban, uf**0.6, 1.0) * np.exp(0.8 * spread * zn + dev_n[:, j])
        total_res = residents[:, j].sum()
        rates = cal["province_rates"][year]
        if year == first:
            tp, tn = round(pub["poor"] * scale), round(pub["near_poor"] * scale)
        else:
            tp = round(rates["poor"] / 100 * total_res)
            tn = round(rates["near_poor"] / 100 * total_res)
        poor[:, j] = apportion(tp, wp * residents[:, j])
        near[:, j] = apportion(tn, wn * residents[:, j])
    # A tiny commune (small scale) cannot have more listed households than residents.
    poor = np.minimum(poor, residents)
    near = np.minimum(near, residents - poor)

    reviewed = poor[:, 0] + near[:, 0] + np.rint(res0 * model["borderline_share"]).astype(int)
    collects = rng.random(n) < model["td59_collectors_after_2021"]
    hamlets = np.where(urban, rng.integers(3, 11, n), rng.integers(4, 13, n))

    plans = {}
    for i, r in enumerate(refs):
        plans[r["commune_code"]] = CommunePlan(
            code=r["commune_code"],
            name=r["commune_name"],
            unit_type=r["unit_type"],
            district_code=r["district_code"],
            area="thanh_thi" if urban[i] else "nong_thon",
            years=years,
            residents=tuple(residents[i].tolist()),
            persons=tuple(persons[i].tolist()),
            poor=tuple(poor[i].tolist()),
            near_poor=tuple(near[i].tolist()),
            reviewed=int(reviewed[i]),
            td59_collected=tuple(y == first or bool(collects[i]) for y in years),
            hamlets=int(hamlets[i]),
            fmt=file_format(r["commune_code"]),
        )
    return plans


@dataclass
class YearFrame:
    """One commune's review in one year: the three parts, with the list as columns."""

    year: int
    thong_tin: dict
    tong_hop: list[dict]
    columns: dict[str, list]  # danh_sach_ho, field code → values (contract order)
    stats: dict[str, int]

    def rows(self) -> list[dict]:
        codes = list(self.columns)
        return [
            dict(zip(codes, values, strict=True))
            for values in zip(*self.columns.values(), strict=True)
        ]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_SIZE_SMALL = np.cumsum([0.20, 0.27, 0.20, 0.15, 0.09, 0.05, 0.03, 0.01])
_SIZE_REGULAR = np.cumsum([0.06, 0.13, 0.22, 0.28, 0.16, 0.08, 0.05, 0.02])
_SIZE_SPLIT = np.cumsum([0.15, 0.35, 0.30, 0.20])


class _Panel:
    """The commune's reviewed households, as growing column arrays (index = ``ma_ho`` − 1)."""

    def __init__(self, plan: CommunePlan, rng: np.random.Generator, model: dict):
        self.plan, self.rng = plan, rng
        self.sa = math.sqrt(model["welfare_fixed_var"])
        self.se = math.sqrt(1 - model["welfare_fixed_var"])
        self.sb = math.sqrt(model["deprivation_fixed_var"])
        self.sf = math.sqrt(1 - model["deprivation_fixed_var"])
        self.corr = model["welfare_deprivation_corr"]
        self.hamlet_p = rng.gamma(4.0, size=plan.hamlets)
        self.hamlet_p /= self.hamlet_p.sum()
        self.cols: dict[str, np.ndarray] = {}
        self.names: list[str] = []
        self.ids: list[str] = []

    def add(self, k: int, year: int, split: bool) -> None:
        rng = self.rng
        alpha = rng.normal(-0.2 if split else 0.0, self.sa, k)
        az = alpha / self.sa
        beta = self.sb * (self.corr * az + math.sqrt(1 - self.corr**2) * rng.normal(size=k))
        hamlet = rng.choice(self.plan.hamlets, k, p=self.hamlet_p)
        if not split:
            hamlet = np.sort(hamlet)  # the first list is numbered hamlet by hamlet
        low = _sigmoid(-1.5 * az - 1.0)  # persistent low-welfare propensity (elderly, sick)
        small = rng.random(k) < _sigmoid(-1.2 * az - 0.3)
        if split:
            age = rng.integers(22, 41, k)
            size = 1 + np.searchsorted(_SIZE_SPLIT, rng.random(k) * _SIZE_SPLIT[-1])
        else:
            age = np.clip(np.rint(52 - 5 * az + 12 * rng.normal(size=k)), 22, 92).astype(int)
            cum = np.where(small[:, None], _SIZE_SMALL, _SIZE_REGULAR)
            size = 1 + (rng.random(k)[:, None] * cum[:, -1:] > cum).sum(axis=1)
        male = rng.random(k) < np.where(small, 0.55, 0.72)
        birth = year - age
        ethnic = np.array(names.ETHNIC_GROUPS, dtype=object)[rng.choice(3, k, p=names.ETHNIC_P)]
        uflag = rng.random((k, 3))
        new = {
            "alpha": alpha,
            "beta": beta,
            "e": rng.normal(0.0, self.se, k),
            "f": rng.normal(0.0, self.sf, k),
            "hamlet": hamlet,
            "male": male,
            "birth": birth,
            "ethnic": ethnic,
            "size": size.astype(np.int64),
            "score": rng.normal(size=(k, len(ND07_FLAGS))),
            "u59": rng.random((k, len(QD59_OWN))),
            "u351": rng.random((k, len(ND351_OWN))),
            "ucause": rng.random((k, len(CAUSES))),
            "uneed": rng.random((k, len(NEEDS))),
            "co_nguoi_co_cong": uflag[:, 0] < 0.025 + 0.03 * low,
            "co_doi_tuong_btxh": uflag[:, 1] < 0.05 + 0.35 * low,
            "khong_co_kha_nang_lao_dong": uflag[:, 2] < 0.02 + 0.22 * low * (age >= 55),
            "active": np.ones(k, dtype=bool),
            "entry": np.full(k, year),
            "prev": np.zeros(k, dtype=np.int64),
            "ever_poor": np.zeros(k, dtype=bool),
        }
        if self.cols:
            self.cols = {c: np.concatenate([self.cols[c], v]) for c, v in new.items()}
        else:
            self.cols = new
        self.names += names.person_names(rng, male, ethnic)
        self.ids += names.citizen_ids(rng, male, birth)


def simulate_commune(plan: CommunePlan, seed: int) -> list[YearFrame]:
    """Every supported review year of one commune (the panel needs the years in order)."""
    model = calibration()["model"]
    meta = np.random.default_rng([seed, int(plan.code), 1])
    rng = np.random.default_rng([seed, int(plan.code), 2])

    # The preparer of the list: one official, replaced in some year.
    preparers = names.person_names(meta, meta.random(2) < 0.5, np.array(["Kinh", "Kinh"]))
    phones = [names.phone_number(meta), names.phone_number(meta)]
    handover = int(meta.integers(plan.years[0] + 1, plan.years[-1] + 3))
    days = meta.integers(1, 11, len(plan.years))

    panel = _Panel(plan, rng, model)
    panel.add(plan.reviewed, plan.years[0], split=False)
    rho_e, rho_f = model["welfare_rho"], model["deprivation_rho"]
    border = plan.reviewed - plan.poor[0] - plan.near_poor[0]
    frames = []
    for j, year in enumerate(plan.years):
        c = panel.cols
        if j:
            n_all = len(c["alpha"])
            c["e"] = rho_e * c["e"] + math.sqrt(1 - rho_e**2) * panel.se * rng.normal(size=n_all)
            c["f"] = rho_f * c["f"] + math.sqrt(1 - rho_f**2) * panel.sf * rng.normal(size=n_all)
            step = rng.random(n_all)
            c["size"] = np.clip(c["size"] + (step < 0.025) - (step > 0.975), 1, 8)
            c["active"] &= rng.random(n_all) >= model["leave_rate"]
            target = max(
                round(plan.reviewed * plan.residents[j] / plan.residents[0]),
                plan.poor[j] + plan.near_poor[j] + border // 2,
            )
            joiners = target - int(c["active"].sum())
            if joiners > 0:
                panel.add(joiners, year, split=True)
                c = panel.cols
        frames.append(_review(plan, panel, j, year, model, rng))
        frame = frames[-1]
        frame.thong_tin = {
            "ma_tinh": PROVINCE_CODE,
            "ma_xa": plan.code,
            "nam_ra_soat": year,
            "loai_ra_soat": REVIEW_TYPE,
            "thang": None,
            "chuan_ngheo": STANDARD,
            "nguoi_lap": preparers[int(year >= handover)],
            "dien_thoai": phones[int(year >= handover)],
            "ngay_lap": f"{year}-12-{int(days[j]):02d}",
        }
    return frames


def _review(
    plan: CommunePlan, panel: _Panel, j: int, year: int, model: dict, rng: np.random.Generator
) -> YearFrame:
    c = panel.cols
    idx = np.flatnonzero(c["active"])
    n = len(idx)
    alpha, beta = c["alpha"][idx], c["beta"][idx]
    u = alpha + c["e"][idx]  # welfare: low = poor
    v = beta + c["f"][idx]  # deprivation: high = deprived

    # Class: the quota of lowest-welfare households is income-poor; the most deprived are poor.
    m = min(plan.poor[j] + plan.near_poor[j], n)
    n_poor = min(plan.poor[j], m)
    order = np.argsort(u, kind="stable")
    income_poor = order[:m]
    by_v = income_poor[np.argsort(-v[income_poor], kind="stable")]
    cls = np.zeros(n, dtype=np.int64)
    cls[by_v[n_poor:]] = 1
    cls[by_v[:n_poor]] = 2

    # ND07 deprivation count consistent with the class.
    d = np.clip(np.rint(1.3 + 1.5 * v + 0.7 * rng.normal(size=n)), 0, 8).astype(np.int64)
    d = np.where(cls == 2, np.maximum(d, 3), np.where(cls == 1, np.minimum(d, 2), np.minimum(d, 6)))
    size = c["size"][idx]
    nolab = c["khong_co_kha_nang_lao_dong"][idx]
    score = c["score"][idx] + _FLAG_PREVALENCE + 0.5 * rng.normal(size=(n, len(ND07_FLAGS)))
    few = size <= 2
    score[few, _I["td_dinh_duong"]] -= 2.5
    score[few, _I["td_di_hoc_tre_em"]] -= 2.0
    score[nolab, _I["td_phu_thuoc"]] += 1.5
    rank = np.argsort(np.argsort(-score, axis=1, kind="stable"), axis=1, kind="stable")
    flags = rank < d[:, None]

    # Income: the income-poor spread under the line by welfare rank, the others above it.
    line = ND07_LINE[plan.area]
    income = np.empty(n)
    floor = model["income_floor"][year]
    q = (np.arange(m) + 0.5) / max(m, 1)
    income[income_poor] = (
        line * (floor + (1 - floor) * q ** model["income_shape"]) * (1 - 0.06 * rng.random(m))
    )
    rest = order[m:]
    q = (np.arange(n - m) + 0.5) / max(n - m, 1)
    a, b, e = model["borderline_income"]
    income[rest] = (
        line
        * (a + b * q**e)
        * (1 + model["borderline_income_growth"]) ** j
        * (1 + 0.05 * rng.random(n - m))
    )
    income[income_poor] = np.floor(income[income_poor] / 1000)
    income[rest] = np.ceil(income[rest] / 1000)
    income = income.astype(np.int64) * 1000
    diem_a = np.rint(income * ND07_SCORE_A[plan.area] / line).astype(np.int64)

    # QĐ59-only and ND351-only flags, derived from the ND07 flags and persistent draws.
    u59, u351 = c["u59"][idx], c["u351"][idx]
    f = {code: flags[:, i] for i, code in enumerate(ND07_FLAGS)}
    f["td59_tiep_can_y_te"] = u59[:, 0] < 0.03 + 0.05 * cls
    f["td59_trinh_do_nguoi_lon"] = np.where(
        u59[:, 1] < 0.85, f["td_trinh_do_nguoi_lon"], u59[:, 1] > 0.97
    )
    f["td59_di_hoc_tre_em"] = f["td_di_hoc_tre_em"] & (u59[:, 2] < 0.75)
    f["td59_vien_thong"] = f["td_vien_thong"] & (u59[:, 3] < 0.5)
    f["td59_tai_san_thong_tin"] = f["td_thiet_bi_thong_tin"] & (u59[:, 4] < 0.6)
    f["td351_dich_vu_so"] = u351[:, 0] < (0.30 + 0.5 * f["td_vien_thong"] + 0.05 * cls - 0.04 * j)
    rural = plan.area == "nong_thon"
    f["td351_xu_ly_rac"] = u351[:, 1] < (0.30 if rural else 0.05) + 0.05 * cls - 0.03 * j

    lo59, hi59 = QD59_LINES[plan.area]
    d59 = sum(f[k].astype(int) for k in QD59_SHARED + QD59_OWN)
    qd59_poor = (income <= lo59) | ((income <= hi59) & (d59 >= 3))

    # Causes and support wished, for listed households only.
    listed = cls > 0
    p = np.broadcast_to(_CAUSE_P, (n, len(CAUSES))).copy()
    p[:, 2] += 0.6 * nolab
    p[:, 6] += 0.3 * c["co_doi_tuong_btxh"][idx]
    causes = _pick_codes(c["ucause"][idx], p, _CAUSE_STRINGS)
    p = np.broadcast_to(_NEED_P, (n, len(NEEDS))).copy()
    p[:, 3] += 0.3 * f["td_viec_lam"]
    p[:, 4] += 0.5 * f["td_chat_luong_nha"]
    p[:, 5] += 0.3 * (f["td_nuoc_sinh_hoat"] | f["td_nha_tieu"])
    p[:, 6] += 0.5 * f["td_bhyt"]
    p[:, 7] += 0.4 * f["td_di_hoc_tre_em"]
    needs = _pick_codes(c["uneed"][idx], p, _NEED_STRINGS)

    # Notes, and the flow bookkeeping for next year.
    # re-poor (tái nghèo): poor again after a year not poor, and poor in an earlier review;
    # newly poor: never poor before (a near-poor past does not count)
    prev, ever_poor = c["prev"][idx], c["ever_poor"][idx]
    note = np.full(n, None, dtype=object)
    if j:
        note[(prev == 1) & (cls == 0)] = "Thoát cận nghèo"
        note[(prev == 2) & (cls < 2)] = "Thoát nghèo"
        note[(prev == 0) & (cls == 2) & ever_poor] = "Tái nghèo"
        note[(prev == 0) & (cls == 2) & ~ever_poor] = "Phát sinh nghèo"
        note[c["entry"][idx] == year] = "Hộ mới tách hộ"
    c["prev"][:] = 0
    c["prev"][idx] = cls
    c["ever_poor"][idx] |= cls == 2

    width = max(5, len(str(len(c["alpha"]))))
    hamlet_word = "Ấp" if rural else "Khu phố"
    hamlets = [f"{hamlet_word} {h + 1}" for h in range(plan.hamlets)]
    none = [None] * n

    def flag(code: str) -> list:
        return f[code].astype(np.int64).tolist()

    columns: dict[str, list] = {
        "ma_ho": [f"HO{i + 1:0{width}d}" for i in idx.tolist()],
        "ap": [hamlets[h] for h in c["hamlet"][idx].tolist()],
        "khu_vuc": [plan.area] * n,
        "ho_ten_chu_ho": [panel.names[i] for i in idx.tolist()],
        "so_dinh_danh_chu_ho": [panel.ids[i] for i in idx.tolist()],
        "gioi_tinh_chu_ho": np.where(c["male"][idx], "nam", "nu").tolist(),
        "nam_sinh_chu_ho": c["birth"][idx].tolist(),
        "dan_toc": c["ethnic"][idx].tolist(),
        "so_nhan_khau": size.tolist(),
        "thu_nhap_binh_quan": income.tolist(),
        "diem_a": diem_a.tolist(),
        "diem_b": (10 * d).tolist(),
    }
    for code in ND07_FLAGS:
        columns[code] = flag(code)
    collected = plan.td59_collected[j]
    for code in QD59_OWN:
        columns[code] = flag(code) if collected else none
    for code in ND351_OWN:
        columns[code] = flag(code)
    for code in SUPPORT_FLAGS:
        columns[code] = c[code][idx].astype(np.int64).tolist()
    columns["nguyen_nhan_ngheo"] = np.where(listed, causes, None).tolist()
    columns["nhu_cau_ho_tro"] = np.where(listed, needs, None).tolist()
    columns["phan_loai_cua_xa"] = np.array(CLASS_CODES, dtype=object)[cls].tolist()
    columns["ghi_chu"] = note.tolist()

    residents = plan.residents[j]
    n_poor_list, n_near_list = int((cls == 2).sum()), int((cls == 1).sum())
    tong_hop = [
        {
            "khu_vuc": plan.area,
            "tong_so_ho": residents,
            "tong_so_nhan_khau": plan.persons[j],
            "so_ho_ngheo": n_poor_list,
            "ty_le_ho_ngheo": round(100 * n_poor_list / residents, 2),
            "so_ho_can_ngheo": n_near_list,
            "ty_le_ho_can_ngheo": round(100 * n_near_list / residents, 2),
        }
    ]
    stats = {
        "residents": residents,
        "reviewed": n,
        "poor": n_poor_list,
        "near_poor": n_near_list,
        "qd59_poor": int(qd59_poor.sum()),
    }
    return YearFrame(year=year, thong_tin={}, tong_hop=tong_hop, columns=columns, stats=stats)


def _pick_codes(draws: np.ndarray, p: np.ndarray, strings: np.ndarray) -> np.ndarray:
    """Codes chosen where ``draw < p`` (at least one: the likeliest), as ``;``-joined strings."""
    chosen = draws < p
    none = ~chosen.any(axis=1)
    if none.any():
        chosen[none, np.argmin(draws[none] / p[none], axis=1)] = True
    mask = chosen.astype(np.int64) @ (1 << np.arange(chosen.shape[1]))
    return strings[mask]
