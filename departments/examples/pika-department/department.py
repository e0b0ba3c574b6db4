"""Example: the market regulation bureau's consumer, on the SDK's plain pika worker.

    PYTHONPATH=/path/to/onestop DEPARTMENT=market_regulation \
    AMQP_URI='amqp://department.market_regulation:<password>@127.0.0.1:5672/' \
        python department.py

Rules of a business-registration desk, as an illustration:
- every material the item needs must be in the application; if some are missing, one
  correction request lists all of them (one-time notification);
- an enterprise name with a reserved word is rejected with the reason;
- otherwise approved, with the licence number later tasks (tax registration) receive
  in their `inputs`.
"""

import hashlib
import logging
import os
import signal
import sys

from departments.sdk.pika_worker import Worker

log = logging.getLogger("market-regulation")

# item code -> the materials the desk checks (the catalog's standard list)
REQUIRED_MATERIALS = {
    "HN-SJ-0001": [
        "legal_rep_id_card",
        "articles_of_association",
        "premises_certificate",
        "name_declaration",
    ],
}
RESERVED_WORDS = ("China", "National", "Hunan Provincial")


def license_number(task):
    """An 18-character number derived from the task: the same task, the same number."""
    digest = hashlib.sha256(task["task_id"].encode()).hexdigest().upper()
    return f"91{task['region']}{digest[:10]}"


def decide(task):
    supplied = {m["code"] for m in task["materials"]}
    missing = [c for c in REQUIRED_MATERIALS.get(task["item_code"], []) if c not in supplied]
    if missing:
        return {
            "decision": "correction_required",
            "materials": missing,
            "reason": "please supply: " + ", ".join(missing),
        }
    name = str(task["form"].get("enterprise_name", ""))
    reserved = [w for w in RESERVED_WORDS if w.lower() in name.lower()]
    if reserved:
        return {
            "decision": "rejected",
            "reason": f"the enterprise name uses the reserved word {reserved[0]!r}",
        }
    return {"decision": "approved", "data": {"business_licence_number": license_number(task)}}


def main():
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("pika").setLevel(logging.WARNING)
    worker = Worker(
        os.environ["AMQP_URI"],
        [os.environ.get("DEPARTMENT", "market_regulation")],
        decide,
        on_cancel=lambda c: log.info("task %s cancelled", c["task_id"]),
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
