"""The household key: an HMAC under POVERTY_PII_KEY, computed in SQL from pads only the
warehouse owner can read, equal to the standard HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from poverty_pipeline import pii
from poverty_pipeline.warehouse import connect


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
