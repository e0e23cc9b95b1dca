"""Airflow plugin: the poverty pages (Submissions, Poverty) and the dbt docs and Data Docs sites
in the Airflow UI's navigation. The pages are served by the FastAPI app of
``poverty_pipeline.ui`` mounted under ``/poverty``; each nav entry opens one of them inside the
UI (an external view with a ``url_route``)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from poverty_pipeline.ui.app import PAGES, app

URL_PREFIX = "/poverty"


class PovertyUiPlugin(AirflowPlugin):
    name = "poverty_ui"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Poverty pages"}]
    # href without a leading slash: relative to the UI's base URL, so it works behind a prefix.
    external_views = [
        {
            "name": name,
            "href": f"{URL_PREFIX.lstrip('/')}/{path}",
            "url_route": "poverty-" + path.strip("/"),
            "destination": "nav",
            "category": "Giảm nghèo · Poverty",
        }
        for path, name in PAGES
    ]
