"""Rule-driven reference decisions, so demos, tests and benchmarks can drive every outcome.

A rules file (YAML) has a default answer and rules tried in order; the first
rule whose `when` patterns all full-match the task decides. Patterns are regular
expressions over dotted paths into the task (`applicant.name`, `form.x`,
`department`, `attempt`); `{department}` in a pattern or reason stands for the task's
department. `latency_ms` delays the answer (simulated work). Decision `none` gives
no answer at all (the task waits for an officer, or for supervision to flag it);
materials `first_item_material` asks for the first material the item needs. An approval
of a task with a fee carries its payment (the department's cashier took it), unless the
rule says `payment: none` (the task then waits for a payment_confirmed message).
"""

import hashlib
import os
import re
import time
from pathlib import Path

import yaml

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.yaml")


def lookup(task, path):
    value = task
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def reference_number(task):
    digest = hashlib.sha256(task["task_id"].encode()).hexdigest()[:10].upper()
    return f"{task['item_code']}-{digest}"


class Rules:
    def __init__(self, spec):
        self.default = spec.get("default", {"decision": "approved"})
        self.rules = spec.get("rules", [])

    @classmethod
    def from_file(cls, path=None):
        path = path or os.environ.get("DEPARTMENT_RULES_FILE") or DEFAULT_RULES_FILE
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def answer(self, task):
        """The decision dict for a task, per the first matching rule (or the default)."""
        chosen = self.default
        for rule in self.rules:
            if all(
                re.fullmatch(pattern.format(department=task["department"]), str(lookup(task, path)))
                for path, pattern in rule.get("when", {}).items()
            ):
                chosen = rule
                break
        latency = chosen.get("latency_ms", self.default.get("latency_ms", 0)) / 1000.0
        if chosen.get("decision") == "none":  # no answer: left to an officer, or to time out
            return None, latency
        materials = chosen.get("materials", [])
        if materials == "first_item_material":
            materials = (task.get("item_materials") or [m["code"] for m in task["materials"]])[:1]
        answer = {
            "decision": chosen.get("decision", "approved"),
            "reason": chosen.get("reason", "").format(department=task["department"]),
            "materials": materials,
            "data": {},
        }
        if answer["decision"] == "approved":
            answer["data"] = {"reference_number": reference_number(task)}
            fee = float(task.get("fee") or 0)
            if fee > 0 and chosen.get("payment") != "none":  # the fee was paid at its window
                answer["payment"] = {
                    "amount": fee,
                    "receipt_number": "PAY-" + reference_number(task),
                }
        return answer, latency

    def decide(self, task, sleep=time.sleep):
        answer, latency = self.answer(task)
        if latency:
            sleep(latency)
        return answer
