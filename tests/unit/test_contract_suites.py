"""The contract is the one owner of required fields: the suites' not-null rules are generated
from it (poverty_pipeline.ingest.suites), a suite cannot write its own, and a required field without
its not-null rule is caught."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from poverty_pipeline.ingest.suites import (
    NOT_NULL,
    expectation_column,
    is_required_rule,
    suite_definition,
    suite_path,
    with_contract_rules,
)
from poverty_pipeline.reference.contract import Sheet, all_contracts

SHEETS = [(contract, sheet) for contract in all_contracts() for sheet in contract.sheets.values()]
IDS = [f"{contract.name}.{sheet.name}" for contract, sheet in SHEETS]


def requirement_mismatches(definition: dict, sheet: Sheet) -> list[str]:
    """Where a suite and the contract disagree on what is required (empty when they agree)."""
    required = [f.code for f in sheet.fields if f.required]
    not_null = [e["kwargs"]["column"] for e in definition["expectations"] if is_required_rule(e)]
    return ([f"{code}: required by the contract, no not-null rule" for code in required
             if code not in not_null]
            + [f"{code}: not-null rule, not required by the contract" for code in not_null
               if code not in required]
            + [f"{code}: {not_null.count(code)} not-null rules" for code in sorted(set(not_null))
               if not_null.count(code) > 1])


@pytest.mark.parametrize(("contract", "sheet"), SHEETS, ids=IDS)
def test_every_required_field_has_exactly_its_not_null_rule(contract, sheet):
    assert requirement_mismatches(suite_definition(contract.name, sheet.name), sheet) == []


@pytest.mark.parametrize(("contract", "sheet"), SHEETS, ids=IDS)
def test_the_json_keeps_only_what_the_contract_cannot_say(contract, sheet):
    written = json.loads(suite_path(contract.name, sheet.name).read_text("utf-8"))["expectations"]
    assert not [e for e in written if is_required_rule(e)]
    # conditional requirements (the month of a regular review) are the suite's own
    assert all(e["kwargs"].get("row_condition") for e in written if e["type"] == NOT_NULL)


def test_the_check_catches_a_required_field_without_its_rule():
    contract, sheet = next((c, s) for c, s in SHEETS if any(f.required for f in s.fields))
    suite = copy.deepcopy(suite_definition(contract.name, sheet.name))
    dropped = next(e for e in suite["expectations"] if is_required_rule(e))
    suite["expectations"].remove(dropped)
    column = dropped["kwargs"]["column"]
    assert requirement_mismatches(suite, sheet) == [f"{column}: required by the contract, no not-null rule"]
    # and the other way: a field no longer required keeps no rule of its own
    loosened = dataclasses.replace(sheet, fields=tuple(
        dataclasses.replace(f, required=False) if f.code == column else f for f in sheet.fields))
    assert requirement_mismatches(suite_definition(contract.name, sheet.name), loosened) == [
        f"{column}: not-null rule, not required by the contract"]
    written = json.loads(suite_path(contract.name, sheet.name).read_text("utf-8"))
    assert requirement_mismatches(with_contract_rules(written, loosened), loosened) == []


@pytest.mark.parametrize("kind", [{"type": NOT_NULL, "kwargs": {"column": "ma_xa"}},
                                  {"type": "expect_column_values_to_be_of_type",
                                   "kwargs": {"column": "ma_xa", "type_": "str"}}])
def test_a_suite_writing_a_requirement_or_a_type_itself_is_refused(kind):
    contract, sheet = SHEETS[0]
    written = json.loads(suite_path(contract.name, sheet.name).read_text("utf-8"))
    written["expectations"].append({**kind, "meta": {"rule": "x"}, "severity": "critical"})
    with pytest.raises(ValueError, match="belongs in the contract"):
        with_contract_rules(written, sheet)


def test_a_required_rule_comes_before_the_rules_on_its_field():
    """The generated rule stands where it always stood: a missing value is reported before
    what else is wrong with the column, in the contract's field order."""
    expectations = suite_definition("commune_household_review", "thong_tin")["expectations"]
    order = [(expectation_column(e), e["meta"]["rule"]) for e in expectations]
    assert order[:4] == [("ma_tinh", "required"), ("ma_tinh", "allowed_values"),
                         ("ma_xa", "required"), ("ma_xa", "submitter_matches_folder")]
    assert order.index(("nguoi_lap", "required")) < order.index(("ngay_lap", "required")) < order.index(
        ("ngay_lap", "date_not_future"))


def test_the_generated_rule_tells_the_submitter_how_to_fix_it():
    from poverty_pipeline.ingest.feedback import fixes

    assert "required" in fixes()
