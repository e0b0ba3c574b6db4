"""Example: the taxation bureau's consumer, as a nameko service with `@approval_task`.

    cd departments/examples/nameko-department
    PYTHONPATH=/path/to/onestop \
    AMQP_URI='amqp://department.taxation:<password>@127.0.0.1:5672/' \
        nameko run --config config.yaml service

The entrypoint connects as the department's user (AMQP_URI), validates each task,
publishes the returned result with publisher confirms and the validated `user_id`,
and acknowledges the task only then. Return None to leave a task to an officer.
"""

import hashlib
import os

from departments.sdk.nameko_entrypoint import approval_task

DEPARTMENT = os.environ.get("DEPARTMENT", "taxation")


class TaxationDepartment:
    name = "taxation_department"

    @approval_task(DEPARTMENT)
    def decide(self, task):
        """Tax registration needs the business licence the market regulation task issued."""
        license = next(
            (
                data.get("business_licence_number") or data.get("reference_number")
                for data in task["inputs"].values()
                if data
            ),
            None,
        )
        if task["inputs"] and not license:
            return {
                "decision": "rejected",
                "reason": "no business licence number from the registration task",
            }
        digest = hashlib.sha256(task["task_id"].encode()).hexdigest()[:8].upper()
        return {
            "decision": "approved",
            "data": {
                "tax_registration_number": f"TAX-{task['region']}-{digest}",
                "business_licence_number": license,
            },
        }
