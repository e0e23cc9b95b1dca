"""The Outputs table `poverty run` ends with: every local path it prints exists after a run (or
says what writes it), each location is the one its writer uses, and the page URLs are the
plugin's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from poverty_pipeline.cli import main as cli
from poverty_pipeline.orchestration import runner
from poverty_pipeline.reporting import outputs
from poverty_pipeline.samples.generate import generate_submissions

NOT_YET = "not written yet"


def table_rows(printed: str) -> list[tuple[str, str]]:
    """(where, note) of each row of the last Outputs table in ``printed``."""
    block = printed.rsplit("\nOutputs\n", 1)[1]
    rows = []
    for line in block.splitlines():
        if not line.startswith("  "):
            break
        where, _, note = re.match(r"^  .*?\s{2,}(\S.*)$", line)[1].partition("  (")
        rows.append((where, note.removesuffix(")")))
    return rows


def local_paths(rows: list[tuple[str, str]]) -> list[tuple[Path, str]]:
    """The printed local paths: neither URLs nor commands nor sign-in notes."""
    return [(Path(where), note) for where, note in rows
            if not re.match(r"\w+://|`|sign in:", where) and where]


def test_after_a_run_every_printed_local_path_exists(warehouse, landing, tmp_path, monkeypatch, capsys):
    """`poverty run --dag commune_ingest` on two communes' reviews: a real Airflow run."""
    generate_submissions(landing, years=[2021], communes=["28249", "28252"], workers=1)
    monkeypatch.setenv("POVERTY_DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    monkeypatch.setenv("POVERTY_DBT_DOCS_DIR", str(tmp_path / "dbt_docs"))  # not built
    for module in (runner, outputs):  # the run's AIRFLOW_HOME and logs, under the test's folder
        monkeypatch.setattr(module, "LOCAL_DIR", tmp_path / "local")
    cli.main(["run", "--dag", "commune_ingest"])
    printed = capsys.readouterr().out

    rows = table_rows(printed)
    paths = local_paths(rows)
    written = {str(p) for p, note in paths if NOT_YET not in note}
    assert written == {f"{landing}/_feedback", str(tmp_path / "data_docs" / "index.html"),
                       str(tmp_path / "local" / "logs")}
    for path, note in paths:
        assert path.exists() == (NOT_YET not in note), (path, note)
    assert (landing / "_feedback" / "communes" / "2021").is_dir()
    assert dict(rows)[f"{landing}/_feedback/"] == "2 files"  # one report per landed file
    assert (tmp_path / "local" / "logs" / "commune_ingest.log").is_file()
    # not built by an ingest: said, with what builds them
    assert (f"{landing}/_reports/review_summary/", f"{NOT_YET}: the warehouse_build DAG writes it") in rows
    assert ("`make docs`", f"builds {tmp_path / 'dbt_docs' / 'index.html'}") in rows
    assert any(where == outputs.without_password(warehouse) for where, _ in rows)
    assert "http://127.0.0.1:8080/plugin/poverty-poverty" in printed
    passwords = tmp_path / "local" / "airflow" / outputs.PASSWORDS_FILE
    assert f"sign in: user admin, password in {passwords}" in printed


def test_the_landings_exports_are_the_writers_folders(tmp_path):
    from poverty_pipeline.reporting.followup import FOLLOW_UP_FOLDER
    from poverty_pipeline.reporting.review_report import REPORT_FOLDER

    for folder in (REPORT_FOLDER, FOLLOW_UP_FOLDER):
        (tmp_path.joinpath(*folder)).mkdir(parents=True)
    (tmp_path / "_reports" / "review_summary" / "2025.xlsx").write_bytes(b"x")
    listed = {o.what: o for o in outputs.listing(tmp_path.as_uri(), "postgresql://u@h/db")}
    assert listed["Review summaries (xlsx)"].path == tmp_path / "_reports" / "review_summary"
    assert listed["Review summaries (xlsx)"].note == "1 file"
    assert listed["Follow-up lists (xlsx)"].note == "0 files"
    s3 = {o.what: o.where for o in outputs.listing("s3://bucket/landing", "postgresql://u@h/db")}
    assert s3["Feedback reports (html)"] == "s3://bucket/landing/_feedback/"


def test_the_warehouse_url_is_printed_without_its_password():
    assert (outputs.without_password("postgresql://poverty:s%40cret@db.example:5433/poverty")
            == "postgresql://poverty:***@db.example:5433/poverty")
    assert outputs.without_password("postgresql://postgres@/postgres?host=/x") == \
        "postgresql://postgres@/postgres?host=/x"


def test_the_page_urls_and_the_dbt_docs_folder_are_the_plugins(monkeypatch, tmp_path):
    pytest.importorskip("airflow.api_fastapi")
    from poverty_ui_plugin import PovertyUiPlugin

    from poverty_pipeline.ui import app

    views = {v["href"]: v["url_route"] for v in PovertyUiPlugin.external_views}
    routes = {f"plugin/{route}" if route else href for href, route in views.items()}
    assert {route for _, route in outputs.PAGES} == routes
    assert outputs.dbt_docs_dir() == app.dbt_docs_dir()
    monkeypatch.setenv("POVERTY_DBT_DOCS_DIR", str(tmp_path))
    assert outputs.dbt_docs_dir() == app.dbt_docs_dir() == tmp_path
