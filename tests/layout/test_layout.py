"""The layout holds: no import circle, no Prefect or Streamlit under ``claimdesk/`` outside
``cli/``, no SQL in ``tasks/`` or ``ui/``, no module over 500 lines.

Imports are read from the source (every ``import``, at module level or inside a
function: a lazy import still ties two modules together), so the test needs no
running service and fails on the line that breaks the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("claimdesk", "models", "flows", "tasks", "ui")
MAX_LINES = 500
# The SQL surface of SQLAlchemy/SQLModel: a module outside the stage packages that
# names one of these is running its own queries.
SQL_NAMES = frozenset(
    {"select", "update", "delete", "insert", "text", "func", "col", "or_", "and_", "exec"}
)


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the module: lazy and type-only ones too.

    A name imported for a type hint still ties two modules together.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # ``from pkg import module``
                yield f"{base}.{alias.name}", node.lineno


def _graph() -> dict[str, dict[str, int]]:
    modules = dict(_modules())
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        for target, line in _imports(name, path):
            if target in modules and target != name:
                graph[name].setdefault(target, line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def _is_package_init(name: str) -> bool:
    return dict(_modules())[name].name == "__init__.py"


def test_no_import_circle() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a circle between stages.
    for name in list(graph):
        if _is_package_init(name):
            graph[name] = {t: n for t, n in graph[name].items() if not t.startswith(name + ".")}
    cycles = _cycles(graph)
    detail = [
        f"  {a} → {b} (line {graph[a][b]})"
        for component in cycles
        for a in component
        for b in component
        if b in graph[a]
    ]
    assert not cycles, "import circles:\n" + "\n".join(detail)


# Who may import whom (docs/architecture.md draws it): a module imports its own layer or
# lower ones. The most specific entry wins (``claimdesk.claims.status`` is a leaf the
# models validate with; the rest of ``claimdesk.claims`` stands on the models).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "claimdesk",
            "claimdesk.errors",
            "claimdesk.settings",
            "claimdesk.clock",
            "claimdesk.states",
            "claimdesk.private_files",
            "claimdesk.crypto_files",
            "claimdesk.passwords",
            "claimdesk.pdf_fonts",
            "claimdesk.claims.status",
            "claimdesk.x12",
            "claimdesk.codes",
        }
    ),
    frozenset(
        {
            "models",
            "claimdesk.db",
            "claimdesk.documents",
            "claimdesk.migrate",
            "claimdesk.rules",
            "claimdesk.paper",
        }
    ),
    frozenset(
        {
            "claimdesk.stored_documents",
            "claimdesk.cms_edits",
            "claimdesk.gateway",
            "claimdesk.access",
            "claimdesk.review",
            "claimdesk.payer_sim",
            "claimdesk.demo",
        }
    ),
    frozenset({"claimdesk.claims", "claimdesk.intake"}),
    # The stages of the claim's way: they may use each other (no circle, see above).
    frozenset(
        {
            "claimdesk.eligibility",
            "claimdesk.submission",
            "claimdesk.status_polling",
            "claimdesk.remittance",
            "claimdesk.denials",
            "claimdesk.billing",
        }
    ),
    frozenset({"claimdesk.workqueue", "claimdesk.reporting", "claimdesk.learning"}),
    frozenset(
        {
            "claimdesk.cli",
            "claimdesk.stack",
            "claimdesk.stack_procs",
            "claimdesk.stack_guard",
            "tasks",
            "flows",
            "ui",
        }
    ),
)


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for number, layer in enumerate(LAYERS):
        for entry in layer:
            if module == entry or module.startswith(entry + "."):
                depth = entry.count(".") + (entry != "claimdesk")
                if best is None or depth > best[0]:
                    best = (depth, number)
    return best[1] if best else None


def test_every_module_has_a_layer() -> None:
    missing = [name for name, _ in _modules() if _layer(name) is None]
    assert not missing, f"add to LAYERS (and docs/architecture.md): {missing}"


def test_no_module_imports_a_higher_layer() -> None:
    graph = _graph()
    upward = [
        f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)}) at line {line}"
        for a, targets in graph.items()
        for b, line in targets.items()
        if (_layer(a) or 0) < (_layer(b) or 0)
    ]
    assert not upward, "\n".join(upward)


def test_the_stage_packages_form_no_circle() -> None:
    """Stages may use each other, but never both ways round (package level)."""
    stages = LAYERS[4]
    graph: dict[str, dict[str, int]] = {stage: {} for stage in stages}
    for a, targets in _graph().items():
        for b, line in targets.items():
            pa = next((s for s in stages if a.startswith(s + ".") or a == s), None)
            pb = next((s for s in stages if b.startswith(s + ".") or b == s), None)
            if pa and pb and pa != pb:
                graph[pa].setdefault(pb, line)
    assert not _cycles(graph), f"stage packages import each other both ways: {_cycles(graph)}"


def test_claimdesk_core_imports_neither_prefect_nor_streamlit() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in _modules()
        if name.startswith("claimdesk.") and not name.startswith("claimdesk.cli")
        for target, line in _imports(name, path)
        if target.split(".")[0] in {"prefect", "streamlit"}
    ]
    assert not offenders, "\n".join(offenders)


def _sql_uses(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {
            "sqlalchemy",
            "sqlmodel",
        }:
            for alias in node.names:
                if alias.name in SQL_NAMES:
                    yield node.lineno, f"imports {alias.name} from {node.module}"
        elif isinstance(node, ast.Attribute) and node.attr == "exec":
            yield node.lineno, "runs session.exec"


def test_tasks_and_ui_hold_no_sql() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for name, path in _modules()
        if name.split(".")[0] in {"tasks", "ui"}
        for line, what in _sql_uses(path)
    ]
    assert not offenders, "\n".join(offenders)


def test_no_module_over_500_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for _, path in _modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, "split these:\n" + "\n".join(long)


def test_the_graph_sees_lazy_imports() -> None:
    """The reader finds an import inside a function (the kind that hid the old circle)."""
    source = "def f():\n    from claimdesk.review import tasks\n"
    tree = ast.parse(source)
    found = [
        f"{n.module}.{a.name}"
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
    ]
    assert found == ["claimdesk.review.tasks"]
