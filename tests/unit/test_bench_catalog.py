"""The benchmark's catalog and report helpers (bench/): no benchmark is run here."""

from bench import catalog_data, report
from services.catalog.check import check
from services.catalog.domain import load_data


def test_the_bench_catalog_adds_independent_k_department_packages_and_passes_the_check(tmp_path):
    departments = catalog_data.write(tmp_path / "catalog")
    data = load_data(tmp_path / "catalog")
    assert check(data) == []
    items = {i["code"]: i for i in data["items"]}
    for k in catalog_data.KS:
        scenario = next(s for s in data["scenarios"] if s["code"] == f"bench_k{k}")
        entries = scenario["items"]
        assert len(entries) == k and not any(e.get("depends_on") for e in entries)
        assert len({items[e["item"]]["department"] for e in entries}) == k
    assert len(set(departments)) == max(catalog_data.KS)
    assert len(data["scenarios"]) == len(load_data()["scenarios"]) + len(catalog_data.KS)


def test_memory_is_flat_within_noise_and_growth_is_named():
    samples = [
        {"t_s": 0, "routing": 100.0, "store": 60.0},
        {"t_s": 600, "routing": 103.0, "store": 90.0},
    ]
    verdict = report.memory_verdict(samples)
    assert verdict["routing"]["flat"] and not verdict["store"]["flat"]
    assert verdict["store"]["growth_mib"] == 30.0


def test_the_broker_bound_counts_submission_tasks_results_and_decision():
    assert [report.messages_per_application(k) for k in (1, 5, 20)] == [4, 12, 42]
