# One image for every process of the mesh: services, reference departments, gateway, the
# screens (web) and the topology job. The command chooses the process (docker-compose.yml,
# deploy/kubernetes).
#   make setup        (builds the screens into services/web/dist: npm ci, npm run build)
#   docker build -t onestop:latest .
# The screens are built on the host, not in a stage here: their tools (Vite, Node.js 20)
# have no Debian bookworm package and no node image is reachable where the images are
# built (docs/operations.md, "The screens in the image").
# Base image pinned to an exact release; update it deliberately (docs/operations.md).
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements.txt ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile --requirement requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="onestop" \
      org.opencontainers.image.description="Hunan One-step Approval mesh (nameko services)"
RUN groupadd --gid 10001 onestop \
    && useradd --uid 10001 --gid onestop --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin onestop \
    && mkdir -p /var/lib/onestop && chown onestop:onestop /var/lib/onestop
# /var/lib/onestop: the licence service's signing key on a volume (docker-compose.yml)
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY onestop ./onestop
# services/web/dist (the built screens) comes with services/; the front end's sources and
# node_modules do not (.dockerignore)
COPY services ./services
RUN test -f services/web/dist/index.html \
    || { echo "services/web/dist is missing: build the screens first (make setup, or" \
              "npm ci && npm run build in services/web/frontend)" >&2; exit 1; }
COPY ops ./ops
COPY departments ./departments
COPY data ./data
COPY deploy/rabbitmq/definitions.json ./deploy/rabbitmq/definitions.json
COPY docs/openapi.yaml ./docs/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    BIND_HOST=0.0.0.0 \
    DATA_DIR=/tmp/onestop
USER 10001:10001
EXPOSE 8000 8001 8002 8003 8004 8005 8006 8007 8010 8011 8012
# ONESTOP_PROCESS names the process; its own port answers /health
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "ops.deploy.healthcheck"]
ENV ONESTOP_PROCESS=gateway
CMD ["python", "-m", "services.gateway.app"]
