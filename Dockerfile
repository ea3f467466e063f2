# One image for the api, worker and sandbox services of docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
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
RUN pip install --no-cache-dir '.[postgres]'
# The image listens beyond loopback, so it runs as production: published or weak secrets are
# refused at start and the payload codec needs a login (starter/api/codec_routes.py).
ENV SUPPLYBRIDGE_HOST=0.0.0.0 SUPPLYBRIDGE_ENVIRONMENT=production
ENTRYPOINT ["supplybridge"]
