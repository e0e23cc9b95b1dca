"""Great Expectations Data Docs: the human-readable record of every validation — the
submission suites of each ingest batch and the quality gate on the marts — as a static site in
``config.data_docs_dir()``.

Validation results are kept as JSON in ``POVERTY_GX_STORE_DIR`` (default: ``gx_store`` beside
the site) so the site's index lists every run, not only the last one. Submission results are
stored without the values that failed (counts only): a failing value may be a household's
name or citizen ID, and the site is for a wider audience than ``raw``; every value is in
``audit.submission_problems`` and in the submitter's own feedback report.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import string
from functools import cache
from pathlib import Path

from poverty_pipeline.config import data_docs_dir

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
    """(Re)write the site: the pages of ``resource_identifiers`` (all when None) and the index."""
    context().build_data_docs(site_names=[SITE_NAME], resource_identifiers=resource_identifiers)
    log.info("Great Expectations Data Docs: %s", index_path())
    return index_path()


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


def publish_submission_validations(results: list, run_name: str, batch_name: str) -> Path | None:
    """Store the results of one ingest batch (one per sheet), values removed, and update the site."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if not results:
        return None
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
    return build(keys)
