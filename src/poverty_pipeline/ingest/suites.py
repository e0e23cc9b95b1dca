"""The contract suites as validated: the JSON's rules plus what the contract already says.

A field's ``required: true`` in the contract YAML is the one place a value is required: its
not-null expectation is generated here, so the suite and the contract cannot disagree. The
JSON in ``expectations/suites/`` keeps only what the contract cannot say (sets, ranges,
patterns, uniqueness, conditional requirements such as the month of a regular review); a
plain not-null or a type expectation written there is refused. Value types need no
expectation: the normaliser reads them from the contract and reports a value of the wrong type.

Each generated expectation takes the place a reader expects: just before the first rule on the
same field or on a later one of the sheet (the contract's field order), so a file's problems
keep their order.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from poverty_pipeline.config import EXPECTATIONS_DIR
from poverty_pipeline.reference.contract import Sheet, load_contract

NOT_NULL = "expect_column_values_to_not_be_null"
# Types are the contract's (Field.type, checked while normalising), never a suite's.
TYPE_EXPECTATIONS = ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list")


def suite_path(contract: str, sheet: str) -> Path:
    return EXPECTATIONS_DIR / "suites" / f"{contract}.{sheet}.json"


def required_expectation(code: str) -> dict:
    """The not-null rule of a required field, with the message the submitter reads."""
    return {
        "type": NOT_NULL,
        "kwargs": {"column": code},
        "meta": {
            "rule": "required",
            "message_vi": f"Thiếu giá trị bắt buộc ở cột '{code}'.",
            "message_en": f"Required value missing in column '{code}'.",
        },
        "severity": "critical",
    }


def expectation_column(expectation: dict) -> str | None:
    """The column an expectation is about (the one its problems name)."""
    meta, kwargs = expectation.get("meta") or {}, expectation["kwargs"]
    return meta.get("column") or kwargs.get("column") or kwargs.get("column_A")


def is_required_rule(expectation: dict) -> bool:
    """A plain not-null: the value is required on every row (no ``row_condition``)."""
    return expectation["type"] == NOT_NULL and not expectation["kwargs"].get("row_condition")


def with_contract_rules(definition: dict, sheet: Sheet, source: str = "suite") -> dict:
    """``definition`` (a suite's JSON) with the not-null rule of every required field of
    ``sheet``; refuses a JSON that writes a plain not-null or a type rule itself."""
    for expectation in definition["expectations"]:
        if is_required_rule(expectation) or expectation["type"] in TYPE_EXPECTATIONS:
            raise ValueError(
                f"{source}: {expectation['type']} on {expectation_column(expectation)!r} belongs in "
                f"the contract (required: true / type:), not in the suite"
            )
    position = {f.code: i for i, f in enumerate(sheet.fields)}
    expectations = list(definition["expectations"])
    # last field first: each goes before the first rule on its field or a later one, which by
    # then includes the generated rules of the later fields
    for code in reversed([f.code for f in sheet.fields if f.required]):
        at = next((i for i, e in enumerate(expectations)
                   if position.get(expectation_column(e), -1) >= position[code]), len(expectations))
        expectations.insert(at, required_expectation(code))
    return {**definition, "expectations": expectations}


@cache
def suite_definition(contract: str, sheet: str) -> dict:
    """The suite of ``contract``'s ``sheet`` as validated: its JSON plus the contract's rules."""
    path = suite_path(contract, sheet)
    return with_contract_rules(json.loads(path.read_text("utf-8")),
                               load_contract(contract).sheets[sheet], source=path.name)
