"""intake's rules: who may apply, validating an application against its scenario, the
idempotent submission, corrections and withdrawals. Pure functions, no nameko, no pymongo;
refusals are onestop.common.errors exceptions (mapped to HTTP statuses in one table)."""

import datetime as dt
import hashlib
import json
import uuid

from marshmallow import Schema, fields, validate, ValidationError, RAISE

from onestop.common.errors import Conflicting, Invalid, NotAllowed, Unknown
from onestop.common.scopes import check_counter_clerk
from services.intake import once_only

FINAL_STATUSES = ("approved", "rejected", "withdrawn", "not_accepted")

FIELD_TYPES = {
    "string": fields.String,
    "integer": lambda **kw: fields.Integer(strict=True, **kw),
    "number": fields.Float,
    "boolean": fields.Boolean,
    "date": fields.Date,
}


def form_schema(form_fields):
    """A marshmallow schema for a scenario's form, built from the catalog's field definitions."""
    declared = {}
    for field in form_fields:
        validators = []
        if "enum" in field:
            validators.append(validate.OneOf(field["enum"]))
        if "pattern" in field:
            validators.append(validate.Regexp(field["pattern"]))
        if "minimum" in field or "maximum" in field:
            validators.append(validate.Range(min=field.get("minimum"), max=field.get("maximum")))
        if field.get("type", "string") == "string":
            validators.append(validate.Length(min=1, max=field.get("maxLength", 200)))
        declared[field["name"]] = FIELD_TYPES[field.get("type", "string")](
            required=field.get("required", True), validate=validators
        )
    return Schema.from_dict(declared, name="Form")(unknown=RAISE)


def validate_application(body, scenario, region, uploads, licenses=None):
    """Check an application (already shape-checked) against its scenario.

    scenario: the catalog's scenario view; region: the catalog's region or None;
    uploads: the set of known upload file ids; licences: what the license service said
    about the e-licences used (services.intake.once_only.resolve). Returns the normalised
    form; raises ValidationError with per-field messages.
    """
    errors = {}
    if body["applicant"]["kind"] not in scenario["applicant_kinds"]:
        errors["applicant"] = {
            "kind": [
                f"{scenario['code']} accepts applicants of kind "
                f"{', '.join(scenario['applicant_kinds'])}"
            ]
        }
    if region is None:
        errors["region"] = ["unknown region; see GET /api/regions"]
    elif region["level"] not in ("county", "township"):
        errors["region"] = [
            "name the county or district (a county-level GB/T 2260 code), or the township "
            "or street (乡镇/街道) where an item is handled there"
        ]
    optional = {i["code"] for i in scenario["items"] if i["optional"]}
    unknown_optional = sorted(set(body["optional_items"]) - optional)
    if unknown_optional:
        errors["optional_items"] = [
            f"not optional items of {scenario['code']}: "
            f"{', '.join(unknown_optional)}; choose from "
            f"{', '.join(sorted(optional)) or 'none'}"
        ]
    form = None
    try:
        form = form_schema(scenario["form_fields"]).load(body["form"])
    except ValidationError as exc:
        errors["form"] = exc.messages
    material_errors = check_materials(body, scenario, uploads, licenses)
    if material_errors:
        errors["materials"] = material_errors
    if errors:
        raise ValidationError(errors)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in form.items()}


def required_materials(scenario, optional_items):
    chosen = {
        i["code"]
        for i in scenario["items"]
        if not i["optional"] or i["code"] in set(optional_items)
    }
    return [
        m["code"]
        for m in scenario["checklist"]
        if set(m["items"]) & chosen and m.get("provided_by") not in chosen
    ]


def provided_materials(scenario, optional_items):
    """Materials of the chosen items that an earlier chosen item of the package produces."""
    chosen = {
        i["code"]
        for i in scenario["items"]
        if not i["optional"] or i["code"] in set(optional_items)
    }
    return [m["code"] for m in scenario["checklist"] if m.get("provided_by") in chosen]


