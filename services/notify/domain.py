"""notify's rules: which notices an event makes (from the templates table), through which
channels each person gets them, and what a person sees. No nameko, no pymongo."""

import hashlib
import re
import string
from functools import lru_cache
from pathlib import Path

import yaml

from onestop.common.errors import Invalid
from onestop.common.logs import mask

TEMPLATES_FILE = Path(__file__).with_name("templates.yaml")
INBOX = "inbox"  # always: the person's notifications at GET /api/notifications
DELIVERY_CHANNELS = ("sms", "push", "email", "file")  # chosen per person, offered per deployment
RECIPIENT_KINDS = ("applicant", "office")
# fields whose values are identity numbers: never offered to a template
PERSONAL_FIELDS = re.compile(r"(^|_)(id_number|phone|email)$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
NOTICE_FIELDS = {"name", "event", "to", "from", "key", "title", "text", "each", "when"}
REQUIRED_FIELDS = ("name", "event", "to", "from", "key", "title", "text")


class ApplicantNotYetKnown(ConnectionError):
    """An event about an application whose application_submitted has not been handled yet
    (they travel on different queues): transient, so the message is retried later
    (onestop/common/messaging.py) rather than dropped."""


def load_templates(text):
    """The notices of a templates document, checked: a ValueError names what is wrong."""
    document = yaml.safe_load(text) or {}
    notices = document.get("notices")
    if not isinstance(notices, list) or not notices:
        raise ValueError("the templates document needs a non-empty `notices` list")
    names = set()
    for position, notice in enumerate(notices):
        where = (
            f"notice {position} ({notice.get('name', '?') if isinstance(notice, dict) else '?'})"
        )
        if not isinstance(notice, dict):
            raise ValueError(f"{where}: must be a mapping")
        missing = [f for f in REQUIRED_FIELDS if not notice.get(f)]
        unknown = sorted(set(notice) - NOTICE_FIELDS)
        if missing or unknown:
            raise ValueError(f"{where}: missing {missing}, unknown {unknown}")
        if notice["to"] not in RECIPIENT_KINDS:
            raise ValueError(f"{where}: `to` must be one of {RECIPIENT_KINDS}")
        if notice["name"] in names:
            raise ValueError(f"{where}: the name is used twice")
        names.add(notice["name"])
        for field in ("key", "title", "text"):
            template = string.Template(notice[field])
            if not template.is_valid():
                raise ValueError(f"{where}: `{field}` is not a valid template")
            personal = [p for p in template.get_identifiers() if PERSONAL_FIELDS.search(p)]
            if personal:
                raise ValueError(f"{where}: `{field}` names personal fields {personal}")
        if not isinstance(notice.get("when", {}), dict):
            raise ValueError(f"{where}: `when` must map fields to values")
    return notices


@lru_cache(maxsize=1)
def templates():
    """The platform's templates table (services/notify/templates.yaml), read once."""
    return load_templates(TEMPLATES_FILE.read_text(encoding="utf-8"))


def events_with_notices(notices=None):
    return sorted({n["event"] for n in (notices or templates())})


def value_at(data, path):
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def template_fields(data, prefix=""):
    """The scalar fields of a payload as template names (nested joined by `_`), ISO times
    also as `<name>_date`; never the personal ones."""
    fields = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if PERSONAL_FIELDS.search(name):
            continue
        if isinstance(value, dict):
            fields.update(template_fields(value, f"{name}_"))
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            fields[name] = value
            if isinstance(value, str) and ISO_TIME.match(value):
                fields[f"{name}_date"] = value[:10]
    return fields


def matches(data, when):
    for path, wanted in (when or {}).items():
        value = value_at(data, path)
        if value not in (wanted if isinstance(wanted, list) else [wanted]):
            return False
    return True


def render(template, fields):
    """The template filled in; KeyError names a field the payload lacks."""
    return mask(string.Template(template).substitute(fields))


def person_of(kind, identifier):
    return f"{kind}:{identifier}"


def notices(event_type, payload, applicant_of, notices_table=None):
    """The notices an event makes: dicts with notice (its name), key, person, title, text,
    application_id. applicant_of(application_id) -> id_number or None (then
    ApplicantNotYetKnown). KeyError when a template names a field the payload lacks."""
    made = []
    for notice in notices_table or templates():
        if notice["event"] != event_type:
            continue
        elements = value_at(payload, notice["each"]) if notice.get("each") else [{}]
        for element in elements or []:
            data = dict(payload, **element) if isinstance(element, dict) else dict(payload)
            if not matches(data, notice.get("when")):
                continue
            identifier = recipient(notice, data, applicant_of)
            fields = template_fields(data)
            made.append(
                {
                    "notice": notice["name"],
                    "key": f"{event_type}/{notice['name']}/{render(notice['key'], fields)}",
                    "person": person_of(notice["to"], identifier),
                    "title": render(notice["title"], fields),
                    "text": render(notice["text"], fields),
                    "application_id": data.get("application_id"),
                }
            )
    return made


def recipient(notice, data, applicant_of):
    if notice["to"] == "applicant" and notice["from"] == "application":
        identifier = applicant_of(data["application_id"])
        if not identifier:
            raise ApplicantNotYetKnown(
                f"the applicant of {data['application_id']} is not known yet "
                f"(its application_submitted is still on its way)"
            )
        return identifier
    identifier = value_at(data, notice["from"])
    if not identifier:
        raise KeyError(notice["from"])
    return identifier


def notification_id(key, person, channel):
    """The same event, person and channel always give the same id (a replay is a no-op)."""
    return hashlib.sha256(f"{key}|{person}|{channel}".encode()).hexdigest()[:32]


def channels_for(preferences, offered):
    """The inbox, plus the delivery channels the person chose (all offered ones when they
    chose none) that this deployment offers."""
    chosen = preferences.get("channels") if preferences else None
    wanted = offered if chosen is None else [c for c in chosen if c in offered]
    return [INBOX, *[c for c in DELIVERY_CHANNELS if c in wanted]]


def notifications(notice, preferences, offered, now):
    """The documents to store for one notice: one per channel, each with its address."""
    preferences = preferences or {}
    docs = []
    for channel in channels_for(preferences, offered):
        address = address_for(channel, notice["person"], preferences)
        if address is None:
            continue  # e.g. sms chosen before a phone number was given: nothing to send to
        docs.append(
            {
                "_id": notification_id(notice["key"], notice["person"], channel),
                "event_key": notice["key"],
                "person": notice["person"],
                "channel": channel,
                "address": address,
                "notice": notice["notice"],
                "title": notice["title"],
                "text": notice["text"],
                "application_id": notice["application_id"],
                "created_at": now.isoformat(),
                "created_ts": now.timestamp(),
                "state": "delivered" if channel == INBOX else "pending",
                "attempts": 0,
                "read": False,  # a boolean, not read_at: the embedded store matches no null
                "read_at": None,
            }
        )
    return docs


def address_for(channel, person, preferences):
    if channel == "sms":
        return preferences.get("phone")
    if channel == "email":
        return preferences.get("email")
    if channel == "push":
        return person  # the app's account: the push gateway addresses it by this
    return masked_person(person)  # inbox, file: nothing is sent anywhere by it


def person_of_principal(principal):
    """Whose inbox a caller reads: an applicant their own, an officer their office's."""
    if principal.role == "applicant":
        return person_of("applicant", principal.sub)
    if principal.role == "officer" and principal.office:
        return person_of("office", principal.office)
    return None


def masked_person(person):
    return mask(person)


def delivery_message(doc):
    """What a delivery channel sends: the text, never an identity number in clear."""
    return {
        "notification_id": doc["_id"],
        "to": doc["address"],
        "recipient": masked_person(doc["person"]),
        "title": doc["title"],
        "text": doc["text"],
        "notice": doc["notice"],
        "created_at": doc["created_at"],
    }


def inbox_view(doc):
    return {
        "id": doc["_id"],
        "notice": doc["notice"],
        "title": doc["title"],
        "text": doc["text"],
        "application_id": doc.get("application_id"),
        "created_at": doc["created_at"],
        "read": bool(doc.get("read")),
        "read_at": doc.get("read_at"),
    }


def checked_preferences(body, offered):
    """A person's choice, checked against this deployment: Invalid with per-field messages
    for a channel it does not offer, or sms/email without their address."""
    problems = {}
    not_offered = {
        str(i): [f"channel {c!r} is not offered here (offered: {', '.join(offered) or 'none'})"]
        for i, c in enumerate(body["channels"])
        if c not in offered
    }
    if not_offered:
        problems["channels"] = not_offered
    if "sms" in body["channels"] and not body.get("phone"):
        problems["phone"] = ["a mobile number is needed for sms"]
    if "email" in body["channels"] and not body.get("email"):
        problems["email"] = ["an e-mail address is needed for email"]
    if problems:
        raise Invalid("these notification preferences cannot be kept", fields=problems)
    return {
        "channels": [c for c in DELIVERY_CHANNELS if c in body["channels"]],
        "phone": body.get("phone"),
        "email": body.get("email"),
    }


def preferences_view(preferences, offered):
    preferences = preferences or {}
    return {
        "channels": channels_for(preferences, offered)[1:],
        "chosen": preferences.get("channels") is not None,
        "offered": list(offered),
        "phone": mask(preferences["phone"]) if preferences.get("phone") else None,
        "email": preferences.get("email"),
        "always": [INBOX],
    }
