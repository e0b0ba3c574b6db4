"""The department SDK: receive approval tasks, answer with decisions.

Two ways, one handler signature `handler(task: dict) -> dict`, where the dict is
`{"decision": "approved"|"rejected"|"correction_required", "reason": str,
"data": dict, "materials": [codes]}`:

- `departments.sdk.nameko_entrypoint.approval_task`: a nameko entrypoint;
- `departments.sdk.pika_worker.run_worker`: a plain pika worker that needs
  nothing of ours but the message schemas in `onestop.contracts`.

Both acknowledge a task only after its result was confirmed by the broker.
"""
