"""Structured logging: JSON lines in production, readable lines in development.

Never log content, hashes of reported content next to user identifiers, or secrets: log ids.
httpx and httpcore log each request's full URL (user:password and query tokens included) at
INFO and DEBUG: they are held at WARNING, and every line is passed through a filter that
redacts the credentials and query values of any URL in it (haven.core.outbound.redact_url).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# uvicorn adds `color_message`, its message with terminal colour codes, to its records: never printed
# (a log file or a collector would carry raw ANSI escapes).
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}
#: Loggers of the HTTP client that print whole URLs; quiet below WARNING whatever the root level.
QUIET_LOGGERS = ("httpx", "httpcore")


class RedactUrls(logging.Filter):
    """Replace the user:password part and query values of every URL in a log line with ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        from haven.core.outbound import redact_text

        try:
            message = record.getMessage()
        except Exception:
            return True
        if "://" in message:
            record.msg, record.args = redact_text(message), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_"))
        base = f"{record.levelname[:4]} {record.name}: {record.getMessage()}"
        text = f"{base} {extras}".rstrip()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(fmt: str = "auto", level: str = "INFO", production: bool = False) -> None:
    """Install one handler on the root logger (idempotent)."""
    use_json = fmt == "json" or (fmt == "auto" and production)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    handler.addFilter(RedactUrls())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
