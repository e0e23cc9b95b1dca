"""Find landed files that the warehouse has not recorded yet.

Files are found with Airflow's ObjectStoragePath, so the landing location can be a local
folder (file://) or object storage (s3://, gs://, ...). A file's identity is the SHA-256 of
its bytes: a file already recorded under any name is not processed again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import psycopg

from poverty_pipeline.load import already_recorded

HIDDEN_PREFIXES = (".", "_", "~$")  # dotfiles, _feedback/, Excel lock files


@dataclass(frozen=True)
class LandedFile:
    path: str  # relative to the landing root, e.g. communes/2021/28249_2021.xlsx
    submission_id: str
    size: int

    @property
    def period(self) -> str:
        parts = self.path.split("/")
        return parts[1] if len(parts) > 2 else ""

    def as_dict(self) -> dict:
        return asdict(self)


def landing_root(url: str):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(url)


def walk(root, folder: str) -> Iterator[tuple[str, object]]:
    base = root / folder
    if not base.exists():
        return
    for path in sorted(base.rglob("*"), key=str):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(HIDDEN_PREFIXES) for part in rel.split("/")):
            continue
        if path.is_file():
            yield rel, path


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_files(conn: psycopg.Connection, landing_url: str, folder: str) -> list[LandedFile]:
    """Files under ``<landing>/<folder>`` whose content is not yet in audit.submissions.

    Two paths with the same content count once (the first in path order).
    """
    root = landing_root(landing_url)
    found: dict[str, LandedFile] = {}
    for rel, path in walk(root, folder):
        data = path.read_bytes()
        digest = content_hash(data)
        found.setdefault(digest, LandedFile(rel, digest, len(data)))
    known = already_recorded(conn, list(found)) if found else set()
    return [f for digest, f in found.items() if digest not in known]
