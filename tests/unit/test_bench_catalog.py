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


def _side(rates, cpu=None):
    """A system's saturation runs {in flight: apps/s}, summarised as bench/run.py does."""
    runs = [
        {
            "inflight": n,
            "apps_per_second": r,
            "submitted": 1,
            "decided": 1,
            "undecided": 0,
            "submit_errors": 0,
            "cpu_ms_per_application": cpu or {},
        }
        for n, r in rates.items()
    ]
    best = max(rates, key=rates.get)
    return {
        "saturation": runs,
        "by_inflight": {str(n): r for n, r in rates.items()},  # as report.json has them
        "best_inflight": best,
        "apps_per_second": rates[best],
    }


def test_the_report_sets_the_mesh_beside_both_celeries_and_names_each_missed_target():
    mesh = _side({16: 30.0, 32: 24.0})
    mesh["profile"] = {
        "applications": 100,
        "cpu_ms_per_application": {"store": 20.0, "routing": 15.0, report.LOADGEN: 3.0},
        "cpu_share_of_core": {"store": 0.3},
        "store_operations": {},
        "deliveries_per_application": {},
        "write_conflicts_per_application": 0.0,
    }
    client = {"celery client (apply_async)": 4.0, "celery-worker": 8.0, report.LOADGEN: 0.5}
    result = {
        "started_at": "20261203T000000Z",
        "machine": {
            "nproc": 2,
            "python": "3.11",
            "store": "embedded",
            "store_durability": "no fsync at commit",
            "load_average_at_start": [1.0],
        },
        "parameters": {
            "runs": 1,
            "saturation_seconds": 10,
            "latency_seconds": 10,
            "soak_minutes": 1,
            "inflight_sweep": [16, 32],
        },
        "broker_ceiling": {
            "windows": [
                {"window": 1, "messages_per_second": 1200.0, "broker_cpu_ms_per_message": 0.4},
                {"window": 1000, "messages_per_second": 9600.0, "broker_cpu_ms_per_message": 0.1},
            ],
            "median_messages_per_second": 9600.0,
            "broker_cpu_ms_per_message": 0.1,
        },
        "scenarios": [
            {
                "k": 5,
                "offered_per_second": 15.0,
                "mesh": mesh,
                "celery": _side({16: 100.0, 32: 90.0}, client),
                "celery-durable": _side({16: 40.0, 32: 45.0}, client),
            }
        ],
    }
    result["targets"] = report.targets(result)
    verdicts = {t["target"]: t for t in result["targets"]}
    assert verdicts["K=5: mesh >= 1.5x Celery chord (apps/s)"]["measured"] == "0.3x"
    durable = verdicts["K=5: mesh well above the durability-matched Celery (apps/s)"]
    assert durable["measured"] == "0.67x" and not durable["reached"]
    cpu = next(t for t in result["targets"] if t["target"].startswith("K=5: CPU"))
    assert cpu["measured"] == "35.0 ms" and not cpu["reached"]  # the load generator not counted
    text = report.markdown(result)
    assert "store durability: no fsync at commit" in text
    assert "| 5 | 30.0 | 100.0 | 45.0 | 0.30 | 0.67 | 800.0 |" in text  # 9600 / 12
    assert "| 5 | celery-durable | 40.0 | 45.0 | 45.0 at 32 |" in text
    # the client's apply_async is Celery's cost, the load generator's is not
    assert "12.0 ms CPU per application in all, its client's apply_async included" in text
