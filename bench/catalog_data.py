"""The benchmark's own catalog: the product catalog plus packages bench_k1, bench_k5, bench_k20.

    .venv/bin/python -m bench.catalog_data OUT_DIR

Each bench_k<K> package has K independent items (no dependencies, so all K tasks fan out
at once), each of a different department, at city level (every department used has a
city office). The product catalog in data/catalog is copied, not changed; the catalog
service is pointed at the copy with CATALOG_DATA_DIR. The result passes the catalog check.
"""

import shutil
import sys
from pathlib import Path

import yaml

from services.catalog.check import check
from services.catalog.domain import DEFAULT_DATA_DIR, load_data

KS = (1, 5, 20)
MATERIAL = "applicant_id_card"


def scenario_code(k):
    return f"bench_k{k}"


def bench_departments(data, count=max(KS)):
    """The first `count` departments (catalog order) with a city office."""
    chosen = [
        d["code"]
        for d in data["departments"]
        if "city" in (d.get("offices") or {}).get("levels", [])
    ]
    if len(chosen) < count:
        raise ValueError(f"only {len(chosen)} departments have a city office; {count} needed")
    return chosen[:count]


def bench_items(departments):
    return [
        {
            "code": f"BENCH-{index:02d}",
            "name": f"Benchmark item of {department}",
            "name_zh": f"基准测试事项{index:02d}",
            "department": department,
            "level": "city",
            "legal_days": 20,
            "promised_days": 5,
            "channels": ["online", "offline"],
            "materials": [MATERIAL],
            "fee": 0,
            "legal_basis": "Benchmark only (bench/catalog_data.py); never in the product catalog",
        }
        for index, department in enumerate(departments, start=1)
    ]


def bench_guides(items):
    """A complete, consistent service guide per bench item (the check refuses items without)."""
    return {
        item["code"]: {
            "conditions": ["基准测试专用，不对外办理"],
            "legal_basis": "基准测试专用（bench/catalog_data.py）",
            "fee": "不收费",
            "delivery": ["网上送达"],
            "visits": 0,
            "promised_limit": f"{item['promised_days']}个工作日",
            "legal_limit": f"{item['legal_days']}个工作日",
        }
        for item in items
    }


def bench_scenarios(items, ks=KS):
    return [
        {
            "code": scenario_code(k),
            "name": f"Benchmark with {k} departments",
            "name_zh": f"基准测试{k}部门",
            "audience": "individual",
            "applicant_kinds": ["person"],
            "promised_days": 5,
            "description": f"{k} independent items of {k} departments, all sent at once.",
            "description_zh": f"{k}个部门的{k}个相互独立的事项，同时派发（仅供基准测试）。",
            "items": [{"item": item["code"]} for item in items[:k]],
            "checklist": [MATERIAL],
            "form": [
                {
                    "name": "note",
                    "title": "Note",
                    "title_zh": "备注",
                    "type": "string",
                    "maxLength": 50,
                }
            ],
        }
        for k in ks
    ]


def write(out_dir, source=DEFAULT_DATA_DIR):
    """Copy the catalog at `source` to `out_dir` and add the bench packages; return the
    department codes of bench_k20 in item order."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(source, out_dir)
    data = load_data(out_dir)
    departments = bench_departments(data)
    items = bench_items(departments)
    with open(out_dir / "items" / "zz_bench.yaml", "w", encoding="utf-8") as handle:
        yaml.safe_dump(items, handle, allow_unicode=True, sort_keys=False)
    with open(out_dir / "guides" / "zz_bench.yaml", "w", encoding="utf-8") as handle:
        yaml.safe_dump(bench_guides(items), handle, allow_unicode=True, sort_keys=False)
    with open(out_dir / "scenarios.yaml", "a", encoding="utf-8") as handle:
        handle.write("\n# benchmark packages (bench/catalog_data.py)\n")
        yaml.safe_dump(bench_scenarios(items), handle, allow_unicode=True, sort_keys=False)
    problems = check(load_data(out_dir))
    if problems:
        raise ValueError("the benchmark catalog fails the check: " + "; ".join(problems[:5]))
    return departments


if __name__ == "__main__":
    print(write(sys.argv[1]))
