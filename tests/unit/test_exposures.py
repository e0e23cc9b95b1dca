"""The dbt exposures (dbt_project/models/exposures.yml) against what reads the models: every
model the pages and the exports select from is declared by an exposure, Metabase's exposure is
every mart, and nothing the BI role reads depends on schema restricted. Reads the manifest
(`make manifest`), no database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import poverty_pipeline
from poverty_pipeline.config import DBT_PROJECT_DIR

PACKAGE = Path(poverty_pipeline.__file__).parent
# The modules that read the models for the pages and the exports, by exposure
READERS = {
    "ui/queries.py": {"ui_submissions_page", "ui_poverty_page", "ui_district_page", "ui_commune_page",
                      "ui_flows"},
    "reporting/followup.py": {"follow_up_workbooks"},
    "reporting/review_report.py": {"review_summary_workbooks"},
    "quality/reconcile.py": {"reconciliation_warnings"},
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text("utf-8"))


def models_of(manifest: dict, exposures: set[str]) -> set[str]:
    found = {e["name"]: e for e in manifest["exposures"].values()}
    assert exposures <= set(found), exposures - set(found)
    return {manifest["nodes"][node]["name"] for name in exposures
            for node in found[name]["depends_on"]["nodes"]}


@pytest.mark.parametrize("module", sorted(READERS))
def test_every_model_a_reader_selects_from_is_in_its_exposures(manifest, module):
    text = (PACKAGE / module).read_text("utf-8")
    read = set(re.findall(r"\b(?:from|join)\s+(?:marts|restricted)\.(\w+)", text))
    assert read, module
    assert read <= models_of(manifest, READERS[module]), module


def test_metabase_is_every_mart_and_nothing_restricted(manifest):
    schemas = {n["name"]: n["schema"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    marts = {name for name, schema in schemas.items() if schema == "marts"}
    assert models_of(manifest, {"metabase"}) == marts
    restricted = {name for name, schema in schemas.items() if schema == "restricted"}
    assert restricted >= {"rst_follow_up_list", "rst_submission_status"}
