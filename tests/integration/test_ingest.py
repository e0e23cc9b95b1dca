"""Ingest against a real PostgreSQL: accepted files load whole and once, rejected files load
nothing and get exactly their problem rows, and a bad file never stops the good ones."""

from __future__ import annotations

import psycopg
import pytest
from support import ingest_checks
from support.builders import household, json_bytes, land, submission, variant, xlsx_bytes
from support.ingest_checks import messages, problems, recorded

from poverty_pipeline.ingest.discover import content_hash
from poverty_pipeline.reference.admin_units import successions_2025_from_package
from poverty_pipeline.samples import generate_submissions
from poverty_pipeline.warehouse.database import connect


def run_ingest(url: str, landing) -> dict[str, str]:
    return ingest_checks.run_ingest(url, landing)


def raw_counts(url: str) -> dict[str, int]:
    return ingest_checks.raw_counts(
        url, ("commune_submission_info", "commune_area_totals", "commune_households"))


GOOD = submission()

BAD_CASES = {
    # name → (bytes, expected problem rows: severity, sheet, row, column, value, rule)
    "unreadable.xlsx": (b"PK\x03\x04 this is not a workbook", [
        ("error", None, None, None, "communes/2021/unreadable.xlsx", "unreadable_file"),
    ]),
    "missing_sheet.xlsx": (xlsx_bytes(GOOD, sheets=("thong_tin", "danh_sach_ho")), [
        ("error", "tong_hop", None, None, None, "missing_sheet"),
    ]),
    "missing_column.json": (json_bytes(variant(GOOD, danh_sach_ho=[
        {k: v for k, v in h.items() if k != "thu_nhap_binh_quan"} for h in GOOD["danh_sach_ho"]
    ])), [
        ("error", "danh_sach_ho", None, "thu_nhap_binh_quan", None, "missing_column"),
        ("error", "danh_sach_ho", 1, "thu_nhap_binh_quan", None, "required"),
        ("error", "danh_sach_ho", 2, "thu_nhap_binh_quan", None, "required"),
        ("error", "danh_sach_ho", 3, "thu_nhap_binh_quan", None, "required"),
    ]),
    "unknown_commune.json": (json_bytes(submission(ma_xa="99999")), [
        ("error", "thong_tin", 2, "ma_xa", "99999", "known_commune"),
    ]),
    "duplicate_household.xlsx": (xlsx_bytes(submission(households=[
        household("HO001"), household("HO002"), household("HO001", ho_ten_chu_ho="Lê Văn Cường"),
    ])), [
        ("error", "danh_sach_ho", 2, "ma_ho", "HO001", "unique_household"),
        ("error", "danh_sach_ho", 4, "ma_ho", "HO001", "unique_household"),
    ]),
    "text_income.json": (json_bytes(submission(households=[
        household("HO001"), household("HO002", thu_nhap_binh_quan="một triệu"),
    ])), [
        ("error", "danh_sach_ho", 2, "thu_nhap_binh_quan", "một triệu", "not_number"),
    ]),
}


# The ingest reads, validates and records a batch in parts of so many rows (ingest_part_rows):
# one part for the whole batch, or a part for every file; the outcomes must not differ.
PARTS = {"one part": "1000000", "a part per file": "1"}


@pytest.fixture(params=sorted(PARTS))
def mixed_run(warehouse, landing, monkeypatch, request):
    monkeypatch.setenv("POVERTY_INGEST_PART_ROWS", PARTS[request.param])
    land(landing, "good.xlsx", xlsx_bytes(GOOD, labels=True))
    land(landing, "good_other.json", json_bytes(submission(ma_xa="28252")))
    for name, (data, _) in BAD_CASES.items():
        land(landing, name, data)
    return warehouse, run_ingest(warehouse, landing)


def test_good_files_load_while_bad_ones_are_rejected(mixed_run):
    url, statuses = mixed_run
    assert statuses == {
        "communes/2021/good.xlsx": "accepted",
        "communes/2021/good_other.json": "accepted",
        **{f"communes/2021/{name}": "rejected" for name in BAD_CASES},
    }
    # Only the two good files are in raw: 1 info row, 1 area row and 3 households each.
    assert raw_counts(url) == {
        "commune_submission_info": 2, "commune_area_totals": 2, "commune_households": 6,
    }


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_each_rejection_has_exactly_its_problem_rows(mixed_run, name):
    url, _ = mixed_run
    assert problems(url, f"communes/2021/{name}") == BAD_CASES[name][1]


