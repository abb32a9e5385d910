# Image for the web app, the worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HELPDESK_DATA_DIR=/data

RUN useradd --system --create-home --home-dir /home/helpdesk helpdesk \
    && mkdir /data && chown helpdesk:helpdesk /data

WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e '.[production]' \
    && find admin helpdesk kb workers -path '*/LC_MESSAGES/*.po' \
        -exec sh -c 'pybabel compile -i "$1" -o "${1%.po}.mo"' _ {} \;

USER helpdesk
VOLUME ["/data"]
EXPOSE 8000
# For the web app of CMD; docker-compose.yml sets the checks of worker and beat.
HEALTHCHECK --interval=30s --timeout=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "admin.app:create_app()"]
