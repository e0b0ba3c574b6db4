"""Structured logs: one JSON object per line, with the correlation id, identifiers masked.

Masking is by pattern, wherever the identifier stands: Chinese text, letters, `_` or
punctuation next to it do not hide it (the old word-boundary patterns did: in Python a
Chinese character and `_` are word characters, so "身份证号430102199001011234" and
"id_430102199001011234" went out whole). The rule for each kind, and for digits next to it:

- resident ID number (17 digits and a check character, a digit or X): a run of 18 or more
  digits, or of 17 or more digits ending in X, is masked whole. Digits glued to an ID number
  cannot be told apart from it, so the whole run is hidden (a long order number is the
  safe error); digits separated from it by anything else (a space, `_`, a letter, Chinese)
  are never touched, and an X after 18 digits is left alone.
- mobile number (11 digits, 1[3-9]…, optionally after +86 / 86): masked when it is a run of
  its own, i.e. not glued to other digits (a millisecond timestamp contains 11-digit runs
  that look like mobile numbers); letters, Chinese and `_` next to it do not matter.
- unified social credit code (18 characters of [0-9A-HJ-NPQRTUWXY], characters 3 to 8
  digits): masked wherever such 18 characters stand, also inside a longer run of capitals
  and digits (the first such window is masked; the full code never remains).

A masked identifier keeps its first 3 and last 2 characters (of the run, when a run is
masked whole). Not covered: identifiers split by spaces or dashes ("430102 19900101 1234").
"""

import json
import logging
import re
import sys
from datetime import datetime, timezone

_ID_PATTERNS = [
    re.compile(r"\d{18,}|\d{17,}[Xx]"),  # resident ID numbers
    re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)"),  # mobile numbers
    re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"),  # credit codes
]


def _masked(match):
    found = match.group(0)
    return found[:3] + "*" * (len(found) - 5) + found[-2:]


def mask(text):
    """Replace personal identifiers in free text with a masked form (keep the first 3, last 2)."""
    for pattern in _ID_PATTERNS:
        text = pattern.sub(_masked, text)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service):
        super().__init__()
        self.service = service

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
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
