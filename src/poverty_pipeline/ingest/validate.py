"""Validate normalised submissions with the contract's Great Expectations suites.

The suites are reviewable JSON files in ``expectations/suites/`` (one per sheet), completed with
the contract's required fields (``poverty_pipeline.ingest.suites``). The submissions of one
part of a batch (``config.ingest_part_rows``) are validated at once — every sheet's rows of
every file of the part in one frame, tagged with the submission and row — and each unexpected
value comes back as a Problem on the right file, sheet, row and column. GX severity ``critical`` rejects
the file; ``warning`` does not. Each expectation's ``meta`` carries the rule name and its
Vietnamese and English message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
from collections.abc import Iterable
from functools import cache

import pandas as pd

from poverty_pipeline.ingest.problems import Problem, quote
from poverty_pipeline.ingest.submission import Submission
from poverty_pipeline.ingest.suites import suite_definition
from poverty_pipeline.reference.contract import Contract, load_contract

INDEX_COLUMNS = ["_submission_id", "_row_number"]


def value_sets(contract: str, sheets: Iterable[str]) -> dict[tuple[str, str], list[str]]:
    """The allowed codes per (sheet, column), read from the suites' in-set expectations,
    so the normaliser canonicalises values to exactly what the suite accepts.

    A set given as a run-time ``$PARAMETER`` is used too when the expectation's ``meta``
    says ``"canonicalise": true`` (agency codes: ``ubnd-815`` → ``UBND-815``).
    """
    sets: dict[tuple[str, str], list[str]] = {}
    for sheet in sheets:
        for exp in suite_definition(contract, sheet)["expectations"]:
            values = exp["kwargs"].get("value_set")
            if (isinstance(values, dict) and "$PARAMETER" in values
                    and (exp.get("meta") or {}).get("canonicalise")):
                values = PARAMETERS[values["$PARAMETER"]]()
            if (exp["type"] == "expect_column_values_to_be_in_set" and isinstance(values, list)
                    and all(isinstance(v, str) for v in values)):
                sets[(sheet, exp["kwargs"]["column"])] = values
    return sets


def _agency_codes() -> list[str]:
    from poverty_pipeline.reference.registry import agency_codes

    return sorted(agency_codes())


# Run-time values the suites refer to as ``$PARAMETER``, by name; a contract lists the ones
# its suites use (``suite_parameters``). Reference lists are read from the dbt seeds, so the
# warehouse and the ingest checks share one list (commune codes are checked on the review date
# through the contract's helper columns, see poverty_pipeline.reference.admin_units).
PARAMETERS = {
    "agency_codes": _agency_codes,
}


def parameters(today: dt.date | None = None, names: Iterable[str] | None = None) -> dict[str, object]:
    """Run-time values the suites refer to as ``$PARAMETER`` (all of them, or ``names``)."""
    wanted = set(PARAMETERS) | {"today", "this_year"} if names is None else set(names)
    values: dict[str, object] = {name: PARAMETERS[name]() for name in PARAMETERS if name in wanted}
    today = today or dt.date.today()
    if "today" in wanted:
        values["today"] = pd.Timestamp(today)
    if "this_year" in wanted:  # a review or report of a later year is not yet possible
        values["this_year"] = today.year
    return values


@cache
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def start_warming_up() -> threading.Thread:
    """Import Great Expectations and make its context in a thread of its own, while the batch's
    files are read (the reading is a worker process's: this process waits on it). Importing GX
    takes seconds, the fixed cost of every batch; a failure here is met again, and reported, when
    the batch is validated."""

    def warm_up() -> None:
        with contextlib.suppress(Exception):
            _context()

    thread = threading.Thread(target=warm_up, name="gx-warm-up", daemon=True)
    thread.start()
    return thread


def _suite(contract: str, sheet: str):
    import great_expectations as gx

    definition = dict(suite_definition(contract, sheet))
    return gx.ExpectationSuite(**definition)


def _helper_value(value: object, kind: str) -> object:
    if value is None or value == "":
        return pd.NA
    if kind == "integer":
        return int(value)
    if kind == "date":
        return pd.Timestamp(value)
    return value


def sheet_frames(subs: list[Submission], contract: Contract | None = None) -> dict[str, pd.DataFrame]:
    """One frame per sheet with the rows of every submission, tagged for attribution, with
    the contract's helper columns (``validation_columns``: the folder's period, the review
    year, the report date …) the suites compare against."""
    contract = contract or load_contract()
    info_sheet = contract.info_sheet
    helpers = contract.validation_columns
    frames: dict[str, list[pd.DataFrame]] = {}
    for sub in subs:
        computed = {
            sheet: {col: _helper_value(spec.evaluate(sub.info, {}, sub.path_period, sub.path_submitter),
                                       spec.type)
                    for col, spec in columns.items() if not spec.rows}
            for sheet, columns in helpers.items()
        }
        info = pd.DataFrame([{**sub.info, "_row_number": 0}])
        for col, value in computed.get(info_sheet.name, {}).items():
            info[col] = value
        frames.setdefault(info_sheet.name, []).append(info.assign(_submission_id=sub.submission_id))
        for sheet, table in sub.tables.items():
            tagged = table.assign(_submission_id=sub.submission_id)
            for col, value in computed.get(sheet, {}).items():
                tagged[col] = value
            for col, spec in helpers.get(sheet, {}).items():
                if spec.rows:
                    values = table[spec.field].tolist() if spec.field in table else [None] * len(table)
                    tagged[col] = pd.array(spec.evaluate_rows(values, sub.info, sub.path_period),
                                           dtype="object")
            frames.setdefault(sheet, []).append(tagged)
    combined = {}
    for sheet, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        fields = contract.sheets[sheet].fields
        types = {col: spec.type for col, spec in helpers.get(sheet, {}).items()}
        if sheet == info_sheet.name:  # one-row frames: pandas cannot infer nullable types
            types.update({f.code: f.type for f in fields if f.type == "integer"})
        types.update({f.code: f.type for f in fields if f.type == "date"})
        for col, kind in types.items():
            if col not in frame:
                continue
            if kind == "integer":
                frame[col] = frame[col].astype("Int64")
            elif kind == "date":
                frame[col] = pd.to_datetime(frame[col])
        combined[sheet] = frame
    return combined


def validate_batch(
    subs: list[Submission],
    contract: str,
    sheet_columns: dict[str, list[str]],
    today: dt.date | None = None,
) -> list:
    """Run the suites over ``subs`` and add every unexpected value to its submission; return
    the suites' results, one per sheet (for Data Docs)."""
    if not subs:
        return []
    results = []
    by_id = {sub.submission_id: sub for sub in subs}
    spec = load_contract(contract)
    context = _context()
    source = context.data_sources.add_or_update_pandas(f"{contract}_batch")
    params = parameters(today, spec.suite_parameters or None)
    for sheet, frame in sheet_frames(subs, spec).items():
        # A column no file had (all missing-column errors) still has to exist for the suite.
        for col in sheet_columns[sheet]:
            if col not in frame:
                frame[col] = pd.NA
        asset = source.add_dataframe_asset(sheet)
        batch = asset.add_batch_definition_whole_dataframe(sheet).get_batch(
            batch_parameters={"dataframe": frame}
        )
        result = batch.validate(
            _suite(contract, sheet),
            expectation_parameters=params,
            result_format={"result_format": "COMPLETE",
                           "unexpected_index_column_names": index_columns(contract, sheet, frame)},
        )
        results.append(result)
        # in the suite's order (GX reports them in an order of its own): a file's problems
        # come in the same order whatever else the batch holds
        order = suite_order(contract, sheet)
        for exp_result in sorted(result.results, key=lambda r: order.get(_expectation_key(
                r.expectation_config.type, r.expectation_config.meta), len(order))):
            if exp_result.success:
                continue
            config = exp_result.expectation_config
            if exp_result.exception_info and exp_result.exception_info.get("raised_exception"):
                raise RuntimeError(f"expectation {config.type} on {sheet} failed to run: "
                                   f"{exp_result.exception_info.get('exception_message')}")
            for found in _problems(sheet, config, exp_result.result):
                sub_id, prob = found
                sub = by_id[sub_id]
                if prob.sheet == spec.info_sheet.name:
                    prob = _with_row(prob, sub.info_rows.get(prob.column_name))
                if (prob.sheet, prob.row_number, prob.column_name) in sub.bad_cells:
                    continue  # already reported as a value of the wrong type
                sub.add(prob)
    return results


