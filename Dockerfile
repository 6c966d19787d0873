# nsbot: runs every configured chat platform (`nsbot run`).
# Build:  docker build -t nsbot .
# Run:    docker run -e TELEGRAM_BOT_TOKEN=... -v nsbot-data:/data nsbot
# Several replicas on PostgreSQL behind a load balancer: deploy/compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NSBOT_DB=/data/nsbot.sqlite3 \
    NSBOT_HEALTH_PORT=8080

WORKDIR /app
COPY pyproject.toml README.md LICENSE faq.yaml ./
COPY knowledge ./knowledge
COPY bot ./bot
# Bytecode is compiled here, at build time: PYTHONDONTWRITEBYTECODE keeps the running
# container from writing it, so without it every start would compile the bot and its
# dependencies again.
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data nsbot \
    && mkdir -p /data && chown nsbot /data

USER nsbot
VOLUME ["/data"]
# Slack HTTP mode and Telegram webhook mode listen here when enabled; /healthz and
# /readyz are on 8080 in every mode (NSBOT_HEALTH_PORT), and on 3000/8443 too.
EXPOSE 3000 8443 8080
# Healthy once the content is loaded, the database answers and every platform adapter
# has started (bot/health.py). urllib raises on a 503, so the exit code says it all.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('NSBOT_HEALTH_PORT', '8080'), timeout=4)"]
CMD ["nsbot", "run"]
