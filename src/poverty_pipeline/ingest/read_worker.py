"""Reading under a memory and a time limit: one long-lived worker process per ingest batch.

Parsing a file (calamine, the json module) and normalising it is where a submission can ask for
unbounded memory: a sheet whose cells span a huge grid, a JSON list of ten million objects.
The bounds of ``sheet_extent`` refuse the known shapes cheaply; this is the backstop for the
rest. Files are read one after another by a worker process (``python -m
poverty_pipeline.ingest.read_worker``) whose data segment is limited (``RLIMIT_DATA``,
``reader_memory_mib`` of ``reference/contracts/limits.yml``), and each file has ``reader_seconds``. A file
that makes the worker fail an allocation (Python's ``MemoryError``, or calamine aborting the
process) or overrun its time is rejected (``memory_limit``, ``read_timeout``), and a new worker
takes the next file. One worker for the whole batch keeps the cost per file to passing the
bytes in and the normalised submission back (pickled; a few milliseconds for a commune file,
half a second for a 100,000-row one).

The worker's standard output carries the replies only (length-prefixed pickles); anything a
library prints goes to standard error. Nothing of a file's content is printed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

from poverty_pipeline.ingest.limits import LIMITS
from poverty_pipeline.ingest.problems import printable, problem
from poverty_pipeline.ingest.submission import Submission

log = logging.getLogger(__name__)
HEADER = struct.Struct("<Q")
PIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class Request:
    path: str  # the landed path: its suffix decides the format, messages quote it
    submission_id: str
    data: bytes | None  # None: over the size limit, not read
    contract: str


def prepare(request: Request) -> Submission:
    """Read and normalise one file; what is wrong with it is on the returned Submission."""
    from poverty_pipeline.ingest.normalise import normalise
    from poverty_pipeline.ingest.read import ReadError, read_workbook
    from poverty_pipeline.ingest.validate import value_sets
    from poverty_pipeline.reference.contract import load_contract

    contract = load_contract(request.contract)
    sub = Submission(submission_id=request.submission_id, path=request.path, path_period=None)
    try:
        workbook = read_workbook(request.path, request.data)
    except ReadError as exc:
        sub.add(problem(exc.rule, value=exc.value or request.path, detail=exc.detail))
        return sub
    return normalise(sub, workbook, contract, value_sets(contract.name, contract.sheets))


def where(exc: BaseException) -> str:
    """An exception as an operator's log line may show it: its type and where it was raised,
    never its message (it may quote a cell)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "poverty_pipeline" in f.filename] or frames
    at = f" at {os.path.basename(ours[-1].filename)}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    return f"{type(exc).__name__}{at}"


# --- the worker side ------------------------------------------------------------------------

def _read_exactly(stream, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve(memory_mib: int) -> None:
    """The worker's loop: one request in, one reply out, until its input closes."""
    limit = memory_mib * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # calamine aborting leaves no core dump
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to standard error, not into the replies
    requests = os.fdopen(os.dup(0), "rb")
    while (header := _read_exactly(requests, HEADER.size)) is not None:
        body = _read_exactly(requests, HEADER.unpack(header)[0])
        if body is None:
            return
        try:
            reply = ("ok", prepare(pickle.loads(body)))
        except MemoryError as exc:
            reply = ("memory", where(exc))
        except Exception as exc:  # noqa: BLE001 - reported as the file's internal_error
            reply = ("error", where(exc))
        try:
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", "MemoryError replying"))
        replies.write(HEADER.pack(len(payload)) + payload)
        replies.flush()
        if reply[0] == "memory":
            return  # a process that ran out of memory is not trusted with the next file


# --- the ingest side ------------------------------------------------------------------------

class WorkerFailed(Exception):
    def __init__(self, rule: str, detail: str):
        super().__init__(detail)
        self.rule, self.detail = rule, detail


class ReadWorker:
    """Prepares files in a worker process under ``memory_mib`` and ``seconds`` per file; a
    context manager (the worker starts at the first file and ends with the batch)."""

    def __init__(self, memory_mib: int | None = None, seconds: float | None = None):
        self.memory_mib = memory_mib or LIMITS.reader_memory_mib
        self.seconds = seconds or LIMITS.reader_seconds
        self.proc: subprocess.Popen | None = None
        self.started = 0  # workers started: the first, and one after each that died

    def __enter__(self) -> ReadWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()

    def _start(self) -> subprocess.Popen:
        self.started += 1
        env = {**os.environ, "RUST_BACKTRACE": "0"}  # calamine's abort: one line, not a backtrace
        proc = subprocess.Popen(
            [sys.executable, "-m", "poverty_pipeline.ingest.read_worker", str(self.memory_mib)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, env=env,
        )
        for stream in (proc.stdin, proc.stdout):  # fewer hand-overs per file than 64 KiB at a time
            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        return proc

    def _kill(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        return code

    def prepare(self, request: Request) -> Submission:
        """The file read and normalised; a file that fails the worker (memory, time, an error
        of ours) comes back as a Submission with that problem."""
        try:
            return self._ask(request)
        except WorkerFailed as failed:
            sub = Submission(request.submission_id, request.path, None)
            sub.add(problem(failed.rule, value=request.path, detail=failed.detail))
            return sub

    def _ask(self, request: Request) -> Submission:
        if self.proc is None or self.proc.poll() is not None:
            self._kill()
            self.proc = self._start()
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + self.seconds
        try:
            self._send(HEADER.pack(len(payload)) + payload, deadline)
            header = self._receive(HEADER.size, deadline)
            reply = pickle.loads(self._receive(HEADER.unpack(header)[0], deadline))
        except TimeoutError:
            self._kill()
            raise WorkerFailed("read_timeout", f"{self.seconds:g} s") from None
        except (OSError, EOFError) as exc:  # the worker died (BrokenPipe, end of its output)
            code = self._kill()
            cause = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
            log.warning("the reader process ended (%s) reading %s; a new one takes the next file",
                        cause, printable(request.path, one_line=True))
            if code is not None and code < 0:  # killed: an allocation failed (abort), or the OOM killer
                raise WorkerFailed("memory_limit", f"{self.memory_mib:,} MiB; {cause}") from exc
            raise WorkerFailed("internal_error", f"the reader process ended: {cause}") from exc
        kind, value = reply
        if kind == "ok":
            return value
        if kind == "memory":
            self._kill()
            raise WorkerFailed("memory_limit", f"{self.memory_mib:,} MiB")
        log.error("internal error reading %s: %s", printable(request.path, one_line=True), value)
        raise WorkerFailed("internal_error", value)

    def _send(self, data: bytes, deadline: float) -> None:
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [fd], [], remaining)
            if not ready:
                raise TimeoutError
            written = os.write(fd, view[:PIPE_BYTES])
            view = view[written:]

    def _receive(self, size: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
