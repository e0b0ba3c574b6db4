"""The import layers of docs/adr/0014, checked on the source (issue 12).

Every .py file under onestop/, services/, ops/ and departments/ is parsed with `ast`;
every import counts, at module level or inside a function. Layers, lowest first:

    onestop.contracts  <  onestop.common, onestop.client, onestop.run_service  <  services  <  ops

A module may import from its own layer and the layers below, never above; a service never
imports another service; the department SDK (departments.sdk) imports only
onestop.contracts of the platform (a department installs it); the rest of departments/
(reference departments, template, examples) never imports services/ or ops/. There is no
import cycle between modules. Standard library and third-party imports are free.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("onestop", "services", "ops", "departments")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" not in path.parts and ".venv" not in path.parts:
                yield path


MODULES = {module_name(path): path for path in source_files()}


def is_package(name):
    return MODULES.get(name, Path()).name == "__init__.py"


def resolve(name):
    """The deepest module of ours that `name` names (None: stdlib or third-party)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def imports_of(module, path):
    """(imported module of ours, line) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if is_package(module) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(alias.name)
                if target:
                    found.append((target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                target = resolve(f"{source}.{alias.name}") or resolve(source)
                if target:
                    found.append((target, node.lineno))
    return found


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def layer(module):
    """0 contracts, 1 the rest of the library, 2 services, 3 ops; None: departments."""
    if module == "onestop.contracts" or module.startswith("onestop.contracts."):
        return 0
    top = module.split(".")[0]
    return {"onestop": 1, "services": 2, "ops": 3}.get(top)


def service_of(module):
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 1 else None


def violation(importer, imported):
    """Why `importer` may not import `imported`, or None."""
    if importer.startswith("departments.sdk"):
        if imported.startswith("departments.sdk") or layer(imported) == 0:
            return None
        return "the department SDK imports only onestop.contracts of the platform"
    if importer.startswith("departments"):
        if layer(imported) in (2, 3):
            return "departments/ never imports services/ or ops/"
        return None
    if imported.startswith("departments"):
        return "the platform's packages do not import departments/"
    if layer(imported) > layer(importer):
        return f"layer {layer(importer)} imports layer {layer(imported)} (above it)"
    mine, theirs = service_of(importer), service_of(imported)
    if mine and theirs and mine != theirs:
        return "a service never imports another service"
    return None


def test_the_sources_are_found():
    assert {
        "onestop.common.auth",
        "onestop.client",
        "services.routing.service",
        "ops.cli",
        "departments.sdk.pika_worker",
        "onestop.contracts.envelope",
    } <= set(MODULES)


def test_no_module_imports_from_a_layer_above_or_another_service():
    wrong = [
        f"{importer}:{line} imports {imported}: {why}"
        for importer, edges in GRAPH.items()
        for imported, line in edges
        for why in [violation(importer, imported)]
        if why
    ]
    assert not wrong, "\n".join(wrong)


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in {t for t, _ in graph.get(node, ())}:
            if target == node:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    # a package's __init__ importing its own modules is how packages work, not a cycle
    graph = {
        m: [(t, line) for t, line in edges if not (is_package(t) and m.startswith(t + "."))]
        for m, edges in GRAPH.items()
    }
    assert cycles(graph) == []


def test_the_checks_catch_what_they_are_for():
    assert violation("onestop.common.auth", "onestop.client") is None  # same layer
    assert violation("onestop.common.auth", "ops.runner")
    assert violation("onestop.contracts.envelope", "onestop.common.config")
    assert violation("services.intake.service", "services.catalog.domain")
    assert violation("services.intake.service", "ops.cli")
    assert violation("departments.sdk.nameko_entrypoint", "onestop.common.messaging")
    assert violation("departments.sdk.pika_worker", "onestop.contracts.topology") is None
    assert violation("ops.cli", "services.catalog.domain") is None
    assert cycles({"a": [("b", 1)], "b": [("c", 1)], "c": [("a", 1)], "d": [("a", 1)]}) == [
        ["a", "b", "c"]
    ]


BLOCKED_IMPORT = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # `import pymongo` now raises ImportError
import departments.sdk, departments.sdk.pika_worker, departments.sdk.nameko_entrypoint
import departments.sdk.metrics
print("ok")
"""


@pytest.mark.parametrize("blocked", [("pymongo",), ("pymongo", "onestop.common")])
def test_the_department_sdk_imports_without_pymongo_or_the_platform_library(blocked):
    run = subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORT.format(blocked=blocked)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
