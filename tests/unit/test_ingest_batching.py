"""The nightly ingest's mapped tasks: consecutive periods joined until a task holds enough
files, every period in exactly one task, in order, never split."""

from __future__ import annotations

import pytest

from poverty_pipeline.orchestration.batching import group_periods


def batches(**files_by_period: int) -> list[dict]:
    return [{"period": p.replace("_", "-"), "files": [f"{p}/{i}" for i in range(n)]}
            for p, n in files_by_period.items()]


def test_small_periods_share_a_task_until_it_holds_enough_files():
    got = group_periods(batches(p2021_10=1, p2021_11=1, p2021_12=2, p2021_Q4=25, p2022_01=3), 4)
    assert [(g["period"], g["periods"], len(g["files"])) for g in got] == [
        ("p2021-10 … p2021-12", ["p2021-10", "p2021-11", "p2021-12"], 4),
        ("p2021-Q4", ["p2021-Q4"], 25),  # enough on its own: a task of its own
        ("p2022-01", ["p2022-01"], 3),  # the rest, fewer
    ]


def test_a_large_period_is_never_split():
    (got,) = group_periods(batches(y2023=500), 100)
    assert (got["period"], got["periods"], len(got["files"])) == ("y2023", ["y2023"], 500)


@pytest.mark.parametrize("min_files", [1, 3, 10, 1000])
def test_every_file_and_period_once_in_order(min_files):
    given = batches(a=0, b=2, c=7, d=1, e=0, f=4, g=1)
    got = group_periods(given, min_files)
    assert [p for g in got for p in g["periods"]] == [b["period"] for b in given]
    assert [f for g in got for f in g["files"]] == [f for b in given for f in b["files"]]
    assert all(len(g["files"]) >= min_files for g in got[:-1])
    # a task closes as soon as it holds enough: without its last period it held too few
    for g in got[:-1]:
        last = next(b for b in given if b["period"] == g["periods"][-1])
        assert len(g["files"]) - len(last["files"]) < min_files


def test_nothing_new_is_no_task():
    assert group_periods([], 100) == []


def test_a_task_is_named_within_what_airflow_stores_whatever_the_folders_are_called():
    long = [{"period": "x" * 255, "files": ["a"]}, {"period": "y" * 255, "files": ["b"]}]
    for got in (group_periods(long, 1), group_periods(long, 2)):
        assert all(len(g["period"]) <= 200 for g in got)
        assert [p for g in got for p in g["periods"]] == ["x" * 255, "y" * 255]  # kept whole
