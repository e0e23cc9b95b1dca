"""Airflow plugin: the poverty pages (Submissions, Poverty) and the dbt docs and Data Docs sites
in the Airflow UI's navigation. The pages are served by the FastAPI app of
``poverty_pipeline.ui`` mounted under ``/poverty``; each nav entry opens one of them inside the
UI (an external view with a ``url_route``) — but the Data Docs, which open on their own: their
pages run sandboxed (an opaque origin), and a page of a sandboxed frame that follows a link
carries no cookie of the UI, so inside the UI's frame every link of the site would meet the
sign-in. The site's static files (libraries, Great Expectations' images and styles) are
served without sign-in from ``/poverty/data-docs/static`` (``data_docs.static_app``).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from poverty_pipeline.ingest.data_docs import static_app
from poverty_pipeline.ui.app import PAGES, app

URL_PREFIX = "/poverty"
OWN_TAB = ("data-docs/",)  # opened as a page of its own, not in the UI's frame


class PovertyUiPlugin(AirflowPlugin):
    name = "poverty_ui"
    # mounted in this order: the static files first, so their prefix is not the pages' app's
    fastapi_apps = [
        {"app": static_app(), "url_prefix": f"{URL_PREFIX}/data-docs/static", "name": "Data Docs assets"},
        {"app": app, "url_prefix": URL_PREFIX, "name": "Poverty pages"},
    ]
    # href without a leading slash: relative to the UI's base URL, so it works behind a prefix.
    external_views = [
        {
            "name": name,
            "href": f"{URL_PREFIX.lstrip('/')}/{path}",
            "url_route": None if path in OWN_TAB else "poverty-" + path.strip("/"),
            "destination": "nav",
            "category": "Giảm nghèo · Poverty",
        }
        for path, name in PAGES
    ]
