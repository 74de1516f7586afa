FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app.py config.py logs.py ./
COPY pages pages
COPY callbacks callbacks
COPY data data
COPY ml ml
COPY ingest ingest
COPY simulator simulator
COPY maintenance maintenance
COPY web web
COPY worker worker
COPY cli cli
# var/models and var/lab exist (owned by pdm) so the shared volumes compose mounts there
# start out writable by the app's user
RUN pip install --no-cache-dir . && useradd --create-home pdm \
    && mkdir -p /app/var/models /app/var/lab && chown -R pdm /app/var
USER pdm
ENV PDM_VAR_DIR=/app/var PDM_HOST=0.0.0.0
EXPOSE 8050 9100
CMD ["python", "app.py", "web"]
