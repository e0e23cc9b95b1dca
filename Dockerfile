# The Airflow image with this project's pinned dependencies and package.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml /opt/poverty/
COPY --chown=airflow:root plugins /opt/poverty/plugins
RUN pip install --no-cache-dir -r /opt/poverty/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/poverty
# DAGs, dbt project and suites are mounted by docker-compose.yml; copied too, so the image
# also runs without the mounts.
COPY --chown=airflow:root dags /opt/poverty/dags
COPY --chown=airflow:root dbt_project /opt/poverty/dbt_project
COPY --chown=airflow:root expectations /opt/poverty/expectations
# Owned by airflow, so the named volume mounted here (the UI admin's password) is writable.
RUN mkdir -p /opt/airflow/auth /opt/poverty/landing
