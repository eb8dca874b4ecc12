# The MIP image: Airflow's official image with the project's pinned requirements and the mip package.
# Every service of docker-compose.yaml runs it; the official Helm chart can run the same image
# (images.airflow.repository/tag). The Python of the base image is the project's (3.11).
FROM apache/airflow:3.3.2-python3.11

# Directories the compose file mounts named volumes on: created here so they belong to the Airflow user.
USER root
RUN mkdir -p /opt/airflow/sandbox-state && chown -R airflow:0 /opt/airflow/sandbox-state
USER airflow

# The pinned dependencies first, so this layer is rebuilt only when requirements.txt changes.
# requirements.txt pins apache-airflow at the base image's version, so pip keeps Airflow as it is.
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir -r /opt/airflow/requirements.txt

# The mip package, installed editable from /opt/airflow/include: with docker-compose.yaml's mount of
# include/ the code in the repository is the code that runs; without it, the copy in the image.
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
COPY --chown=airflow:0 include /opt/airflow/include
RUN pip install --no-cache-dir --no-deps -e /opt/airflow

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 sandbox /opt/airflow/sandbox
COPY --chown=airflow:0 deploy /opt/airflow/deploy
# docs/pipelines/*.md are the DAGs' doc_md (mip.airflow.docs reads them beside /opt/airflow/include)
COPY --chown=airflow:0 docs /opt/airflow/docs

ENV MIP_CHANNELS_FILE=/opt/airflow/include/channels.yaml
