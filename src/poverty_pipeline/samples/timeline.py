"""The sample reviews as the communes of their review date would send them.

The simulation follows the territory of each unit of the 164-unit list through the years; this
module cuts and joins those lists along the reorganisations of ``poverty_pipeline.reference.admin_units``:

- before a 2024 merger (Resolutions 1013/NQ-UBTVQH15, 1 May 2024, and 1202/NQ-UBTVQH15,
  1 Nov 2024: every merger of ``ref_commune_mergers_2024``) each commune it closed sends its own
  review: the host's hamlets are shared out, the last ones to the closed communes;
- after it, the host lists those households under their former commune's code
  (``28531-HO0012``), as a merged commune keeps them;
- from 1 Jul 2025 each new unit sends one review for all the units merged into it, every
  household keeping its former commune's code the same way (``28252-HO00007``).

District and province totals are unchanged by construction: only who reports them moves.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable

import numpy as np

from poverty_pipeline.reference import admin_units
from poverty_pipeline.samples.model import CommunePlan, YearFrame, apportion

PREFIXED = re.compile(r"^\d{5}-")


@dataclasses.dataclass
class UnitReview:
    """One review as a unit of its review date sends it."""

    code: str
    year: int
    plan: CommunePlan  # the simulated commune whose file format and style it keeps
    frame: YearFrame


def successor_2025(code: str) -> str | None:
    return next((s.successor for s in admin_units.successions()
                 if s.predecessor == code and s.effective == admin_units.REORGANISATION_2025), None)


def groups(plans: Iterable[CommunePlan], years: Iterable[int]) -> list[list[CommunePlan]]:
    """The plans a worker must simulate together: those merged into one 2025 unit, when 2025
    is generated; else one plan each."""
    plans = list(plans)
    if not any(admin_units.review_date(y) >= admin_units.REORGANISATION_2025 for y in years):
        return [[p] for p in plans]
    by_unit: dict[str, list[CommunePlan]] = {}
    for plan in plans:
        by_unit.setdefault(successor_2025(plan.code) or plan.code, []).append(plan)
    return list(by_unit.values())


def _closed_by(host: str) -> list[admin_units.Succession]:
    return [s for s in admin_units.successions()
            if s.successor == host and s.effective < admin_units.REORGANISATION_2025]


def _closed_hamlets(frame: YearFrame, plan: CommunePlan, index: int, closed: int) -> np.ndarray:
    """Rows of the hamlets that belonged to the ``index``-th of the ``closed`` communes the host
    took in: from the last hamlets backwards, a band of 1/(closed + 2) of them each (a third
    for a single one), so every closed commune and the host keep hamlets of their own."""
    numbers = np.array([int(str(a).rsplit(" ", 1)[-1]) for a in frame.columns["ap"]])
    band = max(1, plan.hamlets // (closed + 2))
    last = plan.hamlets - index * band
    return (numbers > last - band) & (numbers <= last)


def _take(frame: YearFrame, rows: np.ndarray) -> YearFrame:
    columns = {k: [v for v, keep in zip(values, rows, strict=True) if keep]
               for k, values in frame.columns.items()}
    return dataclasses.replace(frame, columns=columns, thong_tin=dict(frame.thong_tin),
                               tong_hop=copy.deepcopy(frame.tong_hop), stats=dict(frame.stats))


def _prefixed(frame: YearFrame, code: str, rows: np.ndarray | None = None) -> YearFrame:
    out = _take(frame, np.ones(len(frame.columns["ma_ho"]), dtype=bool))
    out.columns["ma_ho"] = [
        h if PREFIXED.match(h) or (rows is not None and not rows[i]) else f"{code}-{h}"
        for i, h in enumerate(out.columns["ma_ho"])
    ]
    return out


def _totals(parts: list[YearFrame], weights: list[int] | None = None) -> list[dict]:
    """The summary rows (tong_hop) of ``parts``: counts from their lists, totals summed."""
    areas: dict[str, dict] = {}
    for frame in parts:
        for row in frame.tong_hop:
            area = areas.setdefault(row["khu_vuc"], {"khu_vuc": row["khu_vuc"], "tong_so_ho": 0,
                                                     "tong_so_nhan_khau": 0})
            area["tong_so_ho"] += row["tong_so_ho"]
            area["tong_so_nhan_khau"] += row["tong_so_nhan_khau"]
    for area in areas.values():
        classes = [c for frame in parts
                   for c, a in zip(frame.columns["phan_loai_cua_xa"], frame.columns["khu_vuc"], strict=True)
                   if a == area["khu_vuc"]]
        poor, near = classes.count("ngheo"), classes.count("can_ngheo")
        households = max(area["tong_so_ho"], 1)
        area.update(so_ho_ngheo=poor, ty_le_ho_ngheo=round(100 * poor / households, 2),
                    so_ho_can_ngheo=near, ty_le_ho_can_ngheo=round(100 * near / households, 2))
    keys = ["khu_vuc", "tong_so_ho", "tong_so_nhan_khau", "so_ho_ngheo", "ty_le_ho_ngheo",
            "so_ho_can_ngheo", "ty_le_ho_can_ngheo"]
    return [{k: a[k] for k in keys} for a in areas.values()]


def _stats(frame: YearFrame, residents: int, qd59_poor: int) -> dict[str, int]:
    classes = frame.columns["phan_loai_cua_xa"]
    return {"residents": residents, "reviewed": len(classes), "poor": classes.count("ngheo"),
            "near_poor": classes.count("can_ngheo"), "qd59_poor": qd59_poor}


def _pieces(frame: YearFrame, plan: CommunePlan,
            closed: list[admin_units.Succession]) -> list[tuple[str, np.ndarray]]:
    """The host's rows and each closed commune's rows (by hamlet, the same every year)."""
    rest = np.ones(len(frame.columns["ma_ho"]), dtype=bool)
    pieces: list[tuple[str, np.ndarray]] = []
    for i, step in enumerate(closed):
        rows = _closed_hamlets(frame, plan, i, len(closed)) & rest
        rest &= ~rows
        pieces.append((step.predecessor, rows))
    return [(plan.code, rest), *pieces]


def _split(plan: CommunePlan, frame: YearFrame, closed: list[admin_units.Succession]) -> list[UnitReview]:
    """The host's territory before its 2024 merger: the host and each commune it took in."""
    out = []
    pieces = _pieces(frame, plan, closed)
    shares = np.array([max(int(rows.sum()), 1) for _, rows in pieces])
    [row] = frame.tong_hop
    households = apportion(row["tong_so_ho"], shares)
    persons = apportion(row["tong_so_nhan_khau"], shares)
    qd59 = apportion(frame.stats["qd59_poor"], shares)
    for k, (code, rows) in enumerate(pieces):
        part = _take(frame, rows)
        part.tong_hop = [{**row, "tong_so_ho": int(households[k]), "tong_so_nhan_khau": int(persons[k])}]
        part.tong_hop = _totals([part])
        part.thong_tin["ma_xa"] = code
        part.stats = _stats(part, int(households[k]), int(qd59[k]))
        out.append(UnitReview(code, frame.year, plan, part))
    return out


