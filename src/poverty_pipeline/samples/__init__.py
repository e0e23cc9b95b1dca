"""Synthetic, contract-conforming commune submissions for tests, demos and benchmarks."""

from poverty_pipeline.samples.generate import (
    GenerationSummary,
    Submission,
    build_submissions,
    generate_submissions,
    render,
    to_json_bytes,
    to_xlsx_bytes,
)

__all__ = [
    "GenerationSummary",
    "Submission",
    "build_submissions",
    "generate_submissions",
    "render",
    "to_json_bytes",
    "to_xlsx_bytes",
]
