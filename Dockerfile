# Homer RT for deployment: docker-compose.yml runs two of these behind nginx.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies in a layer of their own, read from pyproject.toml alone: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY homer_rt ./homer_rt
COPY handlers ./handlers
COPY documents ./documents
COPY storage ./storage
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app homer \
    && mkdir -p /app/uploads \
    && chown homer /app/uploads
USER homer

# Production mode (refuses a missing or weak JWT_SECRET, the embedded store, mock payments) and listening on
# every interface of the container, where the server's default is loopback.
ENV APP_ENV=production HOST=0.0.0.0 PORT=8001
EXPOSE 8001
# Liveness only: readiness (store, Redis, storage) is /api/health/ready, for the balancer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health/live' % os.environ.get('PORT', '8001'), timeout=2)"]
CMD ["homer-rt", "serve"]