def _merged(code: str, year: int, members: list[tuple[CommunePlan, YearFrame]]) -> UnitReview:
    host = next((plan for plan, _ in members if plan.code == code), members[0][0])
    host_frame = next(frame for plan, frame in members if plan is host)
    # the host's own households keep their codes: only those of the communes it took in name
    # their former commune (a file may not prefix its own unit's code)
    parts = [frame if plan is host else _prefixed(frame, plan.code) for plan, frame in members]
    columns = {k: [v for part in parts for v in part.columns[k]] for k in host_frame.columns}
    frame = dataclasses.replace(host_frame, columns=columns, tong_hop=_totals(parts),
                                thong_tin={**host_frame.thong_tin, "ma_xa": code})
    frame.stats = _stats(frame, sum(r["tong_so_ho"] for r in frame.tong_hop),
                         sum(part.stats["qd59_poor"] for part in parts))
    return UnitReview(code, year, host, frame)


def as_submitted(simulated: list[tuple[CommunePlan, list[YearFrame]]]) -> list[UnitReview]:
    """The reviews of a group of simulated communes, on the units of each review date."""
    out: list[UnitReview] = []
    merged: dict[tuple[str, int], list[tuple[CommunePlan, YearFrame]]] = {}
    for plan, frames in simulated:
        for frame in frames:
            day = admin_units.review_date(frame.year)
            if day >= admin_units.REORGANISATION_2025:
                unit = successor_2025(plan.code) or plan.code
                merged.setdefault((unit, frame.year), []).append((plan, frame))
                continue
            closed = _closed_by(plan.code)
            if any(day < s.effective for s in closed):
                out += _split(plan, frame, closed)
                continue
            # after the merger the host lists the closed communes' households under their codes
            for code, rows in _pieces(frame, plan, closed)[1:]:
                frame = _prefixed(frame, code, rows)
            out.append(UnitReview(plan.code, frame.year, plan, frame))
    for (code, year), members in merged.items():
        out.append(_merged(code, year, members))
    return sorted(out, key=lambda r: (r.year, r.code))
