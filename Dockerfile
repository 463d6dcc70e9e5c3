# syntax=docker/dockerfile:1
# Build stage: build a wheel with its dependencies into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install .

# Runtime stage: slim base, no compiler, non-root user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    TRUSTBRIDGE_DATA_DIR=/var/lib/trustbridge \
    TRUSTBRIDGE_REGISTRY_SEED_DIR=/opt/trustbridge/registry \
    TRUSTBRIDGE_SCHEMA_STORE_DIR=/opt/trustbridge/registry/schemas
RUN useradd --system --uid 10001 --home-dir /var/lib/trustbridge --create-home trustbridge
COPY --from=build /opt/venv /opt/venv
COPY registry /opt/trustbridge/registry
USER trustbridge
WORKDIR /var/lib/trustbridge
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status == 200 else 1)"
STOPSIGNAL SIGTERM
CMD ["trustbridge", "serve", "--host", "0.0.0.0", "--port", "8080"]
