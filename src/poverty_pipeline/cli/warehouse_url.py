"""The warehouse every command works on; its own module so that the commands (main) and the
benchmark (bench), which main runs, both use it without importing each other."""

from __future__ import annotations

import os


def ensure_warehouse_url() -> str:
    """``POVERTY_WAREHOUSE_URL`` if set, else the embedded server's (started if needed)."""
    url = os.environ.get("POVERTY_WAREHOUSE_URL")
    if not url:
        from poverty_pipeline.warehouse.database import start_embedded

        url = start_embedded()
        os.environ["POVERTY_WAREHOUSE_URL"] = url
        print(f"embedded PostgreSQL: {url}")
    return url


def is_embedded(url: str) -> bool:
    """Whether ``url`` is the embedded server's (its socket in ``.local/pgdata``), as
    ``poverty warehouse-url`` prints it."""
    from poverty_pipeline.config import LOCAL_DIR, warehouse_parts

    return warehouse_parts(url)["host"] == str(LOCAL_DIR / "pgdata")