def test_problem_rows_carry_messages_in_both_languages(mixed_run):
    url, _ = mixed_run
    [(_, _, vi, en)] = messages(url, "known_commune")
    assert vi == ("Mã xã '99999' không phải là xã, phường, thị trấn của tỉnh vào kỳ rà soát (theo danh "
                  "mục đơn vị hành chính tại ngày cuối kỳ). Kiểm tra lại mã xã.")
    assert en == ("Commune code '99999' is not a commune of the province on the review date (the "
                  "administrative-unit list on the last day of the review period). Check the commune code.")


def test_vietnamese_headers_load_the_same_values_as_codes(warehouse, landing):
    land(landing, "labels.xlsx", xlsx_bytes(GOOD, labels=True))
    land(landing, "codes.json", json_bytes(submission(ma_xa="28252")), year=2021)
    run_ingest(warehouse, landing)
    with connect(warehouse) as conn:
        rows = conn.execute(
            """select i.ma_xa, h.ma_ho, h.khu_vuc, h.thu_nhap_binh_quan, h.td_bhyt, h.phan_loai_cua_xa
                 from raw.commune_households h join raw.commune_submission_info i using (submission_id)
                order by 1, 2"""
        ).fetchall()
    assert [r[1:] for r in rows if r[0] == "28249"] == [r[1:] for r in rows if r[0] == "28252"]
    assert rows[0][1:] == ("HO001", "nong_thon", 1_200_000, 1, "ngheo")


def test_same_file_twice_loads_once(warehouse, landing):
    data = json_bytes(GOOD)
    land(landing, "first.json", data)
    land(landing, "copy of first.json", data)
    assert run_ingest(warehouse, landing) == {"communes/2021/copy of first.json": "accepted"}
    assert run_ingest(warehouse, landing) == {}  # nothing new on the next run
    assert raw_counts(warehouse)["commune_households"] == 3


def test_newest_accepted_submission_supersedes_the_earlier(warehouse, landing):
    land(landing, "v1.json", json_bytes(GOOD))
    run_ingest(warehouse, landing)
    correction = submission(households=[household("HO001"), household("HO002")])
    land(landing, "v2.json", json_bytes(correction))
    run_ingest(warehouse, landing)
    assert recorded(warehouse) == [
        ("communes/2021/v1.json", "superseded", content_hash(json_bytes(correction))),
        ("communes/2021/v2.json", "accepted", None),
    ]


def test_year_in_file_must_match_the_folder(warehouse, landing):
    land(landing, "wrong_year.json", json_bytes(GOOD), year=2022)
    assert run_ingest(warehouse, landing) == {"communes/2022/wrong_year.json": "rejected"}
    assert problems(warehouse, "communes/2022/wrong_year.json") == [
        ("error", "thong_tin", 3, "nam_ra_soat", "2021", "year_matches_path"),
    ]


def test_rejected_file_loads_nothing_even_when_most_rows_are_fine(warehouse, landing):
    rows = [household(f"HO{i:03d}") for i in range(200)] + [household("HO999", so_nhan_khau=0)]
    land(landing, "one_bad_row.json", json_bytes(submission(households=rows)))
    assert run_ingest(warehouse, landing) == {"communes/2021/one_bad_row.json": "rejected"}
    assert problems(warehouse, "communes/2021/one_bad_row.json") == [
        ("error", "danh_sach_ho", 201, "so_nhan_khau", "0", "range"),
    ]
    assert raw_counts(warehouse)["commune_households"] == 0


def test_a_warehouse_that_is_down_fails_loudly():
    with pytest.raises(psycopg.OperationalError):
        connect("postgresql://postgres@127.0.0.1:1/none", connect_timeout=2)


def test_sample_files_of_every_review_date_are_accepted(warehouse, landing):
    """The generator's files follow the contract on each date's units: a 2025 unit lists its own
    households unprefixed and those of the communes it took in under their former codes."""
    merged = [code for code, new in successions_2025_from_package().items() if new == "28249"]
    generate_submissions(landing, years=(2023, 2024, 2025), communes=merged, scale=0.05, workers=1)
    outcomes = run_ingest(warehouse, landing)
    assert any(path.startswith("communes/2025/28249_") for path in outcomes)
    rejected = {path: problems(warehouse, path) for path, status in outcomes.items()
                if status == "rejected"}
    assert not rejected


