"""The per-region review and rectification limits (data/feedback/limits.yaml by default).

FEEDBACK_LIMITS_FILE names another file. The file is read and checked in setup():
a service with an unusable configuration does not start.
"""

from pathlib import Path

import yaml
from nameko.extensions import DependencyProvider

from onestop.common.config import env
from services.feedback.domain import check_limits

DEFAULT_LIMITS_FILE = Path(__file__).resolve().parents[2] / "data" / "feedback" / "limits.yaml"


class InvalidLimits(ValueError):
    pass


def load_limits(path=DEFAULT_LIMITS_FILE):
    with open(path, encoding="utf-8") as handle:
        limits = yaml.safe_load(handle) or {}
    problems = check_limits(limits)
    if problems:
        raise InvalidLimits(f"{path}: " + "; ".join(problems))
    limits["regions"] = {
        str(code): values for code, values in (limits.get("regions") or {}).items()
    }
    return limits


class ReviewLimits(DependencyProvider):
    def setup(self):
        self.limits = load_limits(env("FEEDBACK_LIMITS_FILE") or DEFAULT_LIMITS_FILE)

    def get_dependency(self, worker_ctx):
        return self.limits
