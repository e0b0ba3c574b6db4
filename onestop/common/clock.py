"""Time as a dependency, so deadlines and supervision are tested in seconds (STYLE §5)."""
from datetime import datetime, timedelta, timezone
import os

from nameko.extensions import DependencyProvider


def utcnow():
    """Now, shifted by CLOCK_OFFSET_SECONDS (for supervision tests against a running mesh)."""
    offset = float(os.environ.get("CLOCK_OFFSET_SECONDS", "0"))
    return datetime.now(timezone.utc) + timedelta(seconds=offset)


class Clock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return utcnow
