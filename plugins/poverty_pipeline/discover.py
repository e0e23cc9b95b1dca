"""Find landed files that the warehouse has not recorded yet.

Files are found with Airflow's ObjectStoragePath, so the landing location can be a local
folder (file://) or object storage (s3://, gs://, ...). A file's identity is the SHA-256 of
its bytes: a file already recorded under any name is not processed again. A file over the size
limit is never read whole: its identity is the hash of its size, first and last MiB, and the
ingest refuses it by its size alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import psycopg

from poverty_pipeline.load import already_recorded
from poverty_pipeline.read import MAX_FILE_BYTES

SAMPLE_BYTES = 1 << 20  # what identifies an oversized file: its first and last MiB
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


def oversize_hash(path, size: int) -> str:
    """Identity of a file too large to read: its size, first and last MiB."""
    digest = hashlib.sha256(f"oversize:{size}:".encode())
    with path.open("rb") as stream:
        digest.update(stream.read(SAMPLE_BYTES))
        stream.seek(max(size - SAMPLE_BYTES, 0))
        digest.update(stream.read(SAMPLE_BYTES))
    return digest.hexdigest()


def fetch(root, landed: LandedFile) -> tuple[LandedFile, bytes | None]:
    """The file's bytes (None when it is over the size limit, which is then not read), and its
    identity again: the file may have been replaced since discovery."""
    path = root / landed.path
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return LandedFile(landed.path, oversize_hash(path, size), size), None
    data = path.read_bytes()
    digest = content_hash(data)
    return (landed if digest == landed.submission_id else LandedFile(landed.path, digest, len(data))), data


def new_files(conn: psycopg.Connection, landing_url: str, folder: str) -> list[LandedFile]:
    """Files under ``<landing>/<folder>`` whose content is not yet in audit.submissions.

    Two paths with the same content count once (the first in path order).
    """
    root = landing_root(landing_url)
    found: dict[str, LandedFile] = {}
    for rel, path in walk(root, folder):
        size = path.stat().st_size
        digest = oversize_hash(path, size) if size > MAX_FILE_BYTES else content_hash(path.read_bytes())
        found.setdefault(digest, LandedFile(rel, digest, size))
    known = already_recorded(conn, list(found)) if found else set()
    return [f for digest, f in found.items() if digest not in known]
