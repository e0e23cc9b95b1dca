"""One owner per rule on the marts: an identity between rows is a dbt test, coverage is the
quality gate's (docs/operations.md, "Who checks what"). Read from the files, no warehouse: a
gate suite that states an identity, or a check view both the gate and dbt check, fails here."""

from __future__ import annotations

import json

import pytest
import yaml

from poverty_pipeline.config import DBT_PROJECT_DIR
from poverty_pipeline.quality.gate import GATE_KINDS, suite_files

QUALITY_DIR = DBT_PROJECT_DIR / "models" / "quality"


def gate_expectations() -> list[tuple[str, dict]]:
    """(check view, expectation) for every expectation of the gate's suites."""
    found = []
    for path in suite_files():
        spec = json.loads(path.read_text("utf-8"))
        found += [(spec["meta"]["asset"]["table"], e) for e in spec["expectations"]]
    return found


def dbt_tests_of_views() -> dict[str, list[dict]]:
    """Check view → its dbt data tests (name → arguments), from the quality models' YAML."""
    tests: dict[str, list[dict]] = {}
    for path in QUALITY_DIR.glob("*.yml"):
        for model in yaml.safe_load(path.read_text("utf-8")).get("models") or []:
            listed = model.get("data_tests") or []
            listed += [t for c in model.get("columns") or [] for t in c.get("data_tests") or []]
            tests[model["name"]] = [t if isinstance(t, dict) else {t: {}} for t in listed]
    return tests


def test_the_gate_checks_only_what_it_owns():
    expectations = gate_expectations()
    assert expectations
    for view, expectation in expectations:
        meta = expectation.get("meta") or {}
        assert meta.get("kind") in GATE_KINDS, (view, meta.get("rule"))
        assert meta.get("message_vi") and meta.get("message_en"), (view, meta.get("rule"))
        # found = expected is an identity: dbt's found_equals_expected says it, once
        assert not (expectation["type"] == "expect_column_pair_values_to_be_equal"
                    and {expectation["kwargs"]["column_A"], expectation["kwargs"]["column_B"]}
                    == {"found", "expected"}), (view, meta.get("rule"))


def test_every_check_view_has_exactly_one_owner():
    gate = {view for view, _ in gate_expectations()}
    dbt = {view for view, tests in dbt_tests_of_views().items() if tests}
    views = {path.stem for path in QUALITY_DIR.glob("*.sql")}
    assert gate & dbt == set(), "checked by both the gate and dbt"
    assert views - gate - dbt == set(), "checked by nobody"
    assert (gate | dbt) - views == set(), "a rule on a view that does not exist"


@pytest.mark.parametrize("view", sorted(v for v, tests in dbt_tests_of_views().items() if tests))
def test_a_dbt_owned_check_keeps_the_message_in_both_languages(view):
    for test in dbt_tests_of_views()[view]:
        ((name, spec),) = test.items()
        arguments = (spec or {}).get("arguments") or {}
        assert name == "found_equals_expected" and arguments.get("message_vi") and arguments.get(
            "message_en"), (view, test)
