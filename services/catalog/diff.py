"""What changed between two catalog versions: entries added, removed and changed, field by field.

Pure functions over the loaded data dicts (services.catalog.domain.load_data);
the catalog service answers GET /api/catalog/versions/{a}/diff/{b} with them.
A delegation shows up as an item whose `level` changed (province-wide) or whose
`delegated_to` changed (by region).
"""

KEYED = ("items", "scenarios", "departments", "materials", "license_types", "regions", "guides")


def field_changes(old, new, skip=()):
    """{field: {"from": old value, "to": new value}} for every top-level field that differs."""
    return {
        key: {"from": old.get(key), "to": new.get(key)}
        for key in sorted(set(old) | set(new))
        if key not in skip and old.get(key) != new.get(key)
    }


def scenario_item_changes(old, new):
    """The package's item list compared: items added, removed, and changed in place."""
    before = {e["item"]: e for e in old.get("items", [])}
    after = {e["item"]: e for e in new.get("items", [])}
    changed = {}
    for code in before.keys() & after.keys():
        fields = {}
        for key in ("depends_on", "optional"):
            was, now = (
                before[code].get(key, [] if key == "depends_on" else False),
                after[code].get(key, [] if key == "depends_on" else False),
            )
            if was != now:
                fields[key] = {"from": was, "to": now}
        if fields:
            changed[code] = fields
    order_changed = [e for e in before if e in after] != [e for e in after if e in before]
    return {
        "added": [c for c in after if c not in before],
        "removed": [c for c in before if c not in after],
        "changed": dict(sorted(changed.items())),
        "order_changed": order_changed,
    }


def diff_entries(old_list, new_list, nested=None):
    """Entries keyed by code: added, removed and changed (with field-level changes)."""
    before = {e["code"]: e for e in old_list}
    after = {e["code"]: e for e in new_list}
    changed = []
    for code in sorted(before.keys() & after.keys()):
        if before[code] == after[code]:
            continue
        entry = {
            "code": code,
            "changes": field_changes(before[code], after[code], skip=("items",) if nested else ()),
        }
        if nested:
            entry["items"] = nested(before[code], after[code])
        changed.append(entry)
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def diff_calendar(old, new):
    result = {}
    for key in ("holidays", "workdays"):
        was, now = set(old.get(key) or []), set(new.get(key) or [])
        result[key] = {"added": sorted(now - was), "removed": sorted(was - now)}
    result["changes"] = field_changes(old, new, skip=("holidays", "workdays"))
    return result


def diff_synonyms(old, new):
    """Search synonyms (synonyms.yaml): everyday words added, removed, or meaning otherwise;
    stop words added and removed."""

    def table(synonyms):
        return {
            word: sorted(entry.get("means") or [])
            for entry in (synonyms or {}).get("synonyms") or []
            for word in entry.get("words") or []
        }

    before, after = table(old), table(new)
    stop_before, stop_after = (set((s or {}).get("stop_words") or []) for s in (old, new))
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": [
            {"word": word, "from": before[word], "to": after[word]}
            for word in sorted(before.keys() & after.keys())
            if before[word] != after[word]
        ],
        "stop_words": {
            "added": sorted(stop_after - stop_before),
            "removed": sorted(stop_before - stop_after),
        },
    }


def diff_catalogs(old, new):
    """The difference from data `old` to data `new`, per kind of entry, with a summary."""
    result = {
        name: diff_entries(
            old.get(name, []),
            new.get(name, []),
            nested=scenario_item_changes if name == "scenarios" else None,
        )
        for name in KEYED
    }
    result["calendar"] = diff_calendar(old.get("calendar") or {}, new.get("calendar") or {})
    result["synonyms"] = diff_synonyms(old.get("synonyms"), new.get("synonyms"))
    result["halls"] = field_changes(old.get("halls") or {}, new.get("halls") or {})
    result["delegations"] = [
        {
            "item": entry["code"],
            "from": entry["changes"]["level"]["from"],
            "to": entry["changes"]["level"]["to"],
        }
        for entry in result["items"]["changed"]
        if "level" in entry["changes"]
    ] + [
        {
            "item": entry["code"],
            "regional": {
                "from": entry["changes"]["delegated_to"]["from"] or [],
                "to": entry["changes"]["delegated_to"]["to"] or [],
            },
        }
        for entry in result["items"]["changed"]
        if "delegated_to" in entry["changes"]
    ]
    result["summary"] = {
        name: {kind: len(result[name][kind]) for kind in ("added", "removed", "changed")}
        for name in KEYED
    }
    return result
