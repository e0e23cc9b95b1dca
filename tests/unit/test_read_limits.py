"""Reading is bounded: a sheet's declared and real extent are checked before calamine builds its
grid, and files are read by a worker process under a memory and a time limit that a new worker
replaces when a file breaks it — while a 100,000-row file and a 1,000-sheet workbook still read."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from support.builders import household, json_bytes, submission, xlsx_bytes

from poverty_pipeline.ingest.read import ReadError, read_workbook
from poverty_pipeline.ingest.read_worker import ReadWorker, Request, prepare

CONTRACT = "commune_household_review"
COLUMNS = ("ma_ho", "ap", "khu_vuc", "ho_ten_chu_ho", "so_nhan_khau", "thu_nhap_binh_quan",
           "phan_loai_cua_xa")


def with_sheet(xml: str, member: str = "xl/worksheets/sheet3.xml") -> bytes:
    """A good workbook whose household sheet's XML is ``xml``."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(submission())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, xml.encode() if info.filename == member else source.read(info))
    return out.getvalue()


def sheet(rows: str, dimension: str = "A1") -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


def text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def households_sheet(count: int) -> str:
    """A household sheet of ``count`` rows, written as inline strings and numbers."""
    letters = "ABCDEFG"
    header = "".join(text(f"{c}1", name) for c, name in zip(letters, COLUMNS, strict=True))
    body = [f'<row r="1">{header}</row>']
    for i in range(count):
        r = i + 2
        body.append(
            f'<row r="{r}">{text(f"A{r}", f"HO{i:06d}")}{text(f"B{r}", "Ấp 1")}{text(f"C{r}", "nong_thon")}'
            f'{text(f"D{r}", f"Nguyễn Văn {i}")}<c r="E{r}"><v>4</v></c><c r="F{r}"><v>2500000</v></c>'
            f'{text(f"G{r}", "khong")}</row>')
    return sheet("".join(body), f"A1:G{count + 1}")