def check_materials(body, scenario, uploads, licenses=None):
    """Per-material messages: unknown codes, duplicates, unknown files, unusable e-licences,
    missing materials (a material filled from a valid e-licence is not missing)."""
    licenses = licenses or {"given": {}, "held": {}}
    errors = {}
    needed = required_materials(scenario, body["optional_items"])
    # a material the package produces itself may still be given (a paper copy in hand)
    accepted = set(needed) | set(provided_materials(scenario, body["optional_items"]))
    seen = set()
    for index, material in enumerate(body["materials"]):
        code = material["code"]
        if code not in accepted:
            errors[str(index)] = {"code": [f"{code} is not on this application's checklist"]}
        elif code in seen:
            errors[str(index)] = {"code": [f"{code} is given twice"]}
        elif material.get("license_id"):
            problem = once_only.license_problem(index, material, scenario, licenses)
            if problem:
                errors[str(index)] = {"license_id": [problem]}
        elif material["file_id"] not in uploads:
            errors[str(index)] = {"file_id": [not_your_upload(code)]}
        seen.add(code)
    missing = [
        code
        for code in needed
        if code not in seen and not once_only.is_filled(code, scenario, licenses)
    ]
    if missing:
        errors["missing"] = [
            once_only.missing_message(code, scenario, licenses) for code in missing
        ]
    return errors


def not_your_upload(code):
    """An upload id the caller did not upload (or that does not exist: the same answer, so
    an id seen elsewhere tells nothing about whose file it is)."""
    return f"{code}: no upload of yours with this id; upload the file with POST /api/uploads"


def check_correction(view_tasks, materials, uploads):
    """Per-field messages for a correction against what the departments asked for.

    view_tasks: the tasks of the latest status snapshot. Returns (task_ids, errors).
    """
    waiting = [t for t in view_tasks if t["state"] == "correction_required"]
    asked = {code for t in waiting for code in t.get("requested_materials", [])}
    errors = {}
    given = set()
    for index, material in enumerate(materials):
        if material["code"] not in asked:
            errors[str(index)] = {
                "code": [
                    f"{material['code']} was not asked for; asked: "
                    f"{', '.join(sorted(asked)) or 'nothing'}"
                ]
            }
        elif material["file_id"] not in uploads:
            errors[str(index)] = {"file_id": [not_your_upload(material["code"])]}
        given.add(material["code"])
    missing = sorted(asked - given)
    if missing:
        errors["missing"] = [f"asked-for material {code} is missing" for code in missing]
    return [t["task_id"] for t in waiting], errors


# -- who applies -------------------------------------------------------------------------
def check_submitter(principal, body):
    """Applicants apply for themselves online or by mobile; counter clerks apply on behalf
    of the applicant at the counter, inside their counter's region."""
    if principal.role == "applicant":
        if body["applicant"]["id_number"] != principal.sub:
            raise NotAllowed("an applicant may apply only for themselves")
        if body["channel"] == "counter":
            raise NotAllowed(
                "the counter channel is for counter clerks",
                fields={"channel": ["online or mobile for applicants"]},
            )
    elif body["channel"] != "counter":
        raise NotAllowed(
            "a counter clerk applies through the counter channel",
            fields={"channel": ["counter for clerks"]},
        )
    else:
        check_counter_clerk(principal, body["region"])
    if body.get("counter") and body["channel"] != "counter":
        raise Invalid(
            "only a counter application names its service centre",
            fields={"counter": ["only with channel counter"]},
        )


def counter_of(principal, body):
    """Where a counter application was received: the clerk's region (from their token, else
    the application's) and the service centre the body names; None for other channels."""
    if body["channel"] != "counter":
        return None
    named = body.get("counter") or {}
    return {
        "region": principal.region or body["region"],
        "centre_code": named.get("centre_code"),
        "centre_name": named.get("centre_name"),
        "window": named.get("window"),
        "clerk": principal.sub,
    }


def list_criteria(principal, query):
    """Whose applications a list shows: an applicant their own, a clerk their own
    submissions in their counter's region, supervisors those of their region (all without
    one), operators all (or one applicant's); then the filters."""
    criteria = {
        "applicant": None,
        "clerk": None,
        # a supervisor's region; a clerk's counter (their work at another counter is not theirs)
        "region": principal.region if principal.role in ("supervisor", "clerk") else None,
        "status": query["status"],
        "scenario": query["scenario"],
    }
    if principal.role == "applicant":
        if query["applicant"] not in (None, principal.sub):
            raise NotAllowed(
                "an applicant sees only their own applications",
                fields={"applicant": ["only your own ID number"]},
            )
        criteria["applicant"] = principal.sub
    elif principal.role == "clerk":
        criteria["clerk"] = principal.sub
    if query["applicant"] and principal.role != "applicant":
        criteria["applicant"] = query["applicant"]
    return criteria


