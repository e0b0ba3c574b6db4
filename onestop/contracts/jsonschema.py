"""JSON Schemas of the department boundary, generated from the marshmallow schemas.

The marshmallow schemas in `envelope.py` and `messages.py` are the source of
truth; `docs/schemas/v<major>/*.json` are generated from them and referenced by
`docs/asyncapi.yaml`. A unit test fails when the files and the schemas drift.

    python -m onestop.contracts.jsonschema            # (re)write docs/schemas/v1/
    python -m onestop.contracts.jsonschema --check    # exit 1 if they drifted

Only the field kinds and validators the contract uses are translated; an
unknown one raises, so a new kind cannot slip into the contract undocumented.
"""

import argparse
import json
import sys
from pathlib import Path

from marshmallow import EXCLUDE, INCLUDE, RAISE, fields, missing, validate

from onestop.contracts import messages
from onestop.contracts.envelope import SCHEMA_VERSION, EnvelopeSchema

DRAFT = "http://json-schema.org/draft-07/schema#"
ROOT = Path(__file__).resolve().parents[2]
MAJOR = SCHEMA_VERSION.split(".")[0]
SCHEMAS_DIR = ROOT / "docs" / "schemas" / f"v{MAJOR}"

# descriptions for schemas whose class has no docstring
DESCRIPTIONS = {
    "envelope": "The envelope every message on the department boundary travels in; `payload` "
    "is the payload schema named by `type`.",
    messages.CANCELLATION: "A task that a department received is no longer wanted (the "
    "application was rejected elsewhere or withdrawn).",
}

RESULT_DATA_KEY = "^[^.$\\u0000][^$\\u0000]*$"  # messages.key_problem, as a pattern

_SIMPLE_TYPES = {
    fields.String: "string",
    fields.Integer: "integer",
    fields.Float: "number",
    fields.Boolean: "boolean",
    fields.Dict: "object",
}


class UntranslatableField(TypeError):
    """A marshmallow field or validator the generator does not know how to describe."""


def field_schema(field, definitions):
    """The JSON Schema of one marshmallow field (validators included)."""
    if isinstance(field, fields.Nested):
        nested = field.nested
        name = (nested if isinstance(nested, type) else type(nested)).__name__
        name = name.removesuffix("Schema")
        if name not in definitions:
            definitions[name] = None  # reserve the name before recursing
            definitions[name] = object_schema(
                nested if isinstance(nested, type) else type(nested), definitions
            )
        schema = {"$ref": f"#/definitions/{name}"}
    elif isinstance(field, fields.List):
        schema = {"type": "array", "items": field_schema(field.inner, definitions)}
    else:
        kind = next((t for cls, t in _SIMPLE_TYPES.items() if type(field) is cls), None)
        if kind is None:
            raise UntranslatableField(f"no JSON Schema for {type(field).__name__}")
        schema = {"type": kind}
    for validator in field.validators:
        schema.update(validator_schema(validator))
    if field.load_default is not missing and not callable(field.load_default):
        schema["default"] = field.load_default
    elif callable(field.load_default):
        schema["default"] = field.load_default()
    if field.allow_none:
        schema = (
            {"type": [schema["type"], "null"], **{k: v for k, v in schema.items() if k != "type"}}
            if "type" in schema
            else {"anyOf": [schema, {"type": "null"}]}
        )
    return schema


def validator_schema(validator):
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.Length):
        bounds = {}
        if validator.min is not None:
            bounds["minLength"] = validator.min
        if validator.max is not None:
            bounds["maxLength"] = validator.max
        if validator.equal is not None:
            bounds.update(minLength=validator.equal, maxLength=validator.equal)
        return bounds
    if isinstance(validator, validate.Regexp):
        return {"pattern": validator.regex.pattern}
    if isinstance(validator, messages.ResultData):
        # JSON Schema cannot bound an encoded size or a depth: said in words; the keys of
        # the first level as a pattern (the same rule holds at every depth)
        return {
            "description": (
                f"Free-form, at most {validator.max_bytes} bytes encoded as compact JSON "
                f"(UTF-8), nested at most {validator.max_depth} objects or arrays deep; "
                "every key, at any depth, a non-empty string without '$', a leading '.' "
                "or NUL. A result breaking this is dead-lettered with the reason."
            ),
            "propertyNames": {"pattern": RESULT_DATA_KEY},
        }
    if isinstance(validator, validate.Range):
        bounds = {}
        if validator.min is not None:
            bounds["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
        if validator.max is not None:
            bounds["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        return bounds
    raise UntranslatableField(f"no JSON Schema for validator {type(validator).__name__}")


def object_schema(schema_class, definitions, description=None):
    schema = schema_class()
    properties, required = {}, []
    for name, field in schema.fields.items():
        properties[name] = field_schema(field, definitions)
        if field.required:
            required.append(name)
    result = {"type": "object"}
    text = description or (schema_class.__doc__ or "").strip()
    if text:
        result["description"] = " ".join(text.split())
    result["properties"] = properties
    result["required"] = required
    # RAISE refuses unknown keys; INCLUDE keeps them and EXCLUDE drops them: both accept them,
    # which is what lets a producer add a field without a new version (docs/asyncapi.yaml).
    result["additionalProperties"] = schema.unknown in (INCLUDE, EXCLUDE)
    if schema.unknown not in (INCLUDE, EXCLUDE, RAISE):
        raise UntranslatableField(f"unknown policy {schema.unknown!r}")
    return result


def documents():
    """file stem -> marshmallow schema: the envelope and every payload type of the contract."""
    return {"envelope": EnvelopeSchema, **messages.PAYLOAD_SCHEMAS}


def document(stem):
    definitions = {}
    body = object_schema(documents()[stem], definitions, DESCRIPTIONS.get(stem))
    doc = {"$schema": DRAFT, "title": f"{stem} (schema version {SCHEMA_VERSION})", **body}
    if definitions:
        doc["definitions"] = dict(sorted(definitions.items()))
    return doc


def render(stem):
    return json.dumps(document(stem), indent=2, ensure_ascii=False) + "\n"


def generated():
    """file name -> text, for every document of the current major version."""
    return {f"{stem}.json": render(stem) for stem in documents()}


def drift(directory=SCHEMAS_DIR):
    """The files under `directory` that differ from (or are missing against) the generator."""
    stale = []
    for name, text in generated().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write(directory=SCHEMAS_DIR):
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in generated().items():
        (directory / name).write_text(text, encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if docs/schemas differ from the marshmallow schemas",
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = drift()
        if stale:
            print(
                f"docs/schemas/v{MAJOR} drifted from onestop/contracts: {', '.join(stale)}; "
                f"run `python -m onestop.contracts.jsonschema`",
                file=sys.stderr,
            )
            return 1
        print(f"docs/schemas/v{MAJOR} match onestop/contracts")
        return 0
    write()
    print(f"wrote {', '.join(generated())} to {SCHEMAS_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