@pytest.mark.parametrize(("case", "rows"), [
    ("one cell on row 1,048,576 alone", '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'),
    ("one cell in column XFD", '<row r="1">' + text("XFD1", "x") + "</row>"),
    ("one cell at XFD1048576 beside the data", '<row r="1">' + text("A1", "ma_ho") + '</row>'
     '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
    ("cells without a reference, far right", '<row r="1">' + "<c><v>1</v></c>" * 800 + "</row>"),
    ("a namespace prefix", '<x:row r="1048576"><x:c r="A1048576"><x:v>1</x:v></x:c></x:row>'),
    ("attributes in another order", '<row r="1048576"><c s="0" r="A1048576"><v>1</v></c></row>'),
])
def test_a_sheet_reaching_beyond_the_bounds_is_refused_before_calamine_builds_it(case, rows):
    data = with_sheet(sheet(rows))
    started = time.monotonic()
    with pytest.raises(ReadError) as err:
        read_workbook("far.xlsx", data)
    assert err.value.rule == "sheet_too_large", case
    assert "sheet 'danh_sach_ho'" in err.value.detail
    assert time.monotonic() - started < 2.0


def test_a_sheet_declaring_an_extent_beyond_the_bounds_is_refused():
    with pytest.raises(ReadError) as err:
        read_workbook("declared.xlsx", with_sheet(sheet(text("A1", "x"), "A1:XFD1048576")))
    assert err.value.rule == "sheet_too_large" and "declares its extent to XFD1048576" in err.value.detail


def test_a_100000_row_workbook_and_json_file_read_within_the_bounds():
    workbook = with_sheet(households_sheet(100_000))
    doc = submission(households=[household(f"HO{i:06d}") for i in range(100_000)])
    with ReadWorker() as reader:
        for name, data in (("big.xlsx", workbook), ("big.json", json_bytes(doc))):
            sub = reader.prepare(Request(f"communes/2021/{name}", "id", data, CONTRACT))
            assert [p.rule for p in sub.problems] == [], name
            assert len(sub.tables["danh_sach_ho"]) == 100_000, name
        assert reader.started == 1


def test_a_workbook_of_1000_sheets_reads():
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name in ("thong_tin", "tong_hop", "danh_sach_ho"):
        book.add_worksheet(name)
    for i in range(997):
        book.add_worksheet(f"extra{i}").write(0, 0, "x")
    book.close()
    workbook = read_workbook("many.xlsx", buffer.getvalue())
    assert len(workbook) == 1000


def big_json(households: int) -> bytes:
    return json_bytes(submission(households=[household(f"HO{i:06d}") for i in range(households)]))


def test_a_file_exhausting_the_readers_memory_is_rejected_and_a_new_reader_takes_the_next():
    small = Request("communes/2021/small.json", "a", json_bytes(submission()), CONTRACT)
    with ReadWorker(memory_mib=600) as reader:
        assert reader.prepare(small).problems == []
        sub = reader.prepare(Request("communes/2021/big.json", "b", big_json(100_000), CONTRACT))
        assert [p.rule for p in sub.problems] == ["memory_limit"]
        assert "600 MiB" in sub.problems[0].message_en
        assert reader.prepare(small).problems == []
        assert reader.started == 2


def test_calamine_aborting_on_a_grid_beyond_memory_rejects_the_file_only():
    grid = with_sheet(sheet(text("A1", "ma_ho") + '<row r="199999"><c r="ZZ199999"><v>1</v></c></row>'))
    small = Request("communes/2021/small.json", "a", json_bytes(submission()), CONTRACT)
    with ReadWorker() as reader:
        sub = reader.prepare(Request("communes/2021/grid.xlsx", "b", grid, CONTRACT))
        assert [p.rule for p in sub.problems] == ["memory_limit"]
        assert "SIGABRT" in sub.problems[0].message_en
        assert reader.prepare(small).problems == []
        assert reader.started == 2


def test_a_file_overrunning_the_readers_time_is_rejected_and_a_new_reader_takes_the_next():
    small = Request("communes/2021/small.json", "a", json_bytes(submission()), CONTRACT)
    with ReadWorker() as reader:
        assert reader.prepare(small).problems == []
        reader.seconds = 0.2
        sub = reader.prepare(Request("communes/2021/slow.json", "b", big_json(20_000), CONTRACT))
        assert [p.rule for p in sub.problems] == ["read_timeout"]
        reader.seconds = 600
        assert reader.prepare(small).problems == []
        assert reader.started == 2


def test_the_reader_process_adds_little_per_file():
    """Passing the bytes in and the normalised file back, beside reading it in-process."""
    from poverty_pipeline.samples.generate import build_submissions, render

    files = [(sub.relative_path, render(sub)) for sub in build_submissions(
        years=[2021], seed=3, communes=["28249", "28252", "28261", "28264", "28270", "28273"])]
    requests = [Request(path, str(i), data, CONTRACT) for i, (path, data) in enumerate(files * 3)]
    started = time.monotonic()
    for request in requests:
        prepare(request)
    in_process = time.monotonic() - started
    with ReadWorker() as reader:
        reader.prepare(requests[0])  # the worker's start, once per batch
        started = time.monotonic()
        for request in requests:
            reader.prepare(request)
        worker = time.monotonic() - started
    per_file = (worker - in_process) / len(requests)
    print(f"{len(requests)} files: in-process {in_process:.2f} s, worker {worker:.2f} s, "
          f"{per_file * 1000:+.0f} ms per file")
    assert per_file < 0.05 + 0.25 * in_process / len(requests)


def test_an_error_of_ours_while_reading_is_the_files_internal_error_and_the_reader_goes_on(caplog):
    """A request the pipeline itself got wrong (a contract that does not exist) fails inside the
    reader: that file's internal_error, logged by type and place, and the reader stays up."""
    import logging

    caplog.set_level(logging.ERROR, logger="poverty_pipeline")
    doc = submission(nguoi_lap="Zyx Người Lập")
    with ReadWorker() as reader:
        sub = reader.prepare(Request("communes/2021/x.json", "a", json_bytes(doc), "no_such_contract"))
        assert [p.rule for p in sub.problems] == ["internal_error"]
        assert reader.prepare(Request("communes/2021/y.json", "b", json_bytes(doc), CONTRACT)).problems == []
        assert reader.started == 1
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("internal error reading communes/2021/x.json: FileNotFoundError at ")
    assert "Zyx" not in line


def test_the_part_an_ingest_holds_comes_from_configuration(monkeypatch):
    """POVERTY_INGEST_PART_ROWS bounds the rows held between reading and recording (default
    100,000); a value that is not a whole number ≥ 1 is refused, naming the variable."""
    from poverty_pipeline.config import ingest_part_rows

    monkeypatch.delenv("POVERTY_INGEST_PART_ROWS", raising=False)
    assert ingest_part_rows() == 100_000
    monkeypatch.setenv("POVERTY_INGEST_PART_ROWS", " 5000 ")
    assert ingest_part_rows() == 5000
    for wrong in ("0", "-3", "1e5", "many"):
        monkeypatch.setenv("POVERTY_INGEST_PART_ROWS", wrong)
        with pytest.raises(RuntimeError, match="POVERTY_INGEST_PART_ROWS must be a whole number"):
            ingest_part_rows()
