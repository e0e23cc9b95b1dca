# The Airflow image with this project's pinned dependencies and package.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml /opt/poverty/
COPY --chown=airflow:root plugins /opt/poverty/plugins
RUN pip install --no-cache-dir -r /opt/poverty/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/poverty
