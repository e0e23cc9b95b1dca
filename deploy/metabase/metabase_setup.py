"""Provision Metabase for the stack in docker-compose.yml: the first admin (once) and the
warehouse as a database connection that logs in as ``bi_reader`` and shows schema ``marts``
only. Idempotent: a second run updates the connection (a changed password) and adds nothing.

Run by the compose service ``metabase-setup`` in a plain Python image, so it uses only the
standard library. Settings come from the environment:

``METABASE_URL`` (default ``http://metabase:3000``), ``METABASE_ADMIN_EMAIL``,
``METABASE_ADMIN_PASSWORD``, ``POVERTY_BI_READER_PASSWORD``, and the warehouse's
``WAREHOUSE_HOST`` (``warehouse``), ``WAREHOUSE_PORT`` (``5432``), ``WAREHOUSE_DB`` (``poverty``).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

DATABASE_NAME = "Tiền Giang poverty warehouse (marts)"
BI_ROLE = "bi_reader"
BI_SCHEMA = "marts"


def warehouse_database(env: dict[str, str]) -> dict:
    """The Metabase database entry of the warehouse: read-only role, schema marts only."""
    return {
        "engine": "postgres",
        "name": DATABASE_NAME,
        "details": {
            "host": env.get("WAREHOUSE_HOST", "warehouse"),
            "port": int(env.get("WAREHOUSE_PORT", "5432")),
            "dbname": env.get("WAREHOUSE_DB", "poverty"),
            "user": BI_ROLE,
            "password": env["POVERTY_BI_READER_PASSWORD"],
            "ssl": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": BI_SCHEMA,
        },
        "is_full_sync": True,
    }


def setup_payload(token: str, env: dict[str, str]) -> dict:
    """The first-run set-up: the admin user and the site's preferences (no usage tracking)."""
    return {
        "token": token,
        "user": {
            "email": env["METABASE_ADMIN_EMAIL"],
            "password": env["METABASE_ADMIN_PASSWORD"],
            "first_name": "Admin",
            "last_name": "Poverty monitoring",
            "site_name": "Tiền Giang poverty monitoring",
        },
        "prefs": {"site_name": "Tiền Giang poverty monitoring", "site_locale": "vi",
                  "allow_tracking": False},
    }


class Metabase:
    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.session: str | None = None

    def call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            self.url + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json",
                     **({"X-Metabase-Session": self.session} if self.session else {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as err:
            # the message without the request body, which may hold a password
            raise RuntimeError(f"Metabase {method} {path}: HTTP {err.code} {err.read()[:500]!r}") from None
        return json.loads(text) if text.strip() else None

    def wait_healthy(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if (self.call("GET", "/api/health") or {}).get("status") == "ok":
                    return
            except (OSError, RuntimeError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"Metabase at {self.url} not healthy after {timeout:.0f}s")
            time.sleep(5)

    def log_in(self, env: dict[str, str]) -> None:
        """Set Metabase up on its first start, else log in as the admin."""
        properties = self.call("GET", "/api/session/properties")
        if not properties.get("has-user-setup"):
            self.session = self.call("POST", "/api/setup",
                                     setup_payload(properties["setup-token"], env))["id"]
        else:
            self.session = self.call("POST", "/api/session", {
                "username": env["METABASE_ADMIN_EMAIL"], "password": env["METABASE_ADMIN_PASSWORD"]})["id"]

    def databases(self) -> list[dict]:
        found = self.call("GET", "/api/database")
        return found["data"] if isinstance(found, dict) else found


def provision(env: dict[str, str]) -> str:
    """Admin and warehouse connection in place; what was done."""
    metabase = Metabase(env.get("METABASE_URL", "http://metabase:3000"))
    metabase.wait_healthy()
    metabase.log_in(env)
    database = warehouse_database(env)
    existing = [d for d in metabase.databases() if d.get("name") == DATABASE_NAME]
    if existing:
        metabase.call("PUT", f"/api/database/{existing[0]['id']}", database)
        return f"updated the connection {DATABASE_NAME!r} ({BI_ROLE}, schema {BI_SCHEMA})"
    metabase.call("POST", "/api/database", database)
    return f"added the connection {DATABASE_NAME!r} ({BI_ROLE}, schema {BI_SCHEMA})"


if __name__ == "__main__":
    try:
        print(provision(dict(os.environ)))
    except (KeyError, RuntimeError, TimeoutError) as err:
        sys.exit(f"metabase-setup: {err!r}")
