"""Structured logs: one JSON object per line, with the correlation id, identifiers masked."""
import json
import logging
import re
import sys
from datetime import datetime, timezone

# 18-character resident ID numbers, 11-digit mobile numbers, 18-character credit codes
_ID_PATTERNS = [re.compile(r"\b\d{6}(\d{8})\d{3}[\dXx]\b"), re.compile(r"\b1[3-9]\d(\d{4})\d{4}\b"),
                re.compile(r"\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b")]


def mask(text):
    """Replace personal identifiers in free text with a masked form (keep the first 3, last 2)."""
    for pattern in _ID_PATTERNS:
        text = pattern.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 5)
                           + m.group(0)[-2:], text)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service):
        super().__init__()
        self.service = service

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname, "service": self.service, "logger": record.name,
            "message": mask(record.getMessage()),
        }
        correlation_id = getattr(record, "correlation_id", None)
        if correlation_id:
            entry["correlation_id"] = correlation_id
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service, level=logging.INFO):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kombu", "amqp", "pymongo", "nameko", "pika", "eventlet"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