def _expectation_key(kind: str, meta: dict | None) -> str:
    return kind + json.dumps(meta or {}, sort_keys=True, ensure_ascii=False)


@cache
def suite_order(contract: str, sheet: str) -> dict[str, int]:
    """Each expectation's place in its suite file, by its type and ``meta``."""
    expectations = suite_definition(contract, sheet)["expectations"]
    return {_expectation_key(e["type"], e.get("meta")): i for i, e in reversed(list(enumerate(expectations)))}


def index_columns(contract: str, sheet: str, frame: pd.DataFrame) -> list[str]:
    """The columns each unexpected row is reported with: its submission and row, and the
    columns the suite's messages name (``meta.column``, ``meta.details``)."""
    named = []
    for exp in suite_definition(contract, sheet)["expectations"]:
        meta = exp.get("meta") or {}
        named += [meta.get("column"), *(meta.get("details") or {}).values()]
    return INDEX_COLUMNS + sorted({c for c in named if c and c in frame and c not in INDEX_COLUMNS})


def _with_row(prob: Problem, row: int | None) -> Problem:
    from dataclasses import replace

    return replace(prob, row_number=row)


def _problems(sheet: str, config, result: dict) -> Iterable[tuple[str, Problem]]:
    kwargs, meta = config.kwargs, config.meta or {}
    column = meta.get("column") or kwargs.get("column")
    severity = "warning" if str(config.severity).lower().endswith("warning") else "error"
    for item in result.get("unexpected_index_list") or []:
        value = item.get(column)
        if value is not None and pd.isna(value):
            value = None
        if isinstance(value, pd.Timestamp):
            value = value.date().isoformat()
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        text = quote(value)
        row = item.get("_row_number")
        details = {"value": text or ""}
        for name, source in (meta.get("details") or {}).items():
            detail = item.get(source)
            details[name] = "" if detail is None or pd.isna(detail) else str(detail)
        yield item["_submission_id"], Problem(
            severity=severity,
            rule=meta.get("rule", config.type),
            message_vi=_fill(meta.get("message_vi", config.type), details),
            message_en=_fill(meta.get("message_en", config.type), details),
            sheet=sheet,
            row_number=int(row) if row is not None and not pd.isna(row) else None,
            column_name=column,
            value=text,
        )


def _fill(message: str, details: dict[str, str]) -> str:
    """The message with its ``{name}`` placeholders filled (other braces left alone)."""
    for name, text in details.items():
        message = message.replace("{" + name + "}", text)
    return message
