"""The quality gate on the marts: a Great Expectations checkpoint run after dbt.

Each rule has one owner (docs/operations.md, "Who checks what"). Identities between rows —
area totals and their children, rates and their counts, flows, continuity between years — are
dbt tests, which run first and fail the build themselves. The gate keeps what no dbt test
says: coverage, that everything expected is there (every commune of a review year present or
reported missing, every area and year under every standard), reported in Vietnamese and English
and published in the Data Docs. Its rules are the suites in ``expectations/marts/``
(reviewable JSON), one per check view of ``dbt_project/models/quality/`` — views that reshape
the marts into one row per thing to check with the same key columns, so a violation names its
mart, area, year, standard and measure with the value found and the value expected. Every
expectation says its ``meta.kind``, one of ``GATE_KINDS``.

The checkpoint updates the Data Docs site; a violation fails the task with a readable report.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from poverty_pipeline.config import EXPECTATIONS_DIR

log = logging.getLogger(__name__)

SUITES_DIR = EXPECTATIONS_DIR / "marts"
CHECKPOINT_NAME = "marts_quality_gate"
DATASOURCE_NAME = "warehouse"
KEY_COLUMNS = ["mart", "area_level", "area_code", "review_year", "standard_code", "detail", "measure"]
REPORT_COLUMNS = [*KEY_COLUMNS, "found", "expected"]
ROWS_SHOWN = 50  # per failed rule in the report; the count is always complete
# What the gate owns; an identity dbt can state is a dbt test instead (tests/unit/test_gate_ownership.py)
GATE_KINDS = ("coverage",)


class QualityGateFailed(RuntimeError):
    """The marts break a rule; the message is the readable report."""


@dataclass
class Violation:
    suite: str
    rule: str
    message_vi: str
    message_en: str
    count: int
    rows: list[dict] = field(default_factory=list)


@dataclass
class GateReport:
    success: bool
    checked: dict[str, int]  # suite → rows checked
    violations: list[Violation]
    data_docs: str | None = None

    def text(self) -> str:
        if self.success:
            return (f"Kiểm tra chất lượng marts: đạt / marts quality gate passed "
                    f"({sum(self.checked.values())} rows in {len(self.checked)} checks)")
        lines = ["Kiểm tra chất lượng marts: KHÔNG ĐẠT / marts quality gate FAILED"]
        for v in self.violations:
            lines.append(f"\n[{v.rule}] {v.suite}: {v.count} vi phạm / violation(s)")
            lines.append(f"  {v.message_vi} / {v.message_en}")
            for row in v.rows[:ROWS_SHOWN]:
                where = ", ".join(f"{k}={row.get(k)}" for k in KEY_COLUMNS if row.get(k) not in (None, ""))
                lines.append(f"  - {where}: expected {row.get('expected')}, found {row.get('found')}")
            if v.count > ROWS_SHOWN:
                lines.append(f"  … {v.count - ROWS_SHOWN} more")
        if self.data_docs:
            lines.append(f"\nData Docs: {self.data_docs}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"success": self.success, "checked": self.checked, "data_docs": self.data_docs,
                "violations": {v.rule + " " + v.suite: v.count for v in self.violations}}


def suite_files() -> list[Path]:
    return sorted(SUITES_DIR.glob("*.json"))


def _checkpoint(context, warehouse_url_env: str):
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    # The connection string is a ${VAR} placeholder GX resolves from the environment: the
    # password never enters GX's configuration.
    source = context.data_sources.add_or_update_postgres(
        DATASOURCE_NAME, connection_string="${" + warehouse_url_env + "}"
    )
    definitions = []
    for path in suite_files():
        spec = json.loads(path.read_text("utf-8"))
        asset_spec = spec["meta"]["asset"]
        suite = context.suites.add_or_update(gx.ExpectationSuite(**spec))
        asset_name = f"{asset_spec['schema']}.{asset_spec['table']}"
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_table_asset(asset_name, table_name=asset_spec["table"],
                                           schema_name=asset_spec["schema"])
        try:
            batch = asset.get_batch_definition("whole_table")
        except (KeyError, LookupError):
            batch = asset.add_batch_definition_whole_table("whole_table")
        definitions.append(context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=spec["name"], data=batch, suite=suite)
        ))
    return context.checkpoints.add_or_update(gx.Checkpoint(
        name=CHECKPOINT_NAME,
        validation_definitions=definitions,
        actions=[UpdateDataDocsAction(name="update_data_docs")],
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": REPORT_COLUMNS},
    ))


def _row_counts(url: str) -> dict[str, int]:
    import psycopg
    from psycopg import sql

    counts = {}
    with psycopg.connect(url) as conn:
        for path in suite_files():
            spec = json.loads(path.read_text("utf-8"))
            asset = spec["meta"]["asset"]
            counts[spec["name"]] = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(asset["schema"], asset["table"]))
            ).fetchone()[0]
    return counts


def run_gate(url: str | None = None, run_name: str | None = None,
             raise_on_failure: bool = True) -> GateReport:
    """Validate the check views against the suites; update Data Docs; raise
    ``QualityGateFailed`` with the readable report when a rule is broken."""
    import os

    from great_expectations.core.run_identifier import RunIdentifier

    from poverty_pipeline.config import warehouse_url
    from poverty_pipeline.ingest import data_docs

    url = url or warehouse_url()
    # The views' numeric values reach GX as decimals; its warning on showing them as floats is noise.
    logging.getLogger("great_expectations.util").setLevel(logging.ERROR)
    # GX reads the URL from the environment by name (see _checkpoint).
    os.environ["POVERTY_QUALITY_GATE_URL"] = url
    checkpoint = _checkpoint(data_docs.context(), "POVERTY_QUALITY_GATE_URL")
    result = checkpoint.run(run_id=RunIdentifier(run_name=data_docs.safe_name(run_name or CHECKPOINT_NAME)))

    violations = []
    for validation in result.run_results.values():
        for item in validation.results:
            config = item.expectation_config
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"quality gate: {config.type} on {validation.suite_name} failed to run: "
                                   f"{item.exception_info.get('exception_message')}")
            if item.success:
                continue
            meta = config.meta or {}
            rows = item.result.get("unexpected_index_list") or []
            violations.append(Violation(
                suite=validation.suite_name,
                rule=meta.get("rule", config.type),
                message_vi=meta.get("message_vi", ""),
                message_en=meta.get("message_en", ""),
                count=int(item.result.get("unexpected_count") or len(rows)),
                rows=[{k: _plain(v) for k, v in row.items()} for row in rows],
            ))
    report = GateReport(success=bool(result.success), checked=_row_counts(url), violations=violations,
                        data_docs=str(data_docs.index_path()))
    if report.success:
        log.info(report.text())
    elif raise_on_failure:
        raise QualityGateFailed(report.text())
    return report


def _plain(value: object) -> object:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
