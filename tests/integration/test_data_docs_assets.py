"""The Data Docs load nothing from the internet: after the real ingest builds the site, every
library a page loads is the site's own copy (from the npm packages of web_assets/), every
reference resolves to a file of the site, and a Great Expectations upgrade that loads
something new fails here."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from support.builders import land, submission, xlsx_bytes
from support.pipeline_helpers import ingest

from poverty_pipeline.ingest import data_docs

LOCAL_REF = re.compile(r"<(?:script|link|img)\b[^>]*?(?:src|href)=\"([^\"#?]+)[^\"]*\"", re.IGNORECASE)


@pytest.fixture
def site(warehouse, landing, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("POVERTY_DATA_DOCS_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("POVERTY_GX_STORE_DIR", str(tmp_path / "store"))
    land(landing, "28249_2021.xlsx", xlsx_bytes(submission()))
    land(landing, "28252_2021.xlsx", xlsx_bytes(submission("28252", households=[])))  # rejected
    ingest(warehouse, landing)
    return tmp_path / "site"


def test_every_page_loads_only_the_sites_own_files(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 4  # the index and a page per sheet of the batch
    for page in pages:
        assert data_docs.remote_assets(page) == [], page
        text = page.read_text("utf-8")
        assert "integrity=" not in text and "crossorigin=" not in text  # the CDN's, gone with it
        assert "s3.us-east-2.amazonaws.com" not in text
        refs = LOCAL_REF.findall(text)
        assert any("static/vendor/bootstrap/dist/css/bootstrap.min.css" in r for r in refs), page
        for ref in refs:
            if ref.startswith(("http:", "https:", "data:", "mailto:")):
                continue
            assert (page.parent / unquote(ref)).resolve().is_file(), (page, ref)
    css = (site / "static/vendor/@fortawesome/fontawesome-free/css/all.min.css").read_text()
    for font in re.findall(r"url\((\.\./webfonts/[^)]+)\)", css):
        assert (site / "static/vendor/@fortawesome/fontawesome-free/css" / font).resolve().is_file(), font
    styles = (site / "static/styles/data_docs_default_styles.css").read_text()
    assert "amazonaws" not in styles and "../images/logo-long.png" in styles


def test_every_url_of_the_map_is_one_great_expectations_writes(site):
    """The map holds what the installed Great Expectations loads, nothing stale."""
    templates = Path(__import__("great_expectations").__file__).parent / "render" / "view" / "templates"
    written = "\n".join(p.read_text() for p in templates.glob("*.j2"))
    for url in data_docs.asset_map()["libraries"]:
        assert url in written, url
    vendored = {p.relative_to(site / "static" / "vendor").as_posix()
                for p in (site / "static" / "vendor").rglob("*") if p.is_file()}
    assert set(data_docs.asset_map()["libraries"].values()) <= vendored


def test_localising_again_changes_nothing_and_without_the_packages_nothing_breaks(site, tmp_path,
                                                                                  monkeypatch):
    pages = list(site.rglob("*.html"))
    before = {p: p.read_bytes() for p in pages}
    assert data_docs.localise(site, pages) == 0
    assert {p: p.read_bytes() for p in pages} == before
    # a site built where the npm packages are missing keeps the CDN links (and says why)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    page = fresh / "index.html"
    page.write_text('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>')
    monkeypatch.setenv("POVERTY_WEB_ASSETS_DIR", str(tmp_path / "nowhere"))
    said: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())
    data_docs.log.addHandler(handler)
    try:
        assert data_docs.localise(fresh, [page]) == 0
    finally:
        data_docs.log.removeHandler(handler)
    assert "code.jquery.com" in page.read_text()
    assert any("make install" in line for line in said), said
