"""Time as a dependency, so deadlines and supervision are tested in seconds (STYLE §5).

Two test hooks, both off unless set: CLOCK_OFFSET_SECONDS shifts a process's clock
from its start; CLOCK_OFFSET_FILE names a file holding an offset in seconds that a
test may rewrite while the mesh runs ("ten working days later").
"""

from datetime import datetime, timedelta, timezone
import os

from nameko.extensions import DependencyProvider

_file_offset = {"mtime": None, "value": 0.0}


def _offset_from_file(path):
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return 0.0
    if mtime != _file_offset["mtime"]:
        try:
            with open(path, encoding="ascii") as handle:
                _file_offset["value"] = float(handle.read().strip() or 0)
        except (OSError, ValueError):
            return _file_offset["value"]
        _file_offset["mtime"] = mtime
    return _file_offset["value"]


def utcnow():
    """Now, shifted by CLOCK_OFFSET_SECONDS and CLOCK_OFFSET_FILE when they are set."""
    offset = float(os.environ.get("CLOCK_OFFSET_SECONDS", "0"))
    path = os.environ.get("CLOCK_OFFSET_FILE")
    if path:
        offset += _offset_from_file(path)
    return datetime.now(timezone.utc) + timedelta(seconds=offset)


class Clock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return utcnow
