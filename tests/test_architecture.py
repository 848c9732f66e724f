"""The package's shape, checked: layers, no import cycles, no huge modules, no private reach-ins.

See docs/ARCHITECTURE.md. The import graph is built from the source with ``ast``: every
``import`` that runs when a module is imported (top level, outside ``if TYPE_CHECKING:``),
relative imports resolved, ``from pkg import module`` counted as an edge to that module.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "copilot_sync"
#: Size limit in logical lines (statements, as ``tokenize`` counts NEWLINE tokens), so the
#: limit measures code, not how the formatter wraps it (ruff format turned ~560-line modules
#: into ~630 physical lines without adding a statement).
MAX_STATEMENTS = 480

#: Private names a module may import from another, with the reason. Keep it short.
PRIVATE_IMPORT_ALLOWED = {
    # Generated code stays byte-identical to what scripts/generate_*.py write; its record
    # and API base classes are the runtime's, deliberately underscored for users.
    ("copilot_sync.generated.rpc", "copilot_sync._records", "_Record"): "generated code",
    ("copilot_sync.generated.rpc", "copilot_sync._records", "_UnionRecord"): "generated code",
    ("copilot_sync.generated.rpc", "copilot_sync._rpc", "_Api"): "generated code",
    ("copilot_sync.generated.rpc", "copilot_sync._rpc", "_null_if_none"): "generated code",
    ("copilot_sync.generated.session_events", "copilot_sync._records", "_Record"): "generated code",
    (
        "copilot_sync.generated.session_events",
        "copilot_sync._records",
        "_UnionRecord",
    ): "generated code",
}

#: The wire knows nothing of sessions: what a ``_wire`` module may import from the package.
WIRE_MAY_IMPORT = ("copilot_sync._wire", "copilot_sync._errors", "copilot_sync._logging")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(name: str) -> list[tuple[str, list[str]]]:
    """``(module, imported names)`` for each import run at import time of module ``name``."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[tuple[str, list[str]]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (
                    node.body,
                    node.orelse,
                    node.finalbody,
                    *(h.body for h in node.handlers),
                ):
                    visit(block)
            elif isinstance(node, ast.Import):
                found.extend((alias.name, []) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                found.append((module, [alias.name for alias in node.names]))

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        edges: set[str] = set()
        for module, names in _runtime_imports(name):
            for imported in names:
                if f"{module}.{imported}" in MODULES:  # from pkg import submodule
                    edges.add(f"{module}.{imported}")
            if module in MODULES:
                edges.add(module)
        edges.discard(name)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_graph_sees_the_package() -> None:
    graph = _graph()
    assert "copilot_sync.testing._fake_cli" in graph and "copilot_sync._wire.connection" in graph
    assert "copilot_sync._client" in graph["copilot_sync"]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_runtime_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    code = (
        "import importlib, sys\n"
        f"names = {sorted(MODULES)!r}\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m == 'copilot_sync' or m.startswith('copilot_sync.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(MODULES)


@pytest.mark.parametrize(
    "name", sorted(n for n in MODULES if not n.startswith("copilot_sync.generated"))
)
def test_no_hand_written_module_is_over_480_statements(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    statements = sum(1 for token in tokens if token.type == tokenize.NEWLINE)
    assert statements <= MAX_STATEMENTS, (
        f"{name} has {statements} statements; split it by concern (docs/ARCHITECTURE.md)"
    )


def test_no_module_imports_another_modules_private_names() -> None:
    reach_ins = []
    for name in MODULES:
        for module, names in _runtime_imports(name) + _type_checking_imports(name):
            if not module.startswith("copilot_sync") or module == name:
                continue
            for imported in names:
                private = imported.startswith("_") and not imported.startswith("__")
                if (
                    private
                    and f"{module}.{imported}" not in MODULES
                    and (name, module, imported) not in PRIVATE_IMPORT_ALLOWED
                ):
                    reach_ins.append(f"{name} imports {imported} from {module}")
    assert reach_ins == []


def _type_checking_imports(name: str) -> list[tuple[str, list[str]]]:
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for inner in node.body:
                if isinstance(inner, ast.ImportFrom):
                    base = package[: len(package) - inner.level + 1] if inner.level else []
                    module = (
                        ".".join(base + ([inner.module] if inner.module else []))
                        if inner.level
                        else inner.module
                    )
                    found.append((module or "", [alias.name for alias in inner.names]))
    return found


def test_the_wire_knows_nothing_of_sessions_clients_or_requests() -> None:
    graph = _graph()
    wire = [name for name in MODULES if name.startswith("copilot_sync._wire")]
    assert {
        "copilot_sync._wire.connection",
        "copilot_sync._wire.framing",
        "copilot_sync._wire.workers",
    } <= set(wire)
    leaks = []
    for name in wire:
        imported = {
            module for module, _names in _runtime_imports(name) + _type_checking_imports(name)
        }
        imported |= graph[name]
        for module in sorted(imported):
            if module.startswith("copilot_sync") and not module.startswith(WIRE_MAY_IMPORT):
                leaks.append(f"{name} imports {module}")
    assert leaks == []


def test_request_handlers_depend_on_the_protocol_not_on_the_session() -> None:
    graph = _graph()
    for name in MODULES:
        if name.startswith("copilot_sync._requests"):
            assert "copilot_sync._session" not in graph[name], name
            assert "copilot_sync._client" not in graph[name], name


def test_every_cli_to_sdk_method_in_the_router_resolves_to_a_handler() -> None:
    from copilot_sync._requests import router

    assert router.REQUESTS and router.EVENTS
    for method, request in {**router.REQUESTS, **router.PREFIXES}.items():
        assert isinstance(request.kind, str) and request.kind, method
        assert callable(request.answer), method
        assert request.answer.__module__.startswith("copilot_sync._requests."), method
    for event_type, react in router.EVENTS.items():
        assert callable(react), event_type
        assert react.__module__.startswith("copilot_sync._requests."), event_type
        assert event_type in router.REACTS_TO
    for method in (
        "hooks.invoke",
        "userInput.request",
        "systemMessage.transform",
        "exitPlanMode.request",
        "autoModeSwitch.request",
        "sessionFs.readFile",
    ):
        assert router.find(method) is not None, method
    for event_type in (
        "external_tool.requested",
        "permission.requested",
        "command.execute",
        "elicitation.requested",
    ):
        assert event_type in router.EVENTS
    assert router.find("no.such.method") is None
    error = router.method_not_found("no.such.method")
    assert (error.code, error.message) == (-32601, "Method not found: no.such.method")


# --------------------------------------------------------------------------- private attributes

#: ``X._name`` a module may use although it does not define ``_name`` itself, with the
#: reason: only the standard library's internals (there is no public way to say these).
PRIVATE_ATTRIBUTE_ALLOWED = {
    (
        "copilot_sync.__main__",
        "argparse._SubParsersAction",
    ): "stdlib: the type add_subparsers() returns, for annotations",
    (
        "copilot_sync._events",
        "module.SessionEventType._value2member_map_",
    ): "stdlib Enum's value -> member table",
    (
        "copilot_sync._records",
        "field._field_type",
    ): "stdlib dataclasses: a field made by hand for dataclasses.fields()",
    (
        "copilot_sync._records",
        "dataclasses._FIELD",
    ): "stdlib dataclasses: the kind of an ordinary field",
    (
        "copilot_sync._schema.tool_signature",
        "sys._getframe",
    ): "stdlib: the caller's frame, for its local annotations",
    (
        "copilot_sync.testing._fake_records",
        "os._exit",
    ): "stdlib: a fake CLI that dies without cleanup, on purpose",
}

#: Classes split into mixins across modules: the private attributes a mixin defines are its
#: class's, so the class's own module may use them on its objects (``self`` may anyway).
MIXINS = {
    "copilot_sync._client": (
        ("copilot_sync._client_start", "ClientStartup"),
        ("copilot_sync._client_stop", "ClientShutdown"),
    ),
    "copilot_sync._session": (("copilot_sync._sending", "TurnMethods"),),
    "copilot_sync.testing._fake_cli": (("copilot_sync.testing._fake_commands", "FakeCLICommands"),),
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_private_names(tree: ast.Module, only_class: str | None = None) -> set[str]:
    """The private names a module defines: module-level names, class-body names (methods,
    class attributes, ``__slots__``) and attributes set on ``self``/``cls``; with
    ``only_class``, just those of that class."""
    defined: set[str] = set()

    def names_in(target: ast.expr) -> list[str]:
        if isinstance(target, ast.Name):
            return [target.id]
        if isinstance(target, (ast.Tuple, ast.List)):
            return [name for element in target.elts for name in names_in(element)]
        return []

    def body_names(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    defined.update(names_in(target))
                if any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                    defined.update(
                        c.value
                        for c in ast.walk(node.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    )
            elif isinstance(node, ast.AnnAssign):
                defined.update(names_in(node.target))
            elif isinstance(node, ast.If):  # if TYPE_CHECKING: declarations
                body_names(node.body)
                body_names(node.orelse)

    if only_class is None:
        body_names(tree.body)
    else:
        tree = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == only_class)  # type: ignore[assignment]
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            body_names(node.body)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                defined.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            func = node.func
            if (
                (isinstance(func, ast.Name) and func.id == "setattr")
                or (isinstance(func, ast.Attribute) and func.attr == "__setattr__")
            ) and isinstance(node.args[1].value, str):
                defined.add(node.args[1].value)
    return {name for name in defined if _is_private(name)}


def _private_attribute_reach_ins(
    trees: dict[str, ast.Module], allowed_seen: set[tuple[str, str]] | None = None
) -> list[str]:
    """``X._name`` (``X`` not ``self``, ``cls`` or ``super()``) in a module that does not define
    ``_name`` itself (nor in a mixin of its class, see ``MIXINS``): a reach into an object of
    another module. Pragmatic: by name, not by type. ``allowed_seen`` collects the
    allow-list entries met."""
    own = {name: _own_private_names(tree) for name, tree in trees.items()}
    for name, mixins in MIXINS.items():
        for module, class_name in mixins:
            if name in own and module in trees:
                own[name] |= _own_private_names(trees[module], class_name)
    found: list[tuple[str, int, str]] = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
                continue
            holder = node.value
            if isinstance(holder, ast.Name) and holder.id in ("self", "cls"):
                continue
            if (
                isinstance(holder, ast.Call)
                and isinstance(holder.func, ast.Name)
                and holder.func.id == "super"
            ):
                continue
            text = ast.unparse(node)
            if node.attr in own[name]:
                continue
            if (name, text) in PRIVATE_ATTRIBUTE_ALLOWED:
                if allowed_seen is not None:
                    allowed_seen.add((name, text))
                continue
            found.append((name, node.lineno, text))
    return [f"{name}:{line}: {text}" for name, line, text in sorted(found)]


def test_the_private_attribute_check_sees_a_reach_in() -> None:
    trees = {
        "a": ast.parse(
            "class A:\n    def __init__(self):\n        self._x = 1\n    def f(self, other):\n        return other._x\n"
        ),
        "b": ast.parse("def g(a):\n    a._y = 2\n    return a._x, super()._z, self_._w\n"),
    }
    assert _private_attribute_reach_ins(trees) == ["b:2: a._y", "b:3: a._x", "b:3: self_._w"]


def test_no_module_reaches_into_another_modules_private_attributes() -> None:
    """Objects meet through public names: a module hands its collaborator a small link
    object (``_client.SessionLink``, ``_session.SessionControl``...) instead of letting it
    reach into its privates (docs/ARCHITECTURE.md). Test kit and generated code included."""
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}
    allowed_seen: set[tuple[str, str]] = set()
    reach_ins = _private_attribute_reach_ins(trees, allowed_seen)
    assert reach_ins == [], "reaches into another module's private attributes:\n" + "\n".join(
        reach_ins
    )
    assert set(PRIVATE_ATTRIBUTE_ALLOWED) - allowed_seen == set(), (
        "allow-list entries no longer needed"
    )
    for mixins in MIXINS.values():
        for module, class_name in mixins:
            assert any(
                isinstance(n, ast.ClassDef) and n.name == class_name for n in trees[module].body
            ), class_name
