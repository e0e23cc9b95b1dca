"""Find landed files that the warehouse has not recorded yet.

Files are found with Airflow's ObjectStoragePath, so the landing location can be a local
folder (file://) or object storage (s3://, gs://, ...). A file's identity is the SHA-256 of
its bytes: a file already recorded under any name is not processed again. A file over the size
limit is never read whole: its identity is the hash of its size, first and last MiB, and the
ingest refuses it by its size alone. Copies of the same bytes under several paths are one
landed file with its ``copies``; the ingest records the copy in the folder of the file's own
period.

Every entry under the contract's folder is accounted for: a regular file is a submission; a
symbolic link is recorded as rejected without being followed (its identity is the hash of its
path, as its bytes are not read); a hidden file (``.name``), an Excel lock file (``~$name``), a
hidden folder and anything that is not a regular file (a pipe, a socket) are skipped with the
reason in the run's log.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import psycopg

from poverty_pipeline.ingest.load import recorded_paths
from poverty_pipeline.ingest.problems import printable
from poverty_pipeline.ingest.read import MAX_FILE_BYTES

log = logging.getLogger(__name__)

SAMPLE_BYTES = 1 << 20  # what identifies an oversized file: its first and last MiB
SKIPPED_PREFIXES = {  # file names that are not submissions, and why
    ".": "a hidden file (its name starts with '.')",
    "~$": "an Excel lock file (~$), written while the workbook is open",
}


@dataclass(frozen=True)
class LandedFile:
    path: str  # relative to the landing root, e.g. communes/2021/28249_2021.xlsx
    submission_id: str
    size: int
    kind: str = "file"  # file | link (recorded, never followed) | unreadable (could not be hashed)
    copies: tuple[str, ...] = field(default=())  # other paths holding the same bytes

    def __post_init__(self):
        object.__setattr__(self, "copies", tuple(self.copies))

    @property
    def period(self) -> str:
        return period_of(self.path)

    def as_dict(self) -> dict:
        return asdict(self)


def period_of(path: str) -> str:
    """The period folder of a landed path (``communes/2021/x.json`` → ``2021``)."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else ""


def landing_root(url: str):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(url)


def derived_id(kind: str, path: str, content_id: str = "") -> str:
    """The identity of an outcome that is not the file's own bytes' (a link, a file that
    vanished or could not be read): a hash of what it is, its path and the content hash known,
    so the same bytes landing again are still taken in."""
    text = f"{kind}\0{path}\0{content_id}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _relative(name: str, root_path: str) -> str:
    base = root_path.rstrip("/") + "/"
    return name[len(base):] if name.startswith(base) else name.lstrip("/")


def walk(root, folder: str) -> Iterator[tuple[str, str]]:
    """``(path relative to the root, kind)`` of every entry under ``<root>/<folder>`` that is
    a submission (``file``) or a symbolic link (``link``), in path order; the others are
    skipped with their reason logged. Links to folders are not descended into."""
    base = root / folder
    if not base.exists():
        return
    fs, root_path = root.fs, root.path
    found: list[tuple[str, str]] = []
    stack = [base.path]
    while stack:
        current = stack.pop()
        try:
            entries = fs.ls(current, detail=True)
        except FileNotFoundError:  # removed while walking
            continue
        for entry in entries:
            if entry["name"].rstrip("/") == current.rstrip("/"):  # object stores list the folder too
                continue
            rel = _relative(entry["name"], root_path)
            leaf = rel.rsplit("/", 1)[-1]
            if entry.get("islink"):
                found.append((rel, "link"))
            elif entry.get("type") == "directory":
                if leaf.startswith("."):
                    log.info("skipped %s/: a hidden folder, not read", printable(rel, one_line=True))
                else:
                    stack.append(entry["name"])
            elif entry.get("type") != "file":
                log.info("skipped %s: not a regular file (%s)", printable(rel, one_line=True),
                         entry.get("type"))
            elif reason := next((r for p, r in SKIPPED_PREFIXES.items() if leaf.startswith(p)), None):
                log.info("skipped %s: %s, not a submission", printable(rel, one_line=True), reason)
            else:
                found.append((rel, "file"))
    yield from sorted(found)


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


class BecameLink(Exception):
    """The path is a symbolic link now (it was replaced since discovery)."""


def fetch(root, landed: LandedFile) -> tuple[LandedFile, bytes | None]:
    """The file's bytes (None when it is over the size limit, which is then not read), and its
    identity again: the file may have been replaced since discovery. Raises
    ``FileNotFoundError`` when it has gone, ``BecameLink`` when it is a link now."""
    path = root / landed.path
    info = root.fs.info(path.path)
    if info.get("islink"):
        raise BecameLink(landed.path)
    size = info.get("size") or 0
    if size > MAX_FILE_BYTES:
        return LandedFile(landed.path, oversize_hash(path, size), size, copies=landed.copies), None
    data = path.read_bytes()
    digest = content_hash(data)
    if digest == landed.submission_id:
        return landed, data
    return LandedFile(landed.path, digest, len(data), copies=landed.copies), data


def _identify(root, rel: str, kind: str) -> LandedFile | None:
    if kind == "link":
        return LandedFile(rel, derived_id("symbolic_link", rel), 0, kind="link")
    path = root / rel
    try:
        size = root.fs.info(path.path).get("size") or 0
        digest = oversize_hash(path, size) if size > MAX_FILE_BYTES else content_hash(path.read_bytes())
    except FileNotFoundError:
        log.info("skipped %s: removed while it was being found", printable(rel, one_line=True))
        return None
    except OSError as exc:  # no permission, an I/O error: the pipeline's trouble, not the file's
        log.warning("%s could not be read (%s); recorded for the operators, read again next run",
                    printable(rel, one_line=True), type(exc).__name__)
        return LandedFile(rel, derived_id("unreadable", rel), 0, kind="unreadable")
    return LandedFile(rel, digest, size)


def new_files(conn: psycopg.Connection, landing_url: str, folder: str) -> list[LandedFile]:
    """Files under ``<landing>/<folder>`` whose content is not yet in audit.submissions.

    Two paths with the same content are one file (the first in path order) with the other as
    a copy; a path whose content is recorded under another path is logged, not taken again.
    """
    root = landing_root(landing_url)
    found: dict[str, LandedFile] = {}
    for rel, kind in walk(root, folder):
        landed = _identify(root, rel, kind)
        if landed is None:
            continue
        first = found.get(landed.submission_id)
        if first is None:
            found[landed.submission_id] = landed
        else:
            found[landed.submission_id] = LandedFile(first.path, first.submission_id, first.size,
                                                     first.kind, (*first.copies, rel))
    known = recorded_paths(conn, list(found)) if found else {}
    for digest, landed in found.items():
        for path in (landed.path, *landed.copies):
            if digest in known and path != known[digest]:
                log.info("%s: the same bytes as %s, recorded already; not taken again",
                         printable(path, one_line=True), printable(known[digest], one_line=True))
    return [f for digest, f in found.items() if digest not in known]

