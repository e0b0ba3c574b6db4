"""Benchmark: search latency over the everyday query set (issue 18).

    .venv/bin/python bench/search.py [--rounds 20] [--json] [--url http://127.0.0.1:8000]

In process (the default), against the domain module with the real catalog data: the index
is built once (timed on its own, with jieba's dictionary load), then every query of
tests/data/search_queries.yaml is answered `--rounds` times; it prints the median, p99 and
max per query and the share of queries whose expected package comes first. With --url it
sends the same queries to a running gateway (GET /api/search), so the numbers include HTTP
and the catalog service. Never a test: latency on shared machines is noise.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.catalog_rpc import percentile  # noqa: E402
from services.catalog.domain import Catalog, load_data  # noqa: E402

QUERIES_FILE = ROOT / "tests" / "data" / "search_queries.yaml"


def local_search():
    started = time.perf_counter()
    index = Catalog(load_data()).search_index()
    built = time.perf_counter() - started
    return built, lambda q: index.search(q)


def http_search(url):
    session = requests.Session()

    def search(q):
        answer = session.get(url.rstrip("/") + "/api/search", params={"q": q}, timeout=30)
        answer.raise_for_status()
        return answer.json()

    return None, search


def measure(search, queries, rounds):
    timings, firsts = [], 0
    for entry in queries:
        answer = search(entry["q"])  # warm, and the quality check
        results = answer["results"]
        firsts += bool(results) and results[0]["code"] == entry["expect"]
        for _ in range(rounds):
            started = time.perf_counter()
            search(entry["q"])
            timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "queries": len(queries),
        "answers": len(timings),
        "first_share": round(firsts / len(queries), 3),
        "median_ms": round(statistics.median(timings) * 1000, 3),
        "p99_ms": round(percentile(timings, 0.99) * 1000, 3),
        "max_ms": round(timings[-1] * 1000, 3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--url", help="a running gateway; default: in process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    queries = yaml.safe_load(QUERIES_FILE.read_text("utf-8"))
    built, search = http_search(args.url) if args.url else local_search()
    result = measure(search, queries, args.rounds)
    result["where"] = args.url or "in process"
    if built is not None:
        result["index_build_s"] = round(built, 3)
    if args.json:
        print(json.dumps(result))
        return
    print(f"search over {result['queries']} queries x {args.rounds} ({result['where']})")
    if built is not None:
        print(f"  index built in {result['index_build_s']} s (jieba dictionary included)")
    print(
        f"  median {result['median_ms']} ms   p99 {result['p99_ms']} ms   "
        f"max {result['max_ms']} ms   expected package first: {result['first_share']:.1%}"
    )


if __name__ == "__main__":
    main()
