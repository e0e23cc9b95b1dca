"""Files read side by side by a pool of reader processes: results in the files' order, every
reader busy at once, a bounded read-ahead, a file that ends its reader rejected alone."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from support.builders import household, json_bytes, submission

from poverty_pipeline.ingest.read_pool import ReadPool
from poverty_pipeline.ingest.read_worker import Request

CONTRACT = "commune_household_review"


def request(name: str, households: int = 3) -> Request:
    doc = submission(households=[household(f"HO{i:06d}") for i in range(households)])
    return Request(f"communes/2021/{name}.json", name, json_bytes(doc), CONTRACT)


def test_submissions_come_back_in_the_files_order_read_by_every_reader():
    requests = [request(f"f{i:02d}", households=40 - 3 * i) for i in range(12)]  # the first slowest
    with ReadPool(3) as pool:
        subs = list(pool.map(lambda r, reader: reader.prepare(r), requests))
        pids = {reader.proc.pid for reader in pool.readers}
    assert [s.submission_id for s in subs] == [r.submission_id for r in requests]
    assert [len(s.tables["danh_sach_ho"]) for s in subs] == [40 - 3 * i for i in range(12)]
    assert all(s.problems == [] for s in subs)
    assert len(pids) == 3  # three reader processes


def test_readers_read_at_once_and_no_more_than_twice_their_number_ahead():
    running = peak = taken = 0
    lock = threading.Lock()
    ahead = []

    def take(item, reader):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            ahead.append(item - taken)  # how far past the item the ingest is on
        time.sleep(0.05)
        with lock:
            running -= 1
        return item

    with ReadPool(2) as pool:
        for item in pool.map(take, range(20)):
            assert item == taken
            taken += 1
    assert peak == 2 and max(ahead) <= 2 * 2


def test_an_error_comes_where_its_file_would_and_later_files_are_not_read():
    taken = []

    def take(item, reader):
        taken.append(item)
        if item == 3:
            raise ConnectionError("the landing went away")
        return item

    got = []
    with ReadPool(2) as pool, pytest.raises(ConnectionError):
        for item in pool.map(take, range(100)):
            got.append(item)
    assert got == [0, 1, 2]
    assert max(taken) < 3 + 2 * 2 + 1  # what was read ahead, not the other 90-odd files


def test_a_file_ending_its_reader_is_rejected_alone_the_others_read():
    requests = [request("small-a"), request("big", households=100_000), request("small-b"),
                request("small-c")]
    with ReadPool(2) as pool:
        for reader in pool.readers:
            reader.memory_mib = 600
        subs = list(pool.map(lambda r, reader: reader.prepare(r), requests))
    assert [[p.rule for p in s.problems] for s in subs] == [[], ["memory_limit"], [], []]


def test_results_closed_early_leave_no_file_being_read():
    running, taken = [], []

    def take(item, reader):
        running.append(item)
        taken.append(item)
        time.sleep(0.05)
        running.remove(item)
        return item

    with ReadPool(2) as pool, contextlib.closing(pool.map(take, range(100))) as results:
        assert next(results) == 0  # the ingest stops here (a lost warehouse connection)
    assert running == [] and len(taken) <= 1 + 2 * 2
