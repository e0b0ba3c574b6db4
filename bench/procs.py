"""Process facts from /proc (Linux): the tree under a pid, CPU seconds, resident memory."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    text = Path(f"/proc/{pid}/stat").read_text()
    # the command name is in parentheses and may hold spaces: split after the last ')'
    return text[text.rindex(")") + 2 :].split()


def children_map():
    """pid -> list of child pids, for every process visible now."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent = int(_stat(entry)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    return children


def descendants(pid):
    """Every process below `pid` (not `pid` itself)."""
    tree = children_map()
    found, stack = [], list(tree.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(tree.get(child, []))
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def cpu_seconds(pid):
    """User + system CPU seconds of one process (its own threads, not its children)."""
    try:
        fields = _stat(pid)
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def pids_named(pattern):
    """Pids whose command line contains `pattern` (for the broker and Redis, shared
    machine services whose CPU the report shows next to ours)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and pattern in cmdline(entry):
            found.append(int(entry))
    return found


def load_average():
    return os.getloadavg()


def machine_cpu_seconds():
    """CPU seconds the whole machine spent busy (all CPUs, /proc/stat: not idle, not iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICKS
