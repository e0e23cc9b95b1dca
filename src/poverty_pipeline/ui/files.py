"""Serving files the pipeline wrote (the dbt docs, the Data Docs site, feedback reports, the
exported workbooks) without ever leaving the folder they were asked from: every path is resolved (``..``,
symlinks) and proved to lie inside its folder before a byte is read."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import FileResponse, Response

from poverty_pipeline.ingest import locations
from poverty_pipeline.reporting import followup, review_report

# The dbt docs site is these files of the target folder; the rest of target/ (compiled SQL,
# run results, logs) stays private.
DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
# Where the ingest writes feedback reports (feedback.FEEDBACK_FOLDER; not imported, as that
# module loads pandas into the API server).
FEEDBACK_FOLDER = "_feedback"
FEEDBACK_SUFFIX = ".feedback.html"
# Where the build writes its workbooks under the landing: the review summary of each year,
# each period's follow-up list (the writers import xlsxwriter only when they write).
WORKBOOKS = {
    "review-summary": review_report.REPORT_FOLDER,
    "follow-up": followup.FOLLOW_UP_FOLDER,
}
WORKBOOK_NAME = re.compile(r"[0-9A-Za-z_-]+\.xlsx")  # the names the build gives them
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_in(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it is a file inside ``root`` (a folder gives its index.html);
    None otherwise, including for any path that climbs out of ``root`` or links out of it.
    ``relative`` is already decoded (a route's path parameter): it is not decoded again."""
    base = root.resolve()
    target = (base / relative).resolve()
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


def feedback_folder(landing_url: str) -> locations.Location:
    return locations.child(locations.root_of(landing_url), FEEDBACK_FOLDER)


def conventional_feedback_url(landing_url: str, submission_path: str) -> str:
    """Where the feedback report of a landed file lies by convention, as a recorded URL:
    ``<landing>/_feedback/<landing folder>/<period>/<file name>.feedback.html``."""
    folder = feedback_folder(landing_url)
    *parents, name = submission_path.split("/")
    where = locations.child(folder, *parents, name + FEEDBACK_SUFFIX)
    if where.is_local:
        return where.local_path().as_uri()
    return locations.url_of(f"{where.scheme}://{where.authority}/{'/'.join(where.segments)}")


def _not_found() -> HTTPException:
    return HTTPException(404, "Không có báo cáo phản hồi / no feedback report")


def local_feedback(landing_url: str, url: str) -> Path | None:
    """The local feedback report a recorded URL names, when it is a ``*.feedback.html`` file
    inside ``<landing>/_feedback/`` once resolved; None otherwise."""
    folder, where = feedback_folder(landing_url), locations.parse(url)
    if not (where.is_local and folder.is_local and where.is_inside(folder)
            and where.segments[-1].endswith(FEEDBACK_SUFFIX)):
        return None
    path = file_in(folder.local_path(), "/".join(where.segments[len(folder.segments):]))
    return path if path is not None and path.name.endswith(FEEDBACK_SUFFIX) else None


def read_feedback(landing_url: str, url: str) -> Response:
    """The feedback report at a recorded file:// or object-storage URL, served only from
    inside ``<landing>/_feedback/`` (an object's key must lie under that prefix of the
    landing's bucket)."""
    where = locations.parse(url)
    if where.is_local:
        path = local_feedback(landing_url, url)
        if path is None:
            raise _not_found()
        return send(path)
    if not (where.is_inside(feedback_folder(landing_url))
            and where.segments[-1].endswith(FEEDBACK_SUFFIX)):
        raise _not_found()
    remote = where.storage_path()
    if not remote.is_file():
        raise _not_found()
    return Response(remote.read_bytes(), media_type="text/html; charset=utf-8")


def _workbook_folder(landing_url: str, kind: str) -> locations.Location:
    if kind not in WORKBOOKS:
        raise HTTPException(404, "Không có / no such workbooks")
    return locations.child(locations.root_of(landing_url), *WORKBOOKS[kind])


def workbook_names(landing_url: str, kind: str) -> list[str]:
    """The workbooks of a kind the build has written, by name; none when the folder cannot
    be listed (not written yet, storage not reachable): the page then shows no links."""
    folder = _workbook_folder(landing_url, kind)
    try:
        found = folder.local_path().iterdir() if folder.is_local else folder.storage_path().iterdir()
        return sorted(p.name for p in found if WORKBOOK_NAME.fullmatch(p.name))
    except (OSError, ValueError):
        return []


def read_workbook(landing_url: str, kind: str, name: str) -> Response:
    """A workbook of ``<landing>/_reports/<kind>/``, by a name of the build's form only."""
    folder = _workbook_folder(landing_url, kind)
    if not WORKBOOK_NAME.fullmatch(name):
        raise HTTPException(404, "Không có / no such workbook")
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if folder.is_local:
        path = file_in(folder.local_path(), name)
        if path is None:
            raise HTTPException(404, "Không có / no such workbook")
        return FileResponse(path, media_type=XLSX, headers=disposition)
    remote = locations.child(folder, name).storage_path()
    if not remote.is_file():
        raise HTTPException(404, "Không có / no such workbook")
    return Response(remote.read_bytes(), media_type=XLSX, headers=disposition)