# -- submitting --------------------------------------------------------------------------
def upload_ids(materials):
    """The upload ids an application's (or a correction's) materials name."""
    return [m["file_id"] for m in materials if m.get("file_id")]


def listed_scenario(scenario, code):
    """The catalog's scenario view, or Unknown when the catalog has none by that code."""
    if scenario is None:
        raise Unknown(f"no scenario {code!r}; see GET /api/scenarios")
    return scenario


def known_scenario(scenario, code):
    """The catalog's scenario view, or Invalid when the catalog has none by that code."""
    if scenario is None:
        raise Invalid(
            "validation failed",
            fields={"scenario": [f"unknown scenario {code!r}; see GET /api/scenarios"]},
        )
    return scenario


def checked_form(body, scenario, region, uploads, licenses):
    """validate_application, refusing with Invalid and the per-field messages."""
    try:
        return validate_application(body, scenario, region, uploads, licenses)
    except ValidationError as exc:
        raise Invalid("validation failed", fields=exc.messages) from None


def fingerprint(body):
    """What tells a retry (same body) from a different application under the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def submission(body, scenario, form, materials, principal, idempotency_key, now):
    """(the application_submitted payload, the application to store) of a new application."""
    submitted = submitted_event(body, scenario, form, materials, principal, now)
    return submitted, new_application(submitted, body, idempotency_key)


def submitted_event(body, scenario, form, materials, principal, now):
    """The application_submitted payload of a new application (a new id)."""
    return {
        "application_id": uuid.uuid4().hex,
        "scenario": scenario["code"],
        "catalog_version": scenario["catalog_version"],
        "applicant": body["applicant"],
        "region": body["region"],
        "channel": body["channel"],
        "form": form,
        "materials": materials,
        "optional_items": body["optional_items"],
        "submitted_at": now.isoformat(),
        "submitted_by": {"role": principal.role, "sub": principal.sub},
        "counter": counter_of(principal, body),
    }


def new_application(submitted, body, idempotency_key):
    """The stored application: what was submitted, its status (routing's view comes later)
    and what identifies a retry (the applicant's key and the body's fingerprint)."""
    return dict(
        submitted,
        _id=submitted["application_id"],
        status="submitted",
        tasks=[],
        decision=None,
        view_rev=0,
        fingerprint=fingerprint(body),
        idempotency_key=scoped_key(submitted["submitted_by"], idempotency_key),
    )


def scoped_key(caller, idempotency_key):
    """An Idempotency-Key belongs to its caller ({"role", "sub"}): the same key from an
    applicant and from a clerk acting for them, or from two clerks, names two submissions."""
    return f"{caller['role']}:{caller['sub']}:{idempotency_key}"


def replayed(existing, application):
    """The application already stored under the same key, for a retry of the same body."""
    if existing["fingerprint"] != application["fingerprint"]:
        raise Conflicting(
            "this Idempotency-Key was used for a different application",
            fields={"Idempotency-Key": ["reused with a different body"]},
        )
    return existing


# -- after submitting --------------------------------------------------------------------
def correction(application, materials, uploads, now):
    """The application_corrected payload: the asked-for materials, for the tasks that wait."""
    if application["status"] != "awaiting_correction":
        raise Conflicting(
            f"the application is {application['status']}; nothing awaits a correction"
        )
    task_ids, errors = check_correction(application.get("tasks", []), materials, uploads)
    if errors:
        raise Invalid("validation failed", fields={"materials": errors})
    return {
        "application_id": application["_id"],
        "correction_id": uuid.uuid4().hex,
        "task_ids": task_ids,
        "materials": materials,
        "corrected_at": now.isoformat(),
    }


def withdrawal(application, reason, now):
    """The application_withdrawn payload; only before the decision."""
    if application["status"] in FINAL_STATUSES:
        raise Conflicting(f"the application is already {application['status']}")
    return {"application_id": application["_id"], "reason": reason, "withdrawn_at": now.isoformat()}