def test_a_batch_is_validated_and_recorded_part_by_part(warehouse, landing, monkeypatch):
    """Each part of a batch is validated and recorded after the one before it, while the next
    is read, so the ingest holds two parts' rows at a time however many files land; a rejection
    in one part leaves the others loaded."""
    from poverty_pipeline.ingest import batch

    monkeypatch.setenv("POVERTY_INGEST_PART_ROWS", "4")
    seen: list[tuple[list[str], int]] = []  # each validation: its files, the files recorded before

    def spy(subs, *args, **kwargs):
        with connect(warehouse) as conn:
            recorded_before = conn.execute("select count(*) from audit.submissions").fetchone()[0]
        seen.append(([s.path for s in subs], recorded_before))
        return validate_batch(subs, *args, **kwargs)

    validate_batch = batch.validate_batch
    monkeypatch.setattr(batch, "validate_batch", spy)
    for code in ("28249", "28252", "28261"):  # 3 households and an area row: a part apiece
        land(landing, f"{code}.json", json_bytes(submission(ma_xa=code)))
    land(landing, "28264.json", json_bytes(submission(ma_xa="28264", households=[
        household("HO001"), household("HO002", thu_nhap_binh_quan="một triệu")])))
    statuses = run_ingest(warehouse, landing)
    assert [(len(paths), before) for paths, before in seen] == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert sorted(statuses.values()) == ["accepted"] * 3 + ["rejected"]
    assert raw_counts(warehouse)["commune_households"] == 9


def test_the_next_part_is_read_while_a_part_is_validated(warehouse, landing, monkeypatch):
    """The first part's validation waits until the third file has been read. One reader reads
    at most two files ahead of the one the ingest takes, so that file is read only because the
    ingest went on to the second part meanwhile; taken one after the other, the parts would
    wait for each other (and this validation would time out waiting)."""
    import threading

    from poverty_pipeline.ingest import batch

    monkeypatch.setenv("POVERTY_INGEST_PART_ROWS", "4")  # a file a part
    monkeypatch.setenv("POVERTY_INGEST_READERS", "1")
    third_read = threading.Event()
    overlapped: list[bool] = []

    def spy_take_in(root, landed, *args, **kwargs):
        sub = take_in(root, landed, *args, **kwargs)
        if landed.path.endswith("28261.json"):
            third_read.set()
        return sub

    def spy_validate(subs, *args, **kwargs):
        if not overlapped:
            overlapped.append(third_read.wait(timeout=30))
        return validate_batch(subs, *args, **kwargs)

    take_in, validate_batch = batch.take_in, batch.validate_batch
    monkeypatch.setattr(batch, "take_in", spy_take_in)
    monkeypatch.setattr(batch, "validate_batch", spy_validate)
    for code in ("28249", "28252", "28261"):
        land(landing, f"{code}.json", json_bytes(submission(ma_xa=code)))
    statuses = run_ingest(warehouse, landing)
    assert overlapped == [True]
    assert sorted(statuses.values()) == ["accepted"] * 3


def test_great_expectations_is_made_ready_while_the_files_are_read(warehouse, landing, monkeypatch):
    """Importing GX and making its context (seconds, the fixed cost of every batch) happens in a
    thread of its own beside the reading, and the batch validates with that context."""
    import functools
    import threading

    from poverty_pipeline.ingest import validate

    made_in: list[str] = []
    make = validate._context.__wrapped__

    @functools.cache
    def context():
        made_in.append(threading.current_thread().name)
        return make()

    monkeypatch.setattr(validate, "_context", context)
    land(landing, "28249.json", json_bytes(submission(households=[
        household("HO001"), household("HO002", thu_nhap_binh_quan="một triệu")])))
    assert set(run_ingest(warehouse, landing).values()) == {"rejected"}
    assert made_in == ["gx-warm-up"]
    assert [p[-1] for p in problems(warehouse, "communes/2021/28249.json")] == ["not_number"]


def test_the_planner_sees_what_a_batch_loaded(warehouse, landing):
    """After a batch the loaded tables have statistics: the build's plans do not wait for
    autovacuum (which a server may not run at all)."""
    households = [household(f"HO{i:03}") for i in range(1, 41)]
    land(landing, "28249_2021_dinh_ky.json", json_bytes(submission(households=households)))
    assert set(run_ingest(warehouse, landing).values()) == {"accepted"}
    with connect(warehouse) as conn:
        (estimate,) = conn.execute(
            "explain (format json) select * from raw.commune_households").fetchone()[0]
    assert estimate["Plan"]["Plan Rows"] == 40
