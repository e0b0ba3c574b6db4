"""Add (or refresh) the sha256 hashes of every pin in requirements.txt, requirements-dev.txt
and requirements-bench.txt, so that pip installs them in hash-checking mode (a file with
hashes is installed with --require-hashes automatically: `make setup`, the Dockerfile).

    .venv/bin/python scripts/lock_hashes.py          # after changing a pin: rewrites the files
    .venv/bin/python scripts/lock_hashes.py --reuse  # again from the last resolution (no network)

The pins stay as written (comments, order, `-r requirements.txt`): this only adds the
`--hash` options. The hashes are those pip-compile (pip-tools, installed into
.venv/lock-tools, never into the project's environment) finds on PyPI for the pinned
version: every wheel and the sdist, so any platform and Python that can install the pin
can check it. It also fails when a pinned package needs a package that is not pinned in its
file or a file it includes: with hashes, pip refuses to install anything unpinned (the
Dockerfile installs requirements.txt alone, so the runtime's dependencies must all be there).
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("requirements.txt", "requirements-dev.txt", "requirements-bench.txt")
PIP_TOOLS = "pip-tools==7.6.2"
TOOLS = ROOT / ".venv" / "lock-tools"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
INCLUDE = re.compile(r"^-r\s+(\S+)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(text):
    """Lines with their backslash continuations joined."""
    lines, current = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return lines


def without_hashes(line):
    return re.sub(r"\s*--hash=\S+", "", line).rstrip()


def pins_of(path):
    """{canonical name: version} pinned in a file and in the files it includes."""
    pins = {}
    for line in logical_lines(path.read_text()):
        if match := INCLUDE.match(line):
            pins.update(pins_of(path.parent / match.group(1)))
        elif match := PIN.match(line):
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def own_pins(path):
    return {
        canonical(m.group(1)) for line in logical_lines(path.read_text()) if (m := PIN.match(line))
    }


def pip_compile(workdir):
    if not (TOOLS / "bin" / "pip-compile").exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(TOOLS / "bin" / "pip"), "install", "--quiet", PIP_TOOLS], check=True)
    combined = workdir / "all.in"
    combined.write_text("-r requirements-dev.txt\n-r requirements-bench.txt\n")
    # PyPI alone: no machine-local indexes or wheel folders, whose files others do not have
    env = dict(
        os.environ,
        PIP_CONFIG_FILE=os.devnull,
        PIP_FIND_LINKS="",
        PIP_EXTRA_INDEX_URL="",
        PIP_CONSTRAINT="",
    )
    output = TOOLS / "compiled.txt"  # kept: what the last run resolved, to read
    subprocess.run(
        [
            str(TOOLS / "bin" / "pip-compile"),
            "--quiet",
            "--generate-hashes",
            "--allow-unsafe",
            "--no-strip-extras",
            "--no-header",
            "--annotation-style",
            "split",
            "--output-file",
            str(output),
            str(combined),
        ],
        check=True,
        cwd=workdir,
        env=env,
    )
    return output.read_text()


def parse_compiled(text):
    """{name: (version, [hashes], {parents})} from pip-compile's output."""
    resolved, name, in_via = {}, None, False
    for line in logical_lines(text):
        if match := PIN.match(line):
            name = canonical(match.group(1))
            resolved[name] = (match.group(2), re.findall(r"--hash=(\S+)", line), set())
            in_via = False
        elif name and line.strip().startswith("#"):
            comment = line.strip()[1:].strip()
            if comment.startswith("via"):
                in_via, comment = True, comment[3:].strip()
            if in_via and comment and not comment.startswith("-r"):
                resolved[name][2].add(canonical(comment.split()[0]))
    return resolved


def missing_dependencies(path, resolved):
    """Packages that the pins of a file (and its includes) need but that it does not pin."""
    pinned = set(pins_of(path))
    children = {}
    for child, (_, _, parents) in resolved.items():
        for parent in parents:
            children.setdefault(parent, set()).add(child)
    needed, todo = set(), list(pinned)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in needed:
                needed.add(child)
                todo.append(child)
    return sorted(needed - pinned)


def rewrite(path, resolved):
    out = []
    for line in logical_lines(path.read_text()):
        line = without_hashes(line)
        match = PIN.match(line)
        if not match:
            out.append(line)
            continue
        name, version = canonical(match.group(1)), match.group(2)
        if name not in resolved or resolved[name][0] != version:
            sys.exit(f"{path.name}: {name}=={version} resolved as {resolved.get(name)}")
        out.append(" \\\n".join([line] + [f"    --hash={h}" for h in resolved[name][1]]))
    path.write_text("\n".join(out) + "\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in FILES:
            stripped = [without_hashes(line) for line in logical_lines((ROOT / name).read_text())]
            (workdir / name).write_text("\n".join(stripped) + "\n")
        if "--reuse" in sys.argv[1:] and (TOOLS / "compiled.txt").exists():
            compiled = (TOOLS / "compiled.txt").read_text()
        else:
            compiled = pip_compile(workdir)
        resolved = parse_compiled(compiled)
        problems = [
            f"{name} does not pin {', '.join(missing)} (needed by its pins)"
            for name in FILES
            if (missing := missing_dependencies(workdir / name, resolved))
        ]
        if problems:
            sys.exit("\n".join(problems))
    for name in FILES:
        rewrite(ROOT / name, resolved)
    print(f"hashes written for {len(resolved)} packages into {', '.join(FILES)}")


if __name__ == "__main__":
    main()
