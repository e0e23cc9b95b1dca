"""Pages in the Airflow UI: submissions, poverty charts, and the dbt docs and Data Docs sites,
served by one FastAPI app that the Airflow plugin ``plugins/poverty_ui_plugin.py`` mounts.

- :mod:`.queries` — what the pages read from the marts (and the feedback link from audit);
- :mod:`.charts` — inline SVG charts, drawn on the server (no script, no CDN);
- :mod:`.files` — serving files from a folder or a storage URL without leaving it;
- :mod:`.app` — the routes and templates.
"""
