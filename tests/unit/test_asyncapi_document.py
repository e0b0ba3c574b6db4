"""docs/asyncapi.yaml passes the official AsyncAPI parser (Node.js, @asyncapi/parser).

`make setup` installs the parser (tools/asyncapi, pinned by its lockfile); without
Node.js or the parser these tests fail: the contract is never left unchecked.
"""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "asyncapi" / "validate.mjs"


def validate(path):
    node = shutil.which("node")
    assert node, "Node.js 20+ is needed to validate docs/asyncapi.yaml"
    assert (VALIDATOR.parent / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "run `make setup` (installs @asyncapi/parser in tools/asyncapi)"
    )
    return subprocess.run(
        [node, str(VALIDATOR), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_department_contract_is_a_valid_asyncapi_document():
    run = validate(ROOT / "docs" / "asyncapi.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid AsyncAPI" in run.stdout


def test_the_validator_fails_a_broken_document(tmp_path):
    shutil.copytree(ROOT / "docs" / "schemas", tmp_path / "schemas")
    text = (ROOT / "docs" / "asyncapi.yaml").read_text()
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(
        text.replace(
            "./schemas/v1/approval_result.json", "./schemas/v1/approval_verdict.json"
        ).replace("action: send", "action: publish")
    )
    run = validate(broken)
    assert run.returncode == 1
    assert "approval_verdict.json" in run.stdout and "action" in run.stdout
