"""docs/events.md agrees with the code: every internal event, who publishes it and every
handler that consumes it; and every department boundary message type.

Consumers are the `@event_handler(<publisher>, <EVENT>)` decorators of
`services/*/service.py`. Publishers are the services whose modules name an event
constant where a message is built: every use of the constant except in a handler's
decorator, in `load_event(...)`, in a comparison (a filter over messages) or in an f-string
(a log line or a refusal). A consumer's decorator must name the event's publisher.
"""

import ast
import re
from collections import defaultdict
from pathlib import Path

from onestop.contracts import events, messages

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
TABLE_ROW = re.compile(r"^\|\s*`(?P<event>[a-z_]+)`\s*\|(?P<cells>.*)\|\s*$")

# the event type constants events.py defines (NAME = "noun_pastverb"), not those it imports
EVENT_TYPES = {
    node.targets[0].id: node.value.value
    for node in ast.parse(Path(events.__file__).read_text(encoding="utf-8")).body
    if isinstance(node, ast.Assign)
    and isinstance(node.value, ast.Constant)
    and isinstance(node.value.value, str)
    and node.targets[0].id.isupper()
}


def event_of(node):
    """The event type a name or `events.NAME` attribute stands for, or None."""
    if isinstance(node, ast.Name):
        return EVENT_TYPES.get(node.id)
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "events"
    ):
        return EVENT_TYPES.get(node.attr)
    return None


def service_name(tree, folder):
    """The `name = "..."` of the nameko class in a service module (else its folder)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [getattr(t, "id", None) for t in statement.targets] == ["name"]
                    and isinstance(statement.value, ast.Constant)
                ):
                    return statement.value.value
    return folder


def handlers():
    """(event type, publisher named by the decorator, 'service.method') of every handler."""
    found = set()
    for path in sorted(SERVICES.glob("*/service.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        service = service_name(tree, path.parent.name)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and getattr(decorator.func, "id", None) == "event_handler"
                ):
                    source, event_type = decorator.args[:2]
                    found.add((event_of(event_type), source.value, f"{service}.{node.name}"))
    return found


def not_publishing(tree):
    """The nodes under which naming an event does not build a message."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            skipped.update(node.decorator_list)
        elif isinstance(node, (ast.Compare, ast.JoinedStr)):
            skipped.add(node)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_event":
            skipped.add(node)
    return {id(inner) for node in skipped for inner in ast.walk(node)}


def publishers():
    """event type -> the services whose modules build it."""
    found = defaultdict(set)
    for path in sorted(SERVICES.glob("*/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = not_publishing(tree)
        for node in ast.walk(tree):
            event_type = event_of(node)
            if event_type and id(node) not in skipped:
                found[event_type].add(path.parent.name)
    return found


def code_table():
    consumers = defaultdict(set)
    for event_type, _, handler in handlers():
        consumers[event_type].add(handler)
    built = publishers()
    return {
        event_type: (
            ", ".join(sorted(built.get(event_type, ()))) or "—",
            consumers.get(event_type, set()),
        )
        for event_type in EVENT_TYPES.values()
    }


def section(title):
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def documented_table():
    """The first table of the internal events section: event -> (publisher, handlers)."""
    rows = {}
    for line in section("Internal events").split("\n\n| event | schema")[0].splitlines():
        match = TABLE_ROW.match(line)
        if match:
            publisher, consumed = [cell.strip() for cell in match["cells"].split("|")]
            rows[match["event"]] = (publisher, set(re.findall(r"`([a-z_]+\.[a-z_]+)`", consumed)))
    return rows


def test_every_event_has_one_publisher_and_its_handlers_name_it():
    built = publishers()
    for event_type in EVENT_TYPES.values():
        assert len(built.get(event_type, ())) == 1, (event_type, built.get(event_type))
    for event_type, source, handler in handlers():
        assert event_type is not None, handler
        assert built[event_type] == {source}, (handler, source, built[event_type])


def test_the_documented_events_table_is_the_codes():
    assert documented_table() == code_table()


def test_every_consumed_field_has_its_schema_row():
    """The second table names the schema each consumed event is loaded with."""
    rows = {}
    for line in section("Internal events").splitlines():
        match = TABLE_ROW.match(line)
        if match and "Schema" in match["cells"]:
            rows[match["event"]] = re.search(r"`(\w+Schema)`", match["cells"])[1]
    consumed = {event_type for event_type, _, _ in handlers()}
    assert set(rows) == consumed
    assert all(isinstance(getattr(events, schema), type) for schema in rows.values())


def test_the_documented_boundary_messages_are_the_contracts():
    documented = {
        match["event"]
        for match in map(TABLE_ROW.match, section("Department boundary").splitlines())
        if match
    }
    assert documented == set(messages.PAYLOAD_SCHEMAS)
