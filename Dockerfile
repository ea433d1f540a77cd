# Haven's image: the API (`haven serve`), the worker (`haven worker`) and the stream consumer
# (`haven consume`) are the same image with another command. The local image models (the
# `models` extra, ~450 MB) are left out by default; build with --build-arg EXTRAS=models to add them.
FROM python:3.11-slim
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HAVEN_VAR_DIR=/var/lib/haven HAVEN_HOST=0.0.0.0
RUN apt-get update && apt-get install -y --no-install-recommends libheif1 postgresql-client && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/haven haven && mkdir -p /var/lib/haven && chown haven /var/lib/haven
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY scripts ./scripts
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"
USER haven
EXPOSE 8000
CMD ["haven", "serve", "--host", "0.0.0.0", "--port", "8000"]
