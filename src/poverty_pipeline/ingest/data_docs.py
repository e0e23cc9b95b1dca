"""Great Expectations Data Docs: the human-readable record of every validation — the
submission suites of each ingest batch and the quality gate on the marts — as a static site in
``config.data_docs_dir()``.

Validation results are kept as JSON in ``POVERTY_GX_STORE_DIR`` (default: ``gx_store`` beside
the site) so the site's index lists every run, not only the last one. Submission results are
stored without the values that failed (counts only): a failing value may be a household's
name or citizen ID, and the site is for a wider audience than ``raw``; every value is in
``audit.submission_problems`` and in the submitter's own feedback report.

Great Expectations writes pages that load Bootstrap, jQuery, Vega and its logos from public
CDNs. Each build is followed by ``localise``: the libraries are copied into the site's
``static/vendor/`` from the npm packages of ``web_assets/`` (``data_docs_assets.yml`` says
which URL is which file) and the pages point at them, so the site works offline and under a
Content-Security-Policy of ``'self'``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import string
import time
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from poverty_pipeline.config import PROJECT_ROOT, data_docs_dir

log = logging.getLogger(__name__)

SITE_NAME = "poverty_pipeline"
# What a submission result keeps: counts, never values.
KEPT_RESULT_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count",
                    "missing_percent", "unexpected_percent_nonmissing", "unexpected_percent_total")


def store_dir() -> Path:
    return Path(os.environ.get("POVERTY_GX_STORE_DIR") or data_docs_dir().parent / "gx_store")


def index_path() -> Path:
    return data_docs_dir() / "index.html"


def context():
    """The GX context for the current ``data_docs_dir()`` and ``store_dir()``."""
    return _context(str(data_docs_dir()), str(store_dir()))


@cache
def _context(site_dir: str, results_dir: str):
    """A GX context whose validation results are kept on disk and whose Data Docs site is
    ``data_docs_dir()``; suites, assets and checkpoints live in memory (they are defined by the
    files in ``expectations/`` and re-created every run)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    def in_memory(class_name: str) -> dict:
        return {"class_name": class_name, "store_backend": {"class_name": "InMemoryStoreBackend"}}

    config = DataContextConfig(
        stores={
            "expectations_store": in_memory("ExpectationsStore"),
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(Path(results_dir) / "validations")},
            },
            "checkpoint_store": in_memory("CheckpointStore"),
            "validation_definition_store": in_memory("ValidationDefinitionStore"),
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": site_dir},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
    )
    ctx = gx.get_context(project_config=config, mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


# What a run or batch name keeps as it is; every other character is written as ``~XX`` per
# UTF-8 byte. The names come from landing folders (a submitter's text) and GX puts them into
# file paths, links and the index page's inline script unescaped: safe by construction here.
SAFE_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "._+-:")


def safe_name(text: str) -> str:
    """A run or batch name safe as a file name, in a URL and in HTML or script: ASCII letters,
    digits and ``._+-:`` kept, anything else ``~`` and its UTF-8 bytes in hex
    (``2025-Q3`` stays, ``<b>`` becomes ``~3Cb~3E``); never ``.`` or ``..`` alone."""
    name = "".join(c if c in SAFE_NAME_CHARS else "".join(f"~{b:02X}" for b in c.encode())
                   for c in text)
    return name if name.strip(".") else name.replace(".", "~2E")


def build(resource_identifiers: list | None = None) -> Path:
    """(Re)write the site: the pages of ``resource_identifiers`` (all when None) and the index,
    then point what they load at the site's own copies (``localise``)."""
    started = time.time()
    context().build_data_docs(site_names=[SITE_NAME], resource_identifiers=resource_identifiers)
    site = data_docs_dir()
    localise(site, (p for p in site.rglob("*.html") if p.stat().st_mtime >= started - 1))
    log.info("Great Expectations Data Docs: %s", index_path())
    return index_path()


# ------------------------------------------------------------------ the site's own assets

VENDOR = Path("static") / "vendor"  # in the site: the libraries' files, as in their packages
ASSET_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
SRI = re.compile(r"\s+(?:integrity|crossorigin)=(\"[^\"]*\"|'[^']*')", re.IGNORECASE)
GX_STATIC = re.compile(r"(?<=[\"'(])(?:\./|(?:\.\./)+)?static/((?:images|styles|fonts)/[^\"')?#]+)")
REMOTE_ASSET = re.compile(r"<(?:script|link|img)\b[^>]*(?:src|href)=[\"']https?://", re.IGNORECASE)


def web_assets_dir() -> Path:
    """Where the npm packages of ``web_assets/`` are installed: ``POVERTY_WEB_ASSETS_DIR``,
    default ``web_assets/node_modules`` of the project (``make install``; the image's too)."""
    return Path(os.environ.get("POVERTY_WEB_ASSETS_DIR") or PROJECT_ROOT / "web_assets" / "node_modules")


