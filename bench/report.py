"""The benchmark report: targets, verdicts and the Markdown table (the JSON is the raw
result of bench/run.py with the targets added)."""

# issue 8's and issue 16's targets
MESH_OVER_CELERY_K5 = 1.5
CPU_MS_PER_APPLICATION_K5 = 15.0
P50_MS, P99_MS = 50, 150
FANOUT_TOLERANCE = 0.20
OTHER = "other work on the machine"
LOADGEN = "load generator (bench)"
EXCLUDED = (OTHER, LOADGEN)
CELERIES = (("celery", "Celery chord (defaults)"), ("celery-durable", "Celery, durability-matched"))
# memory is flat when a process grew by less than this over the soak
FLAT_MIB, FLAT_FRACTION = 5.0, 0.05


def messages_per_application(k):
    """The least an application costs on the broker: the submission, K tasks, K results and
    the decision."""
    return 2 * k + 2


def memory_verdict(samples):
    """Per process: RSS at the start and the end of the soak, growth, flat or not."""
    if len(samples) < 2:
        return {}
    first, last = samples[0], samples[-1]
    verdict = {}
    for name in first:
        if name == "t_s" or name not in last:
            continue
        growth = last[name] - first[name]
        verdict[name] = {
            "start_mib": first[name],
            "end_mib": last[name],
            "growth_mib": round(growth, 1),
            "flat": growth <= max(FLAT_MIB, FLAT_FRACTION * first[name]),
        }
    return verdict


def _scenario(result, k):
    return next((s for s in result.get("scenarios", []) if s["k"] == k), None)


def _ratio(a, b):
    return round(a / b, 2) if a and b else None


def targets(result):
    found = []
    k5, k20 = _scenario(result, 5), _scenario(result, 20)
    if k5 and (k5.get("celery") or {}).get("apps_per_second"):
        ratio = _ratio(k5["mesh"]["apps_per_second"], k5["celery"]["apps_per_second"])
        found.append(
            {
                "target": f"K=5: mesh >= {MESH_OVER_CELERY_K5}x Celery chord (apps/s)",
                "measured": f"{ratio}x",
                "reached": ratio >= MESH_OVER_CELERY_K5,
                "by": f"{ratio / MESH_OVER_CELERY_K5:.2f} of the target",
            }
        )
    if k5 and (k5.get("celery-durable") or {}).get("apps_per_second"):
        ratio = _ratio(k5["mesh"]["apps_per_second"], k5["celery-durable"]["apps_per_second"])
        found.append(
            {
                "target": "K=5: mesh well above the durability-matched Celery (apps/s)",
                "measured": f"{ratio}x",
                "reached": ratio > 1,
                "by": f"{ratio:.2f}x",
            }
        )
    if k5 and k5["mesh"].get("profile"):
        cpu = k5["mesh"]["profile"]["cpu_ms_per_application"]
        total = sum(v for n, v in cpu.items() if n not in EXCLUDED)
        found.append(
            {
                "target": f"K=5: CPU per application <= {CPU_MS_PER_APPLICATION_K5:g} ms, all "
                "processes (broker and store included)",
                "measured": f"{total:.1f} ms",
                "reached": total <= CPU_MS_PER_APPLICATION_K5,
                "by": f"{total / CPU_MS_PER_APPLICATION_K5:.1f}x the limit",
            }
        )
    if k5 and k5["mesh"].get("latency"):
        p50, p99 = k5["mesh"]["latency"]["p50_ms"], k5["mesh"]["latency"]["p99_ms"]
        found.append(
            {
                "target": f"K=5 at half the mesh's max: p50 <= {P50_MS} ms",
                "measured": f"{p50} ms",
                "reached": p50 is not None and p50 <= P50_MS,
                "by": f"{p50 / P50_MS:.2f}x the limit" if p50 else "-",
            }
        )
        found.append(
            {
                "target": f"K=5 at half the mesh's max: p99 <= {P99_MS} ms",
                "measured": f"{p99} ms",
                "reached": p99 is not None and p99 <= P99_MS,
                "by": f"{p99 / P99_MS:.2f}x the limit" if p99 else "-",
            }
        )
    if k5 and k20:
        t5 = k5["mesh"]["apps_per_second"] * 5
        t20 = k20["mesh"]["apps_per_second"] * 20
        change = (t20 - t5) / t5 if t5 else None
        found.append(
            {
                "target": "tasks/s at K=20 within 20% of K=5 (linear fan-out)",
                "measured": f"{t20:.0f} vs {t5:.0f} tasks/s ({100 * change:+.0f}%)"
                if change is not None
                else "-",
                "reached": change is not None and abs(change) <= FANOUT_TOLERANCE,
                "by": "-"
                if change is None
                else (
                    f"{100 * change:+.0f}%: above the band, the cost per task falls as K "
                    f"grows (per-application work is shared)"
                    if change > FANOUT_TOLERANCE
                    else f"{100 * change:+.0f}%"
                ),
            }
        )
    verdict = (result.get("memory", {}).get("soak") or {}).get("verdict")
    if verdict:
        grown = {n: v["growth_mib"] for n, v in verdict.items() if not v["flat"]}
        found.append(
            {
                "target": "memory flat over the soak",
                "measured": "all flat"
                if not grown
                else "grew: " + ", ".join(f"{n} +{g} MiB" for n, g in grown.items()),
                "reached": not grown,
                "by": "-",
            }
        )
    return found


