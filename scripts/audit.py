"""Supply chain (issue 14): every pinned requirement is checked against the known
vulnerabilities in the Python packaging advisory data, with pip-audit (pinned in
requirements-dev.txt). It reads the pins and their hashes; it installs nothing.

    .venv/bin/python scripts/audit.py [REQUIREMENTS FILE ...]   # default: the three files

Exit 0: no known vulnerability in any pin. Exit 1: a known vulnerability (each listed with
the versions that fix it: upgrade the pin, then scripts/lock_hashes.py), or pip-audit
itself failed.

When the vulnerability data cannot be had — no network, or an index that does not serve
the per-release data pip-audit asks for (pip-audit then reports each package "not found"
and would pass them silently) — nothing is checked, and this says so on stderr as
"audit: NOT CHECKED" with the reason. It then exits 0, so that `make test` can run where
the data is out of reach, unless AUDIT_REQUIRED=1 is set (a release build, a CI that can
reach the data): then it exits 2. It never reports "no known vulnerability" for a package
it could not check.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("requirements.txt", "requirements-dev.txt", "requirements-bench.txt")
UNREACHABLE = re.compile(
    r"connection|resolve|timed? ?out|network|unreachable|max retries|ssl|"
    r"proxy",
    re.I,
)


def pip_audit():
    return os.environ.get("PIP_AUDIT") or str(Path(sys.executable).with_name("pip-audit"))


def run(files):
    """(report or None, stderr) of one pip-audit run over the files."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "report.json"
        command = [
            pip_audit(),
            "--disable-pip",
            "--require-hashes",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(output),
        ]
        for name in files:
            command += ["--requirement", str(name)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        report = (
            json.loads(output.read_text()) if output.exists() and output.stat().st_size else None
        )
        return report, done.stderr


def not_checked(reason):
    if os.environ.get("AUDIT_REQUIRED") == "1":
        print(f"audit: FAILED: nothing checked: {reason}", file=sys.stderr)
        return 2
    print(f"audit: NOT CHECKED: {reason} (AUDIT_REQUIRED=1 makes this fail)", file=sys.stderr)
    return 0


def main(files):
    report, errors = run(files)
    if report is None:
        if UNREACHABLE.search(errors):
            return not_checked(
                "the vulnerability data could not be fetched (offline?): "
                + errors.strip().splitlines()[-1][:300]
            )
        print(
            f"audit: FAILED: pip-audit could not audit {' '.join(map(str, files))}:\n{errors}",
            file=sys.stderr,
        )
        return 1
    dependencies = report.get("dependencies", [])
    found = [
        (d["name"], d["version"], v["id"], ", ".join(v.get("fix_versions") or []) or "none")
        for d in dependencies
        for v in d.get("vulns") or []
    ]
    for name, version, vulnerability, fixed in found:
        print(f"audit: {name}=={version}: {vulnerability} (fixed in: {fixed})", file=sys.stderr)
    if found:
        print(
            f"audit: FAILED: {len(found)} known vulnerabilities in the pinned requirements: "
            "upgrade those pins, then run scripts/lock_hashes.py",
            file=sys.stderr,
        )
        return 1
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if skipped:
        return not_checked(
            f"{len(skipped)} of {len(dependencies)} pins could not be checked, "
            f"e.g. {skipped[0]['skip_reason']}"
        )
    print(
        f"audit: no known vulnerability in the {len(dependencies)} pins of "
        f"{', '.join(map(str, files))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or FILES))
