"""Sample commune submissions for every commune of Tiền Giang, review years 2021–2025, on the
administrative units of each review date (``timeline``: 165 known units until the 2024
mergers, 164 after, 57 from 1 Jul 2025).

Deterministic from ``seed``: the same arguments give the same data and byte-identical files.
Calibrated to the published end-2021 review (province and district totals exact at
``scale=1``) and to the province's poor / near-poor rates of later years (``calibration.yml``).

- :func:`build_submissions` — the submissions in memory (no I/O): the three parts as dicts.
- :func:`render` / :func:`to_xlsx_bytes` / :func:`to_json_bytes` — one submission → file bytes.
- :func:`generate_submissions` — everything written to ``<landing>/communes/<year>/``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import current_process, get_context

from poverty_pipeline.samples import timeline
from poverty_pipeline.samples.model import (
    CommunePlan,
    header_style,
    province_plan,
    simulate_commune,
    supported_years,
)
from poverty_pipeline.samples.writers import to_json_bytes, to_xlsx_bytes

__all__ = [
    "GenerationSummary",
    "Submission",
    "build_submissions",
    "commune_submissions",
    "generate_submissions",
    "render",
    "to_json_bytes",
    "to_xlsx_bytes",
]

DEFAULT_YEARS = range(2021, 2026)


@dataclass
class Submission:
    """One commune's periodic review of one year, as the commune would send it."""

    commune_code: str
    year: int
    fmt: str  # "xlsx" or "json"
    headers: str  # "code" or "label" (xlsx header style)
    parts: dict  # {"thong_tin": {...}, "tong_hop": [...], "danh_sach_ho": [...]}
    stats: dict  # residents, reviewed, poor, near_poor, qd59_poor (generator-side)

    @property
    def filename(self) -> str:
        return f"{self.commune_code}_{self.year}_dinh_ky.{self.fmt}"

    @property
    def relative_path(self) -> str:
        return f"communes/{self.year}/{self.filename}"


@dataclass
class GenerationSummary:
    landing: str
    seed: int
    scale: float
    files_written: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    files_by_year: dict[int, dict[str, int]] = field(default_factory=dict)  # year → fmt → n
    households: dict[int, int] = field(default_factory=dict)  # resident households
    reviewed_households: dict[int, int] = field(default_factory=dict)
    poor: dict[int, int] = field(default_factory=dict)
    near_poor: dict[int, int] = field(default_factory=dict)
    qd59_poor: dict[int, int] = field(default_factory=dict)

    def add(self, sub: Submission, size: int) -> None:
        y = sub.year
        self.files_written += 1
        self.bytes_written += size
        self.files_by_year.setdefault(y, {"xlsx": 0, "json": 0})[sub.fmt] += 1
        for name, key in (
            ("households", "residents"),
            ("reviewed_households", "reviewed"),
            ("poor", "poor"),
            ("near_poor", "near_poor"),
            ("qd59_poor", "qd59_poor"),
        ):
            counts = getattr(self, name)
            counts[y] = counts.get(y, 0) + sub.stats[key]

    @property
    def files(self) -> int:
        """Files written (same as ``files_written``)."""
        return self.files_written

    def _rate(self, counts: dict[int, int]) -> dict[int, float]:
        return {y: round(100 * counts[y] / self.households[y], 3) for y in sorted(counts)}

    @property
    def poor_rate(self) -> dict[int, float]:
        """ND07 poor households / resident households, percent, per review year."""
        return self._rate(self.poor)

    @property
    def near_poor_rate(self) -> dict[int, float]:
        return self._rate(self.near_poor)

    @property
    def qd59_poor_rate(self) -> dict[int, float]:
        """QĐ59 poor rate from the generator's full flags (what an exact recompute would give)."""
        return self._rate(self.qd59_poor)

    def to_dict(self) -> dict:
        """JSON-friendly (e.g. an Airflow XCom), rates included."""
        out = dataclasses.asdict(self)
        out.update(
            poor_rate=self.poor_rate,
            near_poor_rate=self.near_poor_rate,
            qd59_poor_rate=self.qd59_poor_rate,
        )
        return out

    def __str__(self) -> str:
        lines = [
            f"{self.files_written} files, {self.bytes_written / 1e6:.1f} MB → {self.landing} "
            f"in {self.seconds:.1f} s (seed {self.seed}, scale {self.scale})",
            "year  files(xlsx/json)  households  reviewed  poor%   near-poor%  qd59-poor%",
        ]
        pr, nr, qr = self.poor_rate, self.near_poor_rate, self.qd59_poor_rate
        for y in sorted(self.households):
            f = self.files_by_year.get(y, {})
            lines.append(
                f"{y}  {f.get('xlsx', 0):>5}/{f.get('json', 0):<5}      {self.households[y]:>9}"
                f"  {self.reviewed_households[y]:>8}  {pr[y]:.3f}   {nr[y]:.3f}       {qr[y]:.3f}"
            )
        return "\n".join(lines)


def _check_years(years: Iterable[int]) -> tuple[int, ...]:
    years = tuple(sorted({int(y) for y in years}))
    bad = [y for y in years if y not in supported_years()]
    if bad:
        raise ValueError(f"no calibration for review years {bad}; supported: {supported_years()}")
    return years


