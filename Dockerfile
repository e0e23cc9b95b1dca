# The Airflow image with this project's pinned dependencies and package.

FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml /opt/poverty/
COPY --chown=airflow:root src /opt/poverty/src
RUN pip install --no-cache-dir -r /opt/poverty/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/poverty
# The libraries the Great Expectations Data Docs load (Bootstrap, jQuery, Vega, …), from the npm
# registry at the versions and hashes of web_assets/package-lock.json: the site is served with
# them, not from public CDNs (src/poverty_pipeline/ingest/data_docs.py).
COPY --chown=airflow:root web_assets/package.json web_assets/package-lock.json web_assets/fetch.py /opt/poverty/web_assets/
RUN python /opt/poverty/web_assets/fetch.py
# DAGs, the Airflow plugin, the dbt project and suites are mounted by docker-compose.yml; copied
# too, so the image also runs without the mounts.
COPY --chown=airflow:root dags /opt/poverty/dags
COPY --chown=airflow:root plugins /opt/poverty/plugins
COPY --chown=airflow:root dbt_project /opt/poverty/dbt_project
COPY --chown=airflow:root expectations /opt/poverty/expectations
# The mount points; airflow-init creates what is missing in the mounted folders and gives it
# to AIRFLOW_UID.
RUN mkdir -p /opt/poverty/landing /opt/poverty/docs
