"""Where a feedback report is recorded and where the pages read it from: recorded URLs are
percent-encoded and decode back to the name that was written, whatever the submitter named the
file; the route serves only what lies inside ``<landing>/_feedback/`` — in a local folder and
on object storage (fsspec's ``memory://`` filesystem, through the same ObjectStoragePath code as
``s3://``), after the pipeline's own ingest; Data Docs names are safe by construction."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.builders import household, json_bytes, submission

from poverty_pipeline.ingest import data_docs, locations
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.ingest.feedback import FEEDBACK_FOLDER
from poverty_pipeline.ui import files
from poverty_pipeline.warehouse.database import connect, ensure_schema

ODD_NAMES = ("28261 #1.json", "what?.json", "100% sure.json", "a b%20c.json", "Xã Tân Mỹ Chánh.json",
             "%2E%2E%2F..%2F..%2Fcommunes%2F2025%2Fevil", "x%2F..%2Fy.json")
SUBMITTERS_HTML = "<html><body><script>document.title='pwned'</script>SUBMITTER'S PAGE</body></html>"


def test_the_pages_look_for_reports_where_the_ingest_writes_them():
    assert files.FEEDBACK_FOLDER == FEEDBACK_FOLDER


@pytest.mark.parametrize("name", ODD_NAMES)
def test_a_recorded_url_decodes_to_the_name_that_was_written(name, tmp_path):
    from airflow.sdk import ObjectStoragePath

    local = tmp_path / "_feedback" / "communes" / "2025" / f"{name}.feedback.html"
    for written in (local, ObjectStoragePath("file://" + local.as_posix())):
        url = locations.url_of(written)
        assert url == local.as_uri()
        where = locations.parse(url)
        assert where.local_path() == local and where.segments[-1] == f"{name}.feedback.html"
        assert where.is_inside(locations.root_of(tmp_path.as_uri()))
    remote = ObjectStoragePath(f"memory://bucket/landing/_feedback/communes/2025/{name}.feedback.html")
    where = locations.parse(locations.url_of(remote))
    assert (where.scheme, where.authority) == ("memory", "bucket")
    assert where.segments == ("landing", "_feedback", "communes", "2025", f"{name}.feedback.html")
    assert where.is_inside(locations.root_of("memory://bucket/landing"))


def test_a_location_with_dot_segments_or_a_decoded_slash_is_inside_nothing(tmp_path):
    root = locations.root_of(tmp_path.as_uri())
    feedback = locations.child(root, "_feedback")
    for url in (f"{tmp_path.as_uri()}/_feedback/../communes/evil.feedback.html",
                f"{tmp_path.as_uri()}/_feedback/./x.feedback.html",
                f"{tmp_path.as_uri()}/_feedback/a%2F..%2F..%2Fevil.feedback.html",
                f"{tmp_path.as_uri()}/_feedback//x.feedback.html",
                f"file://{tmp_path}/_feedback/%2E%2E%2F%2E%2E%2Fevil.feedback.html"):
        assert not locations.parse(url).is_inside(feedback), url
    other = locations.root_of("memory://other-bucket/landing")
    assert not locations.parse("memory://bucket/landing/_feedback/x").is_inside(
        locations.child(other, "_feedback"))


def test_data_docs_names_keep_only_allowed_characters():
    assert data_docs.safe_name("commune_household_review.2023+2024-Q3") == \
        "commune_household_review.2023+2024-Q3"
    assert data_docs.safe_name("<b onmouseover='x'>") == "~3Cb~20onmouseover~3D~27x~27~3E"
    assert data_docs.safe_name("Xã/..\\") == "X~C3~A3~2F..~5C"
    for text in ("..", ".", "", "a/b", "</script><script>alert(1)</script>", "\0\n\"'&;%#?"):
        name = data_docs.safe_name(text)
        assert set(name) <= data_docs.SAFE_NAME_CHARS | {"~"}, text
        assert name not in (".", ".."), text


# --- the route, on object storage --------------------------------------------------------


@pytest.fixture
def client(warehouse, monkeypatch, tmp_path):
    """The pages' app in this process, signed in (the sign-in itself is tested through the
    API server in test_ui_pages.py), over ``warehouse``."""
    from fastapi.testclient import TestClient

    from poverty_pipeline.ui.app import app, require_ui_user

    monkeypatch.setenv("POVERTY_DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    app.dependency_overrides[require_ui_user] = lambda: None
    try:
        yield TestClient(app)
    finally:
        app.dependency_overrides.clear()


def ingest_landing(warehouse: str, landing_url: str) -> dict[str, tuple[str, str]]:
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        ingest_files(conn, landing_url, new_files(conn, landing_url, "communes"), run_id="feedback-files")
        rows = conn.execute("select path, submission_id, feedback_url from audit.submissions")
        return {path: (sid, url) for path, sid, url in rows}


def set_feedback_url(warehouse: str, submission_id: str, url: str | None) -> None:
    with connect(warehouse, autocommit=True) as conn:
        conn.execute("update audit.submissions set feedback_url = %s where submission_id = %s",
                     (url, submission_id))


def test_object_storage_reports_are_served_only_from_the_landings_feedback_prefix(
        warehouse, client, monkeypatch):
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    attach(protocol="memory", fs=MemoryFileSystem())  # as a provider registers s3 or gs
    bucket = f"poverty-{uuid.uuid4().hex[:8]}"
    landing_url = f"memory://{bucket}/landing"
    monkeypatch.setenv("POVERTY_LANDING_URL", landing_url)
    folder = ObjectStoragePath(landing_url) / "communes" / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evil.feedback.html").write_text(SUBMITTERS_HTML)
    for i, name in enumerate(ODD_NAMES):
        doc = submission(ma_xa="28261", year=2025, nguoi_lap=f"Người lập {i}",
                         households=[household("HO001"), household("HO001")])
        (folder / name).write_bytes(json_bytes(doc))
    recorded = ingest_landing(warehouse, landing_url)
    assert len(recorded) == len(ODD_NAMES) + 1

    for name in ODD_NAMES:
        submission_id, url = recorded[f"communes/2025/{name}"]
        report = ObjectStoragePath(landing_url) / "_feedback" / "communes" / "2025" / f"{name}.feedback.html"
        assert url == locations.url_of(report) and url.startswith(f"memory://{bucket}/landing/_feedback/")
        response = client.get(f"/feedback/{submission_id}")
        assert (response.status_code, response.content) == (200, report.read_bytes()), name
        assert b"pwned" not in response.content
        assert "sandbox" in response.headers["content-security-policy"]

    # whatever URL is recorded, only the submission's own report inside _feedback/ is served
    submission_id, url = recorded[f"communes/2025/{ODD_NAMES[5]}"]
    own_report = (ObjectStoragePath(landing_url) / "_feedback" / "communes" / "2025"
                  / f"{ODD_NAMES[5]}.feedback.html")
    own = client.get(f"/feedback/{submission_id}").content
    assert own == own_report.read_bytes()
    elsewhere = ObjectStoragePath(f"memory://{bucket}-other/landing/_feedback/x.feedback.html")
    elsewhere.parent.mkdir(parents=True, exist_ok=True)
    elsewhere.write_text(SUBMITTERS_HTML)
    for bad in (f"memory://{bucket}/landing/communes/2025/evil.feedback.html",
                f"memory://{bucket}/landing/_feedback/../communes/2025/evil.feedback.html",
                f"memory://{bucket}/landing/_feedback/%2E%2E%2Fcommunes%2F2025%2Fevil.feedback.html",
                f"memory://{bucket}-other/landing/_feedback/x.feedback.html",
                str(own_report)):  # unencoded, as recorded before: decodes to ../../communes/…
        set_feedback_url(warehouse, submission_id, bad)
        response = client.get(f"/feedback/{submission_id}")
        assert (response.status_code, response.content) == (200, own), bad
    # and when the submission's own report is gone too, nothing
    own_report.unlink()
    set_feedback_url(warehouse, submission_id, f"memory://{bucket}/landing/communes/2025/evil.feedback.html")
    assert client.get(f"/feedback/{submission_id}").status_code == 404
    assert client.get("/feedback/no-such-submission").status_code == 404


def test_a_local_report_linked_out_of_the_feedback_folder_is_not_served(warehouse, client, landing,
                                                                          monkeypatch):
    folder = landing / "communes" / "2025"
    folder.mkdir(parents=True)
    (folder / "evil.feedback.html").write_text(SUBMITTERS_HTML)
    (folder / "a.json").write_bytes(json_bytes(submission(ma_xa="28261", year=2025)))
    recorded = ingest_landing(warehouse, landing.as_uri())
    submission_id, url = recorded["communes/2025/a.json"]
    report = Path(locations.parse(url).local_path())
    report.unlink()
    report.symlink_to(folder / "evil.feedback.html")  # the report's own name, leading out
    assert client.get(f"/feedback/{submission_id}").status_code == 404
