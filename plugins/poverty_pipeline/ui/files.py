"""Serving files the pipeline wrote (the dbt docs, the Data Docs site, feedback reports)
without ever leaving the folder they were asked from."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fastapi import HTTPException
from fastapi.responses import FileResponse, Response

# The dbt docs site is these files of the target folder; the rest of target/ (compiled SQL,
# run results, logs) stays private.
DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json")


def file_in(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it is a file inside ``root`` (a folder gives its index.html);
    None otherwise, including for any path that climbs out of ``root``."""
    base = root.resolve()
    target = (base / unquote(relative)).resolve()
    if not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def send(path: Path) -> FileResponse:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type == "application/json":
        media_type += "; charset=utf-8"
    return FileResponse(path, media_type=media_type)


def feedback_path(landing_url: str, submission_path: str) -> str:
    """Where the feedback report of a landed file lies by convention:
    ``<landing>/_feedback/<landing folder>/<period>/<file name>.feedback.html``."""
    return f"{landing_url.rstrip('/')}/_feedback/{submission_path}.feedback.html"


def read_url(url: str) -> Response:
    """The HTML report at a file:// or object-storage URL."""
    if urlsplit(url).scheme in ("", "file"):
        path = Path(unquote(urlsplit(url).path))
        if not path.is_file():
            raise HTTPException(404, f"Không có báo cáo phản hồi / no feedback report at {url}")
        return send(path)
    from airflow.sdk import ObjectStoragePath  # only for remote storage

    remote = ObjectStoragePath(url)
    if not remote.exists():
        raise HTTPException(404, f"Không có báo cáo phản hồi / no feedback report at {url}")
    return Response(remote.read_bytes(), media_type="text/html; charset=utf-8")
