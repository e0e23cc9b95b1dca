"""Locations in the landing written as URLs, and read back.

A landed file's name is the submitter's text: it may hold ``#``, ``?``, ``%``, spaces,
Vietnamese letters or ``%2F..%2F``. Every URL the pipeline records (a feedback report's, in
``audit.submissions.feedback_url``) has its path percent-encoded, so ``parse`` gives back
exactly the segments that were written — never a ``..`` the name only spelt — and the pages can
check that the location lies inside the folder they serve from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


@dataclass(frozen=True)
class Location:
    scheme: str  # "file", "s3", "gs", "memory", …
    authority: str  # the bucket (with an Airflow connection id as ``conn@bucket``); "" for file
    segments: tuple[str, ...]  # the path below the authority, one name each, decoded

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    def local_path(self) -> Path:
        return Path("/", *self.segments)

    def path(self):
        """Where the location is, to read or write: a local Path or an ObjectStoragePath."""
        return self.local_path() if self.is_local else self.storage_path()

    def storage_path(self):
        """The location as Airflow's ObjectStoragePath (object storage)."""
        from airflow.sdk import ObjectStoragePath

        root = ObjectStoragePath(f"{self.scheme}://{self.authority}/")
        return root.joinpath(*self.segments) if self.segments else root

    def is_inside(self, folder: Location) -> bool:
        """Whether this location lies in ``folder`` by its segments. A segment that is empty,
        ``.`` or ``..``, or holds ``/`` (decoded from ``%2F``), makes it inside nothing."""
        def odd(segments: tuple[str, ...]) -> bool:
            return any(s in ("", ".", "..") or "/" in s or "\0" in s for s in segments)

        if odd(self.segments) or odd(folder.segments):
            return False
        return ((self.scheme, self.authority) == (folder.scheme, folder.authority)
                and self.segments[:len(folder.segments)] == folder.segments
                and len(self.segments) > len(folder.segments))


def url_of(path) -> str:
    """The URL of a landing location (an ObjectStoragePath, a pathlib.Path or a URL spelt as
    ObjectStoragePath does, unencoded), its path percent-encoded: ``#``, ``?``, ``%`` and
    spaces stay part of the name."""
    text = str(path)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return Path(text).absolute().as_uri()
    if scheme == "file":
        return Path("/" + rest.lstrip("/")).as_uri()
    authority, _, key = rest.partition("/")
    return f"{scheme}://{authority}/{quote(key)}"


def parse(url: str) -> Location:
    """A recorded URL (``url_of``'s form) as a location; empty, ``..`` or ``.`` segments are
    kept as they are written, for ``is_inside`` to refuse."""
    parts = urlsplit(url)
    scheme = parts.scheme or "file"
    segments = tuple(unquote(s) for s in parts.path.split("/")[1:])  # after the leading "/"
    if scheme == "file":
        return Location("file", "", segments)
    return Location(scheme, parts.netloc, segments)


def root_of(landing_url: str) -> Location:
    """The landing itself as a location. Its URL is configuration (``POVERTY_LANDING_URL``),
    taken literally as the ingest's ObjectStoragePath takes it (no percent-decoding); a local
    one is resolved (symlinks, ``..``) so that locations compare with what is on disk."""
    scheme, sep, rest = landing_url.partition("://")
    if not sep or scheme == "file":
        path = Path("/" + rest.lstrip("/") if sep else landing_url).resolve()
        return Location("file", "", path.parts[1:])
    authority, _, key = rest.partition("/")
    return Location(scheme, authority, tuple(p for p in key.split("/") if p))


def child(folder: Location, *names: str) -> Location:
    return Location(folder.scheme, folder.authority, folder.segments + names)
