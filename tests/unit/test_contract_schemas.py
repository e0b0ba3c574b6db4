"""The published JSON Schemas say exactly what the marshmallow contract accepts."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from marshmallow import Schema, ValidationError, fields
from referencing import Registry, Resource

from departments.sdk.pika_worker import result_envelope
from onestop.common.working_days import WorkingCalendar
from onestop.contracts import jsonschema as generator
from onestop.contracts import messages
from onestop.contracts.envelope import open_envelope
from services.routing import domain

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def registry():
    """Every file under docs/ that a schema can $ref, by its path relative to docs/."""
    resources = []
    for path in (DOCS / "schemas").rglob("*.json"):
        relative = "./" + path.relative_to(DOCS).as_posix()
        resources.append((relative, Resource.from_contents(json.loads(path.read_text()))))
    return Registry().with_resources(resources)


def message_validator(message_type):
    """The validator of a whole message (envelope + payload), as the AsyncAPI document says."""
    asyncapi = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    message = next(
        m for m in asyncapi["components"]["messages"].values() if m["name"] == message_type
    )
    return Draft7Validator(message["payload"]["schema"], registry=registry())


def test_published_schemas_match_the_marshmallow_schemas():
    assert generator.drift() == [], "run: python -m onestop.contracts.jsonschema"


def test_drift_is_detected(tmp_path):
    generator.write(tmp_path)
    assert generator.drift(tmp_path) == []
    path = tmp_path / "approval_result.json"
    schema = json.loads(path.read_text())
    schema["properties"]["decision"]["enum"].append("maybe")
    path.write_text(json.dumps(schema, indent=2))
    (tmp_path / "task_cancelled.json").unlink()
    assert sorted(generator.drift(tmp_path)) == ["approval_result.json", "task_cancelled.json"]


def test_every_generated_schema_is_valid_draft_7():
    for text in generator.generated().values():
        Draft7Validator.check_schema(json.loads(text))


def test_a_field_kind_the_generator_does_not_know_is_refused():
    class WithDate(Schema):
        when = fields.DateTime()

    with pytest.raises(generator.UntranslatableField):
        generator.object_schema(WithDate, {})


def test_every_payload_type_is_an_asyncapi_message_with_its_schema():
    asyncapi = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    by_name = {m["name"]: m for m in asyncapi["components"]["messages"].values()}
    assert set(by_name) == set(messages.PAYLOAD_SCHEMAS)
    major = generator.MAJOR
    for name, message in by_name.items():
        parts = message["payload"]["schema"]["allOf"]
        assert parts[0] == {"$ref": f"./schemas/v{major}/envelope.json"}
        assert parts[1]["properties"]["type"] == {"const": name}
        assert parts[1]["properties"]["payload"] == {"$ref": f"./schemas/v{major}/{name}.json"}
    assert asyncapi["info"]["version"].split(".")[0] == major


def test_the_asyncapi_examples_are_valid_messages_the_platform_accepts():
    asyncapi = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    checked = 0
    for message in asyncapi["components"]["messages"].values():
        for example in message["examples"]:
            message_validator(message["name"]).validate(example["payload"])
            open_envelope(example["payload"], {message["name"]}, messages.PAYLOAD_SCHEMAS)
            checked += 1
    assert checked >= 4


def platform_messages():
    """Messages exactly as routing and the SDK produce them."""
    submitted = {
        "application_id": "app1",
        "scenario": "birth",
        "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "Li Hua"},
        "region": "430102",
        "channel": "online",
        "form": {"child_name": "Li Ming"},
        "materials": [{"code": "birth_record", "file_id": "f1"}],
        "submitted_at": NOW.isoformat(),
    }
    plan = {
        "catalog_version": 1,
        "promised_days": 5,
        "tasks": [
            {
                "item_code": "HN-WJ-0001",
                "item_name": "Birth certificate",
                "department": "health",
                "level": "county",
                "region": "430102",
                "office": "health.430102",
                "depends_on": [],
                "promised_days": 2,
                "legal_days": 5,
                "license_type": None,
            }
        ],
    }
    workflow, sent = domain.new_workflow(
        submitted, plan, NOW, WorkingCalendar({"holidays": [], "workdays": []})
    )
    task_body = next(m["body"] for m in sent if m["kind"] == "amqp")
    task = task_body["payload"]
    cancel = domain.cancellation_message(workflow, workflow["tasks"]["HN-WJ-0001"], "withdrawn")
    answer = result_envelope(
        task,
        {"decision": "approved", "data": {"reference_number": "R1"}, "decided_by": "clerk-0731"},
    )
    return [task_body, cancel["body"], answer]


@pytest.mark.parametrize("index", range(3))
def test_what_the_platform_sends_is_valid_against_the_published_schemas(index):
    body = platform_messages()[index]
    message_validator(body["type"]).validate(body)


BAD_RESULTS = [
    ("decision", "maybe"),
    ("task_id", ""),
    ("task_id", None),
    ("reason", "x" * 2001),
    ("decided_by", "x" * 201),
    ("materials", "birth_record"),
]


@pytest.mark.parametrize("field,value", BAD_RESULTS)
def test_the_schemas_refuse_what_marshmallow_refuses(field, value):
    answer = platform_messages()[2]
    payload = dict(answer["payload"], **{field: value})
    with pytest.raises(ValidationError):
        messages.ApprovalResultSchema().load(payload)
    errors = list(message_validator("approval_result").iter_errors(dict(answer, payload=payload)))
    assert errors, f"the JSON Schema accepted {field}={value!r}"


def test_unknown_fields_are_accepted_so_additive_changes_keep_the_version():
    body = platform_messages()[0]
    body["payload"]["new_optional_field"] = "added in 1.1"
    message_validator("approval_task").validate(body)
    assert open_envelope(
        dict(body, schema_version="1.1"), {"approval_task"}, messages.PAYLOAD_SCHEMAS
    )["payload"]["task_id"]
