# nsbot: runs every configured chat platform (`nsbot run`).
# Build:  docker build -t nsbot .
# Run:    docker run -e TELEGRAM_BOT_TOKEN=... -v nsbot-data:/data nsbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NSBOT_DB=/data/nsbot.sqlite3

WORKDIR /app
COPY pyproject.toml README.md LICENSE faq.yaml ./
COPY knowledge ./knowledge
COPY bot ./bot
RUN pip install --no-compile . \
    && useradd --system --uid 10001 --home-dir /data nsbot \
    && mkdir -p /data && chown nsbot /data

USER nsbot
VOLUME ["/data"]
# Slack HTTP mode and Telegram webhook mode listen here when enabled.
EXPOSE 3000 8443
CMD ["nsbot", "run"]
