"""The household key: an HMAC under POVERTY_PII_KEY, computed in SQL from pads only the
warehouse owner can read, equal to the standard HMAC-SHA256; pads written under one key are
never replaced by another's unless a re-key is asked for."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import subprocess
import sys

import pytest

from poverty_pipeline.warehouse import pii
from poverty_pipeline.warehouse.database import connect, ensure_schema


def test_a_missing_key_is_an_error_not_a_made_up_key(monkeypatch):
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    with pytest.raises(RuntimeError, match="POVERTY_PII_KEY is not set"):
        pii.secret_key()


def test_the_sql_hmac_is_the_standard_one(warehouse, monkeypatch):
    monkeypatch.setenv(pii.KEY_ENV, "a key longer than one block " * 4)  # > 64 bytes: hashed first
    with connect(warehouse, autocommit=True) as conn:
        pii.store_pads(conn)
        (in_sql,) = conn.execute(
            "select encode(sha256(outer_pad || sha256(inner_pad || convert_to(%s, 'UTF8'))), 'hex') "
            "from pii.hmac_pads", ["28531:HO00012"]).fetchone()
    key = ("a key longer than one block " * 4).encode()
    assert in_sql == hmac.new(key, b"28531:HO00012", hashlib.sha256).hexdigest()
    assert in_sql == pii.household_key("28531", "HO00012")


def test_the_planner_knows_the_pads_are_one_row(warehouse, monkeypatch):
    """Unanalysed, the pads table is guessed at hundreds of rows, and every household crossed
    with it is over-estimated by as much: plans that took 27+ minutes on a stock server."""
    monkeypatch.setenv(pii.KEY_ENV, secrets.token_urlsafe(24))
    with connect(warehouse, autocommit=True) as conn:
        pii.store_pads(conn)
        (estimate,) = conn.execute(
            "explain (format json) select * from pii.hmac_pads").fetchone()[0]
    assert estimate["Plan"]["Plan Rows"] == 1


def stored_key_check(url: str) -> str | None:
    with connect(url) as conn:
        return pii.stored_fingerprint(conn)


def test_pads_of_another_key_are_kept_unless_a_rekey_is_asked_for(warehouse, monkeypatch):
    """A process started with another key (a missing one replaced by a local key, a typo)
    fails with what to do, and the warehouse keeps its key; ``poverty pii-rekey`` replaces it."""
    old, new = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    monkeypatch.setenv(pii.KEY_ENV, old)
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        ensure_schema(conn)  # the same key again: nothing to say
    first = stored_key_check(warehouse)
    assert first == pii.key_fingerprint(old.encode())

    monkeypatch.setenv(pii.KEY_ENV, new)
    with connect(warehouse, autocommit=True) as conn, pytest.raises(pii.KeyMismatch) as refused:
        ensure_schema(conn)
    message = str(refused.value)
    assert "POVERTY_PII_KEY is not the key" in message and "poverty pii-rekey" in message
    assert first in message and pii.key_fingerprint() in message
    assert old not in message and new not in message  # never a key
    assert stored_key_check(warehouse) == first

    def poverty(command: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "POVERTY_WAREHOUSE_URL": warehouse}
        return subprocess.run([sys.executable, "-m", "poverty_pipeline.cli.main", command], env=env,
                              capture_output=True, text=True, timeout=120)

    done = poverty("run")  # refused before Airflow starts, in one line
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [f"poverty: {message}"]
    assert "Airflow" not in done.stdout and stored_key_check(warehouse) == first
    done = poverty("pii-rekey")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{first} → {pii.key_fingerprint()}" in done.stdout and "re-keys every household" in done.stdout
    assert stored_key_check(warehouse) == pii.key_fingerprint()
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)  # the new key is the warehouse's now
        (in_sql,) = conn.execute(
            "select encode(sha256(outer_pad || sha256(inner_pad || convert_to(%s, 'UTF8'))), 'hex') "
            "from pii.hmac_pads", ["28531:HO00012"]).fetchone()
    assert in_sql == pii.household_key("28531", "HO00012", new.encode())


def test_the_key_check_is_the_keys_hmac_of_a_fixed_message():
    key = b"k" * 100
    assert pii.key_fingerprint(key) == hmac.new(key, pii.FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:12]