def _fmt(value, digits=1):
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _systems(scenario):
    """(key, title) of the Celery variants measured in this scenario."""
    return [(key, title) for key, title in CELERIES if (scenario.get(key) or {}).get("saturation")]


def markdown(result):
    m = result["machine"]
    loads = result.get("load_samples") or []
    ceiling_found = result.get("broker_ceiling", {})
    ceiling = ceiling_found.get("median_messages_per_second")
    params = result["parameters"]
    sweep = params.get("inflight_sweep") or [params.get("inflight")]
    lines = [
        "# Benchmark: the mesh, the Celery chord and the raw broker, side by side",
        "",
        f"Run {result['started_at']} by `make bench` (bench/run.py; how to read it: "
        f"bench/README.md). One machine, one run: only the ratios travel.",
        "",
        f"- machine: {m['nproc']} CPUs, Python {m['python']}; store: {m['store']}",
        f"- **store durability: {m.get('store_durability', 'not recorded')}**",
        f"- load average: {_fmt(m['load_average_at_start'][0], 2)} at the start, "
        f"{_fmt((m.get('load_average_at_end') or [None])[0], 2)} at the end"
        + (f", {min(loads):.2f} to {max(loads):.2f} during the run" if loads else ""),
        f"- {params['runs']} run(s) per number (median); saturation "
        f"{params['saturation_seconds']:g} s closed loop at {', '.join(map(str, sweep))} "
        f"applications in flight (each system's best point counts); latency "
        f"{params['latency_seconds']:g} s open loop; soak "
        f"{params['soak_minutes']:g} min; took "
        f"{result.get('duration_minutes', '-')} min",
    ]
    if params.get("replicas"):
        lines.append(
            "- **scale-out:** "
            + ", ".join(f"{n} processes of {name}" for name, n in params["replicas"].items())
            + " (competing consumers of the same queues; ops/runner.py REPLICAS)"
        )
    redis_config = m.get("durable_celery_redis")
    if redis_config:
        lines.append(
            "- durability-matched Celery: task_acks_late, task_reject_on_worker_lost, "
            "publisher confirms (confirm_publish), results in a private redis-server with "
            + ", ".join(f"{k} {v!r}" for k, v in redis_config.items())
        )
    others = [
        s["mesh"]["profile"]["cpu_share_of_core"].get(OTHER) for s in result.get("scenarios", [])
    ]
    others = [o for o in others if o is not None]
    if others:
        lines.append(
            f"- other work on the machine (not the benchmark's processes, nor the "
            f"broker or Redis) during the mesh's saturation runs: "
            f"{min(others):.2f} to {max(others):.2f} CPUs of {m['nproc']}"
        )
    if others and max(others) > 0.25:
        lines += [
            "",
            f"**Noisy:** other work took up to {max(others):.2f} of the "
            f"{m['nproc']} CPUs while the mesh was measured (the load average also "
            f"counts the benchmark's own dozen processes). Absolute numbers are "
            f"lower and more scattered than on a quiet machine; the ratios measured "
            f"side by side hold better.",
        ]
    lines += [
        "",
        "## Throughput at saturation (applications per second, each system's best point)",
        "",
        "| K | mesh | Celery chord (defaults) | Celery, durability-matched | mesh / Celery "
        "| mesh / durable Celery | broker bound | mesh / bound | mesh tasks/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in result.get("scenarios", []):
        k = s["k"]
        mesh = s["mesh"]["apps_per_second"]
        celery = (s.get("celery") or {}).get("apps_per_second")
        durable = (s.get("celery-durable") or {}).get("apps_per_second")
        bound = ceiling / messages_per_application(k) if ceiling else None
        lines.append(
            f"| {k} | {_fmt(mesh)} | {_fmt(celery)} | {_fmt(durable)} | "
            f"{_fmt(_ratio(mesh, celery), 2)} | {_fmt(_ratio(mesh, durable), 2)} "
            f"| {_fmt(bound)} | {_fmt(_ratio(mesh, bound), 3)} | {_fmt(mesh * k)} |"
        )
    lines += ["", "Applications per second by applications in flight (median of the runs):", ""]
    lines += [
        "| K | system | " + " | ".join(f"{n} in flight" for n in sweep) + " | best |",
        "|---|---|" + "---|" * (len(sweep) + 1),
    ]
    for s in result.get("scenarios", []):
        for key in ("mesh", "celery", "celery-durable"):
            side = s.get(key) or {}
            if not side.get("by_inflight"):
                continue
            by = {int(n): v for n, v in side["by_inflight"].items()}
            lines.append(
                f"| {s['k']} | {key} | "
                + " | ".join(_fmt(by.get(n)) for n in sweep)
                + f" | {_fmt(side['apps_per_second'])} at {side['best_inflight']} |"
            )
    lines += _ceiling_section(ceiling_found)
    lines += [
        "",
        "## Submit-to-decision latency at half of the mesh's maximum",
        "",
        "| K | offered /s | mesh p50 | p95 | p99 | Celery p50 | p95 | p99 "
        "| durable Celery p50 | p95 | p99 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in result.get("scenarios", []):
        cells = []
        for key in ("mesh", "celery", "celery-durable"):
            latency = (s.get(key) or {}).get("latency", {})
            cells += [_fmt(latency.get(q)) for q in ("p50_ms", "p95_ms", "p99_ms")]
        lines.append(f"| {s['k']} | {_fmt(s['offered_per_second'])} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Milliseconds, from the start of the HTTP submit (mesh) or of the chord's "
        "apply (Celery) to the moment the benchmark received the decision: routing's "
        "`application_decided` event, which its outbox publishes only after the workflow "
        "is written (routing's own `decided_at` is the clock of the step that decided, "
        "before that write), or the chord callback's push to Redis. Both clocks are this "
        "machine's.",
    ]
    lines += ["", "## Targets", "", "| target | measured | reached | by |", "|---|---|---|---|"]
    for t in result.get("targets", []):
        lines.append(
            f"| {t['target']} | {t['measured']} | {'yes' if t['reached'] else 'no'} | {t['by']} |"
        )
    lines += _profile_section(result)
    lines += _memory_section(result)
    lines += _runs_section(result)
    return "\n".join(lines) + "\n"


def _ceiling_section(found):
    windows = found.get("windows") or []
    if not windows:
        return []
    lines = [
        "",
        "## The broker alone (measured before the mesh started)",
        "",
        "One pika publisher with publisher confirms, at most *window* publishes unconfirmed "
        "(1 = every confirm awaited before the next publish), one pika consumer "
        "acknowledging each message; persistent 1.5 kB messages on a durable queue; end to "
        "end (first publish to last acknowledgement). Broker CPU: RabbitMQ's beam process "
        "over the run (/proc).",
        "",
        "| window | messages/s | broker CPU ms / message | broker CPUs busy | K=5 bound apps/s |",
        "|---|---|---|---|---|",
    ]
    for w in windows:
        lines.append(
            f"| {w['window']} | {_fmt(w['messages_per_second'], 0)} | "
            f"{_fmt(w.get('broker_cpu_ms_per_message'), 3)} | {_fmt(w.get('broker_cpu_share'), 2)} | "
            f"{_fmt(w['messages_per_second'] / messages_per_application(5), 0)} |"
        )
    best = found.get("median_messages_per_second")
    per_message = found.get("broker_cpu_ms_per_message")
    lines += [
        "",
        f"The broker bound is the best window's rate, {_fmt(best, 0)} messages/s, over the "
        f"2K+2 messages an application needs at least (submission, K tasks, K results, the "
        f"decision): {_fmt(best / messages_per_application(5) if best else None, 0)} "
        f"applications/s at K=5. On this machine the publisher and consumer (Python) share "
        f"the two CPUs with the broker, so this is a floor of the broker's capacity; its CPU "
        f"per message, {_fmt(per_message, 3)} ms, is "
        f"{_fmt(per_message * messages_per_application(5) if per_message else None, 2)} ms "
        f"per K=5 application at the least.",
    ]
    return lines


def _profile_section(result):
    lines = ["", "## Where the mesh's time goes (saturation runs, summed)", ""]
    for s in result.get("scenarios", []):
        p = s["mesh"]["profile"]
        cpu = {n: v for n, v in p["cpu_ms_per_application"].items() if n not in EXCLUDED}
        total = sum(cpu.values()) or 1
        ours = sum(v for n, v in cpu.items() if "shared" not in n)
        outside = {n: p["cpu_ms_per_application"].get(n) for n in EXCLUDED}
        store = cpu.get("store", 0)
        broker = cpu.get("rabbitmq (shared)", 0)
        deliveries = sum(p["deliveries_per_application"].values())
        lines += [
            f"### K={s['k']} ({p['applications']} applications)",
            "",
            f"CPU per application: {total:.1f} ms in all ({ours:.1f} ms in the mesh's "
            f"own processes); **store {store:.1f} ms ({100 * store / total:.0f}%)**, "
            f"**broker {broker:.1f} ms ({100 * broker / total:.0f}%)** (the broker's "
            f"figure includes other users of the machine's RabbitMQ). "
            f"{deliveries:.1f} broker deliveries per application (at least "
            f"{messages_per_application(s['k'])}), {total / max(deliveries, 1):.2f} ms "
            f"CPU per delivery; {p['write_conflicts_per_application']} optimistic write "
            f"conflicts per application. Not counted: the load generator "
            f"{_fmt(outside[LOADGEN])} ms, other work on the machine "
            f"{_fmt(outside[OTHER])} ms per application.",
            "",
            "| process | CPU ms / application | share of a core |",
            "|---|---|---|",
        ]
        for name, value in sorted(p["cpu_ms_per_application"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {name} | {value:.1f} | {p['cpu_share_of_core'].get(name, 0):.2f} |")
        for key, title in _systems(s):
            celery_runs = s[key].get("saturation") or []
            if not celery_runs or not celery_runs[0].get("cpu_ms_per_application"):
                continue
            names = celery_runs[0]["cpu_ms_per_application"].keys()
            median = {
                n: sorted(r["cpu_ms_per_application"].get(n, 0) for r in celery_runs)[
                    len(celery_runs) // 2
                ]
                for n in names
            }
            chord = sum(v for n, v in median.items() if n not in EXCLUDED)
            lines += [
                "",
                f"{title}, for comparison (median of its runs): {chord:.1f} ms CPU per "
                f"application in all, its client's apply_async included: "
                + ", ".join(
                    f"{n} {v:.1f}"
                    for n, v in sorted(median.items(), key=lambda kv: -kv[1])
                    if n not in EXCLUDED
                )
                + f" (ms; not counted: the load generator {_fmt(median.get(LOADGEN))}, "
                f"other work {_fmt(median.get(OTHER))}).",
            ]
        lines += [
            "",
            "| service | store operation | per application | mean ms |",
            "|---|---|---|---|",
        ]
        for service, commands in sorted(p["store_operations"].items()):
            for command, value in sorted(commands.items()):
                lines.append(
                    f"| {service} | {command} | {value['per_application']} | {value['mean_ms']} |"
                )
        lines += ["", "| consumed by | deliveries per application |", "|---|---|"]
        for key, value in p["deliveries_per_application"].items():
            lines.append(f"| {key} | {value} |")
        lines.append("")
    spy = result.get("function_profile") or {}
    if spy.get("top_own_time"):
        lines += [
            f"### Sampled profile at K={spy['k']} (py-spy, GIL-holding samples, own time)",
            "",
        ]
        for name, rows in spy["top_own_time"].items():
            lines += [f"{name}:", "", "| own % | function |", "|---|---|"]
            lines += [f"| {share} | `{function}` |" for share, function in rows]
            lines.append("")
    return lines


def _memory_section(result):
    memory = result.get("memory", {})
    soak = memory.get("soak") or {}
    verdict = soak.get("verdict") or {}
    lines = ["## Memory (RSS, MiB)", ""]
    if soak:
        lines += [
            f"Soak: K={soak['k']} at {soak['offered_per_second']}/s for "
            f"{soak['minutes']:g} min ({soak['latency']['decided']} applications decided, "
            f"p50 {soak['latency']['p50_ms']} ms, p99 {soak['latency']['p99_ms']} ms). "
            f"Flat: grew less than {FLAT_MIB:g} MiB or {100 * FLAT_FRACTION:g}% from the "
            f"start of the soak to its end.",
            "",
        ]
    course = (soak.get("latency") or {}).get("course") or []
    if course:
        per_minute = {}
        for w in soak.get("other_work", []):
            per_minute.setdefault(max(0, w["t_s"] - 1) // 60, []).append(w["other_work_cpus"])
        work = {minute: sum(v) / len(v) for minute, v in per_minute.items()}
        lines += [
            "The soak's course (by minute of submission; other work = CPUs the machine "
            "spent on anything but the benchmark, the broker and Redis):",
            "",
            "| minute | decided | p50 ms | p99 ms | other work (CPUs) |",
            "|---|---|---|---|---|",
        ]
        for row in course:
            minute = int(row["from_s"] // 60)
            lines.append(
                f"| {minute + 1} | {row['decided']} | {_fmt(row['p50_ms'])} | "
                f"{_fmt(row['p99_ms'])} | {_fmt(work.get(minute), 2)} |"
            )
        lines.append("")
    lines += [
        "| process | at rest | soak start | after soak | growth | flat |",
        "|---|---|---|---|---|---|",
    ]
    for name, rest in memory.get("at_rest_mib", {}).items():
        v = verdict.get(name, {})
        lines.append(
            f"| {name} | {rest} | {_fmt(v.get('start_mib'))} | "
            f"{_fmt(v.get('end_mib'))} | {_fmt(v.get('growth_mib'))} | "
            f"{'yes' if v.get('flat') else ('no' if v else '-')} |"
        )
    for name, rest in memory.get("celery_at_rest_mib", {}).items():
        lines.append(f"| {name} | {rest} | - | - | - | - |")
    return lines + [""]


def _runs_section(result):
    lines = [
        "## Every run",
        "",
        "| K | system | run | in flight | apps/s | submitted | decided | undecided | errors "
        "| decision events again: same / conflicting |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in result.get("scenarios", []):
        for system in ("mesh", "celery", "celery-durable"):
            side = s.get(system) or {}
            for index, r in enumerate(side.get("saturation", []), start=1):
                lines.append(
                    f"| {s['k']} | {system} | saturation {index} | {r['inflight']} | "
                    f"{r['apps_per_second']} | {r['submitted']} | {r['decided']} | "
                    f"{r['undecided']} | {r['submit_errors']} | {_again(r)} |"
                )
            for index, r in enumerate(side.get("latency", {}).get("runs", []), start=1):
                lines.append(
                    f"| {s['k']} | {system} | latency {index} (p50/p99 "
                    f"{r['p50_ms']}/{r['p99_ms']} ms) | - | {r['achieved_submit_per_second']}"
                    f" offered | {r['submitted']} | {r['decided']} | {r['undecided']} | "
                    f"{r['submit_errors']} | {_again(r)} |"
                )
    return lines


def _again(run):
    """Decision events seen again for an application: with the same decision (at-least-once
    delivery) / with another one (two decisions: a correctness failure). '-' if not
    recorded (Celery's callback, or an older report)."""
    if "conflicting_decisions" not in run:
        return "-"
    return f"{run['repeated_decisions']} / {run['conflicting_decisions']}"