def _select(plans: dict[str, CommunePlan], communes: Iterable[str] | None) -> list[CommunePlan]:
    if communes is None:
        return list(plans.values())
    codes = [str(c) for c in communes]
    unknown = sorted(set(codes) - set(plans))
    if unknown:
        raise ValueError(f"not communes of the province: {unknown}")
    return [plans[c] for c in sorted(set(codes))]


def commune_submissions(plans: CommunePlan | list[CommunePlan], seed: int,
                        years: Iterable[int]) -> list[Submission]:
    """The submissions for ``years`` of a commune, or of the communes merged into one 2025
    unit (see ``timeline.groups``), as the units of each review date send them (each panel is
    simulated from the first year)."""
    wanted = set(years)
    plans = [plans] if isinstance(plans, CommunePlan) else plans
    simulated = [(plan, [f for f in simulate_commune(plan, seed) if f.year in wanted]) for plan in plans]
    return [
        Submission(
            commune_code=review.code,
            year=review.year,
            fmt=review.plan.fmt,
            headers=header_style(review.code, review.year) if review.plan.fmt == "xlsx" else "code",
            parts={
                "thong_tin": review.frame.thong_tin,
                "tong_hop": review.frame.tong_hop,
                "danh_sach_ho": review.frame.rows(),
            },
            stats=review.frame.stats,
        )
        for review in timeline.as_submitted(simulated)
    ]


def build_submissions(
    years: Iterable[int] = DEFAULT_YEARS,
    seed: int = 2021,
    scale: float = 1.0,
    communes: Iterable[str] | None = None,
) -> Iterator[Submission]:
    """The submissions in memory, commune by commune (pure: no I/O, deterministic)."""
    years = _check_years(years)
    for group in timeline.groups(_select(province_plan(seed, float(scale)), communes), years):
        yield from commune_submissions(group, seed, years)


def render(sub: Submission) -> bytes:
    """The file content of a submission, in its format."""
    if sub.fmt == "json":
        return to_json_bytes(sub.parts)
    return to_xlsx_bytes(sub.parts, headers=sub.headers)


def _render_commune(plans: list[CommunePlan], seed: int, years: tuple[int, ...]):
    """Worker: the files of a group of communes as (submission without its list, bytes)."""
    out = []
    for sub in commune_submissions(plans, seed, years):
        data = render(sub)
        sub.parts = {}  # the bytes are what travels back
        out.append((sub, data))
    return out


def _landing_path(landing):
    from airflow.sdk import ObjectStoragePath

    if isinstance(landing, ObjectStoragePath):
        return landing
    return ObjectStoragePath(os.fspath(landing) if isinstance(landing, os.PathLike) else landing)


def generate_submissions(
    landing,
    years: Iterable[int] = DEFAULT_YEARS,
    seed: int = 2021,
    scale: float = 1.0,
    communes: Iterable[str] | None = None,
    workers: int | None = None,
) -> GenerationSummary:
    """Write the submissions to ``<landing>/communes/<year>/<code>_<year>_dinh_ky.<xlsx|json>``.

    ``landing`` is a local path or any URL ``airflow.sdk.ObjectStoragePath`` understands.
    Communes are rendered in a process pool of ``workers`` (default: the CPU count; ``1`` =
    in this process) while this process writes the files.
    """
    start = time.perf_counter()
    years = _check_years(years)
    plans = timeline.groups(_select(province_plan(seed, float(scale)), communes), years)
    plans.sort(key=lambda group: -sum(p.reviewed for p in group))  # largest first: better balance
    workers = min(os.cpu_count() or 1, len(plans)) if workers is None else workers
    if current_process().daemon:  # e.g. a Celery worker's child: no grandchildren allowed
        workers = 1
    summary = GenerationSummary(landing=str(landing), seed=seed, scale=float(scale))

    if workers <= 1 or len(plans) <= 1:
        root = _landing_path(landing)
        results = (_render_commune(p, seed, years) for p in plans)
        _write_all(root, results, summary)
    else:
        ctx = get_context("spawn")  # safe inside Airflow workers and threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_render_commune, p, seed, years) for p in plans]
            root = _landing_path(landing)  # the slow airflow import overlaps the rendering
            _write_all(root, (f.result() for f in as_completed(futures)), summary)
    summary.seconds = round(time.perf_counter() - start, 2)
    return summary


def _write_all(root, results, summary: GenerationSummary) -> None:
    # Object stores (s3://…) have no folders; a local file system needs them.
    local = root.protocol in ("", "file", "local")
    made: set[int] = set()
    for commune_files in results:
        for sub, data in commune_files:
            folder = root / "communes" / str(sub.year)
            if local and sub.year not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(sub.year)
            (folder / sub.filename).write_bytes(data)
            summary.add(sub, len(data))
    for name in (
        "files_by_year",
        "households",
        "reviewed_households",
        "poor",
        "near_poor",
        "qd59_poor",
    ):
        setattr(summary, name, dict(sorted(getattr(summary, name).items())))
