"""A department's consumer of One-step Approval tasks, made from departments/template/.

Follow docs/department-guide.md. In short: set DEPARTMENT and AMQP_URI (the broker URI
of your department's user, from the platform's operator), write your rules in
`decide`, run the tests (`python -m pytest`), then `python department.py`.

The SDK's pika worker does the rest: it validates each task against the contract,
publishes your answer with publisher confirms and your broker user as `user_id`,
acknowledges the task only after the broker confirmed the answer, dead-letters what it
cannot read, and reconnects after the broker goes away (a task that was not
acknowledged comes back, so `decide` must give the same answer twice).
"""

import hashlib
import logging
import os
import signal
import sys

from departments.sdk.pika_worker import Worker

log = logging.getLogger("department")


def reference_number(task):
    """Your case number for the task: the same task always gets the same number."""
    digest = hashlib.sha256(task["task_id"].encode()).hexdigest()[:10].upper()
    return f"{task['item_code']}-{digest}"


def decide(task):
    """Your department's decision on one task (docs/schemas/v1/approval_task.json).

    Return {"decision": "approved", "data": {...}} (data goes to later tasks and the
    e-licence), {"decision": "rejected", "reason": "..."} or
    {"decision": "correction_required", "reason": "...", "materials": [codes]}
    (everything missing at once). Return None to leave the task to an officer.
    """
    # -- your rules go here (step 4 of the guide) --
    return {"decision": "approved", "data": {"reference_number": reference_number(task)}}


def on_cancel(cancellation):
    """The platform no longer wants a task (rejected elsewhere, withdrawn): stop work on it."""
    log.info("task %s cancelled: %s", cancellation["task_id"], cancellation["reason"])


def main():
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("pika").setLevel(logging.WARNING)
    department = os.environ.get("DEPARTMENT")
    amqp_uri = os.environ.get("AMQP_URI")
    if not department or not amqp_uri:
        print(
            "set DEPARTMENT (your department code) and AMQP_URI (your broker user's URI)",
            file=sys.stderr,
        )
        return 2
    worker = Worker(
        amqp_uri,
        [department],
        decide,
        on_cancel=on_cancel,
        prefetch=int(os.environ.get("PREFETCH", 10)),
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