@cache
def asset_map() -> dict:
    import yaml

    text = resources.files("poverty_pipeline.ingest").joinpath("data_docs_assets.yml").read_text("utf-8")
    return yaml.safe_load(text)


def vendor(site: Path) -> bool:
    """Copy the libraries the pages load into ``<site>/static/vendor/`` (a file only when new
    or changed); False when the npm packages are not installed."""
    source, spec = web_assets_dir(), asset_map()
    files = [Path(f) for f in spec["libraries"].values()]
    files += [p.relative_to(source) for folder in spec.get("folders", ())
              for p in (source / folder).glob("*") if p.is_file()]
    missing = [f for f in files if not (source / f).is_file()]
    if missing:
        log.warning("Data Docs keep loading their libraries from CDNs: %s is missing %s — run "
                    "`make install` (web_assets/fetch.py)", source, missing[0])
        return False
    for relative in files:
        target = site / VENDOR / relative
        if not target.is_file() or target.stat().st_size != (source / relative).stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target)
    return True


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def localise(site: Path, pages: Iterable[Path]) -> int:
    """Point the pages' CDN libraries and Great Expectations' logos at the site's own files;
    the number of pages changed. Subresource-integrity and CORS attributes go with the CDN
    URL (the files are the site's own, served from its origin)."""
    if not vendor(site):
        return 0
    spec = asset_map()
    images = spec["images"]
    image_url = re.compile(re.escape(images["base"]) + r"([\w.-]+)(?:\?[^\"')\s]*)?")
    changed = 0
    styles = [p for p in (site / "static" / "styles").glob("*.css")]
    for page in [*pages, *styles]:
        text = original = page.read_text("utf-8")
        for url, relative in spec["libraries"].items():
            if url in text:
                local = _relative(site / VENDOR / relative, page)
                text = re.sub(re.escape(url) + r"(?=[\"'])", local, text)

        def image(found: re.Match, page: Path = page) -> str:
            name = images["names"].get(found.group(1))
            return _relative(site / "static" / "images" / name, page) if name else found.group(0)

        text = image_url.sub(image, text)
        if page.suffix == ".html":  # GX counts a page's depth from the suite's name: re-aim at static/

            def static(found: re.Match, page: Path = page) -> str:
                target = site / "static" / found.group(1)
                return _relative(target, page) if target.is_file() else found.group(0)

            text = GX_STATIC.sub(static, text)
        text = ASSET_TAG.sub(lambda tag: SRI.sub("", tag.group(0)) if "static/vendor/" in tag.group(0)
                             else tag.group(0), text)
        if text != original:
            page.write_text(text, "utf-8")
            changed += 1
    return changed


def remote_assets(page: Path) -> list[str]:
    """The tags of ``page`` that still load something from the internet."""
    return [m.group(0) for m in REMOTE_ASSET.finditer(page.read_text("utf-8"))]


def without_values(result):
    """A copy of a validation result that keeps which expectations failed and how often, but
    none of the values (which may be personal data)."""
    from copy import deepcopy

    clean = deepcopy(result)
    for item in clean.results:
        found = item.result or {}
        item.result = {k: found[k] for k in KEPT_RESULT_KEYS if k in found}
        if isinstance(found.get("observed_value"), (int, float)):
            item.result["observed_value"] = found["observed_value"]
    return clean


def store_submission_validations(results: list, run_name: str, batch_name: str) -> list:
    """Store the results of one validation of an ingest batch (one per sheet), values removed;
    their keys, for ``build`` to add to the site."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if not results:
        return []
    run_id = RunIdentifier(run_name=safe_name(run_name), run_time=dt.datetime.now(dt.UTC))
    batch_name = safe_name(batch_name)
    keys = []
    for result in results:
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run_id,
            batch_identifier=batch_name,
        )
        context().validation_results_store.set(key, without_values(result))
        keys.append(key)
    return keys


# ------------------------------------------------------------------ serving the site's assets

# What the static files of the site are served with: public library files and Great
# Expectations' own images, styles and fonts, no data. The site's pages run sandboxed (an
# opaque origin, src/poverty_pipeline/ui/security.py): their requests carry no cookie of
# the Airflow UI (SameSite) and their font loads are cross-origin, so these files are served
# without sign-in and to any origin; nothing in static/ can run as a page.
STATIC_HEADERS = (
    (b"access-control-allow-origin", b"*"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; sandbox"),
    (b"cache-control", b"public, max-age=3600"),
)


def static_app():
    """An ASGI app serving ``<site>/static/`` (mounted by the plugin at
    ``/poverty/data-docs/static``, before the pages' app, which needs a signed-in user)."""
    from starlette.staticfiles import StaticFiles

    files = StaticFiles(directory=data_docs_dir() / "static", check_dir=False)

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("Method Not Allowed", status_code=405)(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in STATIC_HEADERS}
                message["headers"] = [*(h for h in message.get("headers", []) if h[0] not in names),
                                      *STATIC_HEADERS]
            await send(message)

        await files(scope, receive, with_headers)

    return app
