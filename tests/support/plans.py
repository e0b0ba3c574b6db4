"""Catalog plans for routing tests that stand in for the catalog's `plan` RPC."""


def plan_task(item_code, item_name, department, depends_on=(), region="430102"):
    """One task of a plan: a county item of `department` in `region`, two promised days."""
    return {
        "item_code": item_code,
        "item_name": item_name,
        "department": department,
        "level": "county",
        "region": region,
        "office": f"{department}.{region}",
        "depends_on": list(depends_on),
        "promised_days": 2,
        "legal_days": 5,
        "license_type": None,
    }


def plan(*tasks, promised_days=5, catalog_version=1):
    return {
        "catalog_version": catalog_version,
        "promised_days": promised_days,
        "tasks": list(tasks),
    }
