#!/usr/bin/env python3
"""Generate ``src/copilot_sync/generated/rpc.py`` from the CLI's API schema.

Usage::

    python scripts/generate_rpc.py [--schema PATH] [--output PATH] [--check]

The schema is ``api.schema.json`` from the ``@github/copilot-<platform>`` npm package
(looked up like ``generate_events.py`` does). Every method under ``server`` becomes a
method of ``ServerRpc`` (``client.rpc``) and every method under ``session`` one of
``SessionRpc`` (``session.rpc``), grouped by namespace as the schema groups them:
``session.model.switchTo`` is ``session.rpc.model.switch_to(model_id=...)``. Methods the
schema marks ``"visibility": "internal"`` are left out and listed in ``INTERNAL_METHODS``.

Each method takes its params as keyword-only, snake_case arguments (required ones
first, optional ones default to ``None``, which leaves them out of the request) and a
``timeout=`` (seconds, ``None`` waits forever), and returns the typed result. The object
types are the same slotted record classes ``generate_events.py`` writes for event
payloads (parsing never raises; unknown fields stay in ``raw`` and in ``to_dict()``).
Only the definitions the public methods reach are generated. The method bodies call
``self._call(wire_method, params, result_annotation, timeout)``; the runtime behind it is
``copilot_sync._rpc``.

The output is deterministic: the same schema always gives a byte-identical file.
Standard library only.
"""

from __future__ import annotations

import json
import keyword
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_events as base

DEFAULT_OUTPUT = base.REPO_ROOT / "src" / "copilot_sync" / "generated" / "rpc.py"
LINE_WIDTH = base.LINE_WIDTH
DEFAULT_TIMEOUT = 60.0

#: (wire method, wire param) -> Python argument name, where the mechanical name would be
#: wrong or clash with the SDK's own ``timeout=``.
PARAM_RENAMES = {
    ("session.shell.exec", "timeout"): "timeout_ms",
}
#: Argument names every method has; schema params with these names must be renamed.
RESERVED_PARAMS = frozenset({"self", "timeout"})
#: Names the generated module defines itself.
RESERVED_CLASS_NAMES = base.RESERVED_CLASS_NAMES | {
    "ServerRpc",
    "SessionRpc",
    "METHODS",
    "INTERNAL_METHODS",
    "Literal",
    "Mapping",
    "Sequence",
    "_Api",
    "_null_if_none",
}


def _value(param: Param) -> str:
    """The expression sent for ``param``: ``None`` is left out, unless null is its value."""
    return f"_null_if_none({param.name})" if param.null_is_a_value else param.name


def snake_case(name: str) -> str:
    """Like the event generator's, but ``gitHubToken`` → ``github_token``."""
    return base.snake_case(name.replace("gitHub", "github").replace("GitHub", "Github"))


def api_name(name: str) -> str:
    """A method or namespace attribute: snake_case, only keywords get a ``_`` (``get`` stays)."""
    text = snake_case(name)
    if text.endswith("_") and (
        text[:-1] in base.RESERVED_ATTRIBUTES or text[:-1] in base.ANNOTATION_NAMES
    ):
        text = text[:-1]
    return text


def pascal_case(text: str) -> str:
    return base.pascal_case(text.replace("gitHub", "github").replace("GitHub", "Github"))


def default_schema_path() -> Path | None:
    """``api.schema.json`` inside the CLI install cache, or ``None``."""
    return base.find_schema("api.schema.json")


def _external(schema: Any) -> bool:
    """A ``$ref`` into another schema file (``session-events.schema.json#/...``)."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return isinstance(ref, str) and not ref.startswith("#")


# --------------------------------------------------------------------------- model


@dataclass
class Param:
    name: str  # Python argument name
    wire: str
    annotation: str
    required: bool
    description: str
    #: Required, and the schema allows ``null``: ``None`` is sent as an explicit null.
    null_is_a_value: bool = False


@dataclass
class Method:
    wire: str
    name: str  # Python method name
    description: str
    params: list[Param]
    params_union: str | None  # annotation of a single positional ``params`` (union params)
    result: str  # annotation of the result, as the runtime parses it
    result_doc: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Namespace:
    scope: str  # "server" or "session"
    path: tuple[str, ...]  # wire segments below the scope
    class_name: str
    methods: list[Method] = field(default_factory=list)
    children: dict[str, Namespace] = field(default_factory=dict)  # Python attribute -> child


class RpcGenerator(base.Generator):
    """Builds the record classes the public methods reach, then the namespace classes."""

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        self.internal: list[str] = []
        self.roots: dict[str, Namespace] = {}
        self.all_methods: list[tuple[Method, Namespace]] = []

    def _attr_name(self, wire: str) -> str:
        return snake_case(wire)

    # ------------------------------------------------------------- analysis

    def run(self) -> str:
        taken = set(self.defs)
        for def_name in self.defs:
            self.class_names[def_name] = def_name
            if def_name in RESERVED_CLASS_NAMES:
                raise base.SchemaError(f"definition {def_name!r} clashes with a generated name")
        for scope, class_name in (("server", "ServerRpc"), ("session", "SessionRpc")):
            tree = self.schema.get(scope)
            if not isinstance(tree, dict):
                raise base.SchemaError(f"no {scope!r} section")
            root = Namespace(scope, (), class_name)
            self.roots[scope] = root
            self._walk(tree, root, taken)
        return self._render()

    def _walk(self, tree: dict[str, Any], namespace: Namespace, taken: set[str]) -> None:
        used: dict[str, str] = {}
        for key in sorted(tree):
            node = tree[key]
            if not isinstance(node, dict):
                continue
            attr = api_name(key)
            if attr in used:
                raise base.SchemaError(
                    f"{namespace.class_name}: {key!r} and {used[attr]!r} map to {attr!r}"
                )
            used[attr] = key
            if "rpcMethod" in node:
                if node.get("visibility") == "internal":
                    self.internal.append(node["rpcMethod"])
                    continue
                method = self._method(node, attr, namespace.scope)
                namespace.methods.append(method)
                self.all_methods.append((method, namespace))
            else:
                path = (*namespace.path, key)
                class_name = (
                    pascal_case(namespace.scope) + "".join(pascal_case(p) for p in path) + "Api"
                )
                if class_name in taken or class_name in RESERVED_CLASS_NAMES:
                    raise base.SchemaError(f"namespace class name {class_name!r} is taken")
                taken.add(class_name)
                child = Namespace(namespace.scope, path, class_name)
                self._walk(node, child, taken)
                if child.methods or child.children:
                    namespace.children[attr] = child

    def _annotation(self, schema: dict[str, Any], owner: str, wire: str) -> tuple[str, bool]:
        if _external(schema):
            return "dict[str, Any]", False  # a type of the events schema: kept as a dict
        return super()._annotation(schema, owner, wire)

    def _enum_values(self, prop: dict[str, Any]) -> list[str]:
        if _external(prop) or any(_external(a) for a in prop.get("anyOf") or []):
            return []
        return super()._enum_values(prop)

    def _const_of(self, prop: dict[str, Any]) -> str | None:
        return None if _external(prop) else super()._const_of(prop)

    def _is_object(self, schema: dict[str, Any]) -> bool:
        return True if _external(schema) else super()._is_object(schema)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        if _external(schema):
            return {"type": "object"}
        if "$ref" in schema:
            return self.defs[base._ref_name(schema["$ref"])]
        return schema

    def _method(self, node: dict[str, Any], name: str, scope: str) -> Method:
        wire = node["rpcMethod"]
        if keyword.iskeyword(name):
            name += "_"
        params: list[Param] = []
        union: str | None = None
        schema = node.get("params")
        if isinstance(schema, dict):
            resolved = self._resolve(schema)
            alternatives = resolved.get("anyOf") or resolved.get("oneOf")
            objects = [self._resolve(a) for a in alternatives or []]
            props_schema: dict[str, Any] | None = None
            if "properties" in resolved:
                props_schema = resolved  # anyOf only adds "one of these is required"
            elif alternatives and any(a.get("not") == {} for a in alternatives):
                rest = [o for o in objects if o.get("not") != {}]
                if len(rest) == 1 and "properties" in rest[0]:
                    props_schema = rest[0]  # an optional params object
            if props_schema is None and alternatives:
                names = []
                for alternative in alternatives:
                    names.append(self._param_annotation(alternative, wire, "params"))
                union = " | ".join(dict.fromkeys([*names, "Mapping[str, Any]"]))
            elif props_schema is not None:
                required = set(props_schema.get("required") or [])
                for prop_wire, prop in (props_schema.get("properties") or {}).items():
                    if scope == "session" and prop_wire == "sessionId":
                        continue
                    arg = PARAM_RENAMES.get((wire, prop_wire)) or snake_case(prop_wire)
                    if arg in RESERVED_PARAMS:
                        raise base.SchemaError(
                            f"{wire}: param {prop_wire!r} needs an entry in PARAM_RENAMES"
                        )
                    params.append(
                        Param(
                            name=arg,
                            wire=prop_wire,
                            annotation=self._param_annotation(prop, wire, prop_wire),
                            required=prop_wire in required,
                            description=base._sentence(prop.get("description")),
                            null_is_a_value=prop_wire in required and self._allows_null(prop),
                        )
                    )
            elif resolved.get("type") not in (None, "null") or resolved.get("properties"):
                raise base.SchemaError(f"{wire}: params shape not understood")
        params.sort(key=lambda p: not p.required)  # stable: schema order within each group
        result_schema = node.get("result")
        result, result_doc = self._result_annotation(result_schema, wire)
        notes = []
        if node.get("stability") not in (None, "experimental"):
            notes.append(f"Stability: {node['stability']}.")
        if node.get("deprecated"):
            notes.append("Deprecated.")
        return Method(
            wire=wire,
            name=name,
            description=base._sentence(node.get("description")),
            params=params,
            params_union=union,
            result=result,
            result_doc=result_doc,
            notes=notes,
        )

    def _result_annotation(self, schema: Any, wire: str) -> tuple[str, str]:
        if not isinstance(schema, dict):
            return "None", ""
        doc = base._sentence(schema.get("description"))
        resolved = self._resolve(schema)
        if resolved.get("type") == "null":
            return "None", doc
        if "$ref" not in schema and resolved.get("type") == "object" and "properties" in resolved:
            name = pascal_case(wire) + "Result"
            if name in self.defs or name in self.classes:
                raise base.SchemaError(f"inline result class name {name!r} is taken")
            self._build_class(name, resolved, schema_name=None)
            return name, doc
        annotation, nullable = self._annotation(schema, pascal_case(wire) + "Result", "")
        if nullable and annotation != "Any":
            annotation += " | None"
        return annotation, doc

    def _allows_null(self, schema: dict[str, Any]) -> bool:
        schema = self._resolve(schema)
        kind = schema.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            return True
        return any(
            self._resolve(a).get("type") == "null"
            for key in ("anyOf", "oneOf")
            for a in schema.get(key) or []
        )

    def _param_annotation(self, schema: dict[str, Any], wire: str, prop: str) -> str:
        """A signature annotation: record classes also accept a plain mapping; enums are Literals."""
        values = self._enum_values(schema)
        if values and all(isinstance(v, str) for v in values) and "anyOf" not in schema:
            return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"
        if _external(schema):
            return "Mapping[str, Any]"
        if "$ref" in schema:
            annotation = self._def_annotation(base._ref_name(schema["$ref"]))
            if annotation in self.classes or annotation in self.unions:
                return f"{annotation} | Mapping[str, Any]"
            return annotation.replace("dict[", "Mapping[")
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return "Mapping[str, Any]"
        if kind == "array":
            items = schema.get("items")
            item = self._param_annotation(items, wire, prop) if isinstance(items, dict) else "Any"
            return f"Sequence[{item}]"
        for key in ("anyOf", "oneOf"):
            if key in schema:
                rest = [a for a in schema[key] if a.get("type") != "null"]
                parts = [self._param_annotation(a, wire, prop) for a in rest]
                return " | ".join(dict.fromkeys(parts)) if parts else "Any"
        annotation, _ = self._annotation(schema, pascal_case(wire) + "Params", prop)
        return annotation.replace("dict[", "Mapping[")

    # ------------------------------------------------------------- rendering

    def _render(self) -> str:
        out: list[str] = []
        w = out.append
        w(
            "# Generated by scripts/generate_rpc.py from api.schema.json "
            f"(@github/copilot {base.CLI_VERSION}). Do not edit."
        )
        w(
            '"""Typed, synchronous JSON-RPC methods of the Copilot CLI: ``client.rpc`` and ``session.rpc``.'
        )
        w("")
        w("``client.rpc`` is a :class:`ServerRpc` (server-scoped methods); ``session.rpc`` is a")
        w(":class:`SessionRpc` (methods of one session; ``sessionId`` is filled in). Namespaces")
        w(
            "follow the schema: ``session.model.switchTo`` is ``session.rpc.model.switch_to(model_id=...)``."
        )
        w("Arguments are keyword-only and snake_case; an optional argument left at ``None`` is not")
        w("sent. Arguments typed as a record class also take a plain mapping with the wire")
        w("(camelCase) keys. Every method takes ``timeout=`` (seconds; ``None`` waits forever) and")
        w("raises :class:`copilot_sync.JsonRpcError` when the CLI answers with an error.")
        w("")
        w("Results are slotted record classes (``==``, ``repr``, ``to_dict()``; parsing never")
        w("raises, unknown fields are kept in ``raw`` and in ``to_dict()``). Every method is")
        w(
            f"marked experimental in the schema of CLI {base.CLI_VERSION}. Runtime: ``copilot_sync._rpc``."
        )
        w('"""')
        w("")
        # The record and namespace bases are the package's private runtime; the generated
        # module is part of that package, so reaching them is not private usage.
        w("# pyright: reportPrivateUsage=false")
        w("from __future__ import annotations")
        w("")
        w("from typing import TYPE_CHECKING, cast")
        w("")
        w("from .._records import _Record, _UnionRecord")
        w("from .._rpc import _Api, _null_if_none")
        w("")
        w("if TYPE_CHECKING:")
        w("    from collections.abc import Mapping, Sequence")
        w("    from datetime import datetime")
        w("    from typing import Any, Literal")
        w("")
        names = ["INTERNAL_METHODS", "METHODS", "ServerRpc", "SessionRpc"]
        api_classes = sorted(self._namespace_classes())
        names += sorted(
            set(self.classes) | set(self.unions) | set(api_classes) - {"ServerRpc", "SessionRpc"}
        )
        w("__all__ = [")
        for name in names:
            w(f'    "{name}",')
        w("]")
        w("")
        w("")
        emitted: set[str] = set()
        for name in sorted(set(self.classes) | set(self.unions)):
            self._render_class_once(name, w, emitted)
        w("# " + "-" * (LINE_WIDTH - 2))
        w("# Namespaces")
        w("")
        w("")
        for scope in ("server", "session"):
            self._render_namespace(self.roots[scope], w)
        w(
            "#: Wire method -> attribute path from ``client.rpc`` (server) or ``session.rpc`` (session)."
        )
        w("METHODS: dict[str, tuple[str, ...]] = {")
        for method, namespace in sorted(self.all_methods, key=lambda item: item[0].wire):
            path = (namespace.scope, *tuple(self._attr_path(namespace)), method.name)
            w(f"    {json.dumps(method.wire)}: ({', '.join(json.dumps(p) for p in path)}),")
        w("}")
        w("")
        w("#: Methods the schema marks internal (not generated).")
        w("INTERNAL_METHODS: tuple[str, ...] = (")
        for wire in sorted(self.internal):
            w(f"    {json.dumps(wire)},")
        w(")")
        return "\n".join(out) + "\n"

    def _namespace_classes(self) -> list[str]:
        found: list[str] = []

        def visit(namespace: Namespace) -> None:
            found.append(namespace.class_name)
            for child in namespace.children.values():
                visit(child)

        for root in self.roots.values():
            visit(root)
        return found

    def _attr_path(self, namespace: Namespace) -> list[str]:
        return [api_name(segment) for segment in namespace.path]

    def _render_namespace(self, namespace: Namespace, w: Any) -> None:
        for child in namespace.children.values():
            self._render_namespace(child, w)
        w(f"class {namespace.class_name}(_Api):")
        if namespace.path:
            prefix = ".".join(namespace.path)
            where = "client.rpc" if namespace.scope == "server" else "session.rpc"
            attr = ".".join(self._attr_path(namespace))
            if namespace.scope == "session":
                prefix = "session." + prefix
            summary = f"``{prefix}.*`` methods (``{where}.{attr}``)."
        elif namespace.scope == "server":
            summary = "Server-scoped methods of the CLI (``client.rpc``)."
        else:
            summary = "Methods of one session (``session.rpc``); ``sessionId`` is filled in."
        self._docstring(w, [summary])
        w("")
        w("    __slots__ = ()")
        w(f'    _NAMESPACE = "{".".join((namespace.scope, *namespace.path))}"')
        for attr, child in namespace.children.items():
            w("")
            w("    @property")
            w(f"    def {attr}(self) -> {child.class_name}:")
            w(f"        return {child.class_name}(self._call)")
        for method in namespace.methods:
            w("")
            self._render_method(method, w)
        w("")
        w("")

    def _render_method(self, method: Method, w: Any) -> None:
        signature = ["self"]
        if method.params_union is not None:
            signature += [f"params: {method.params_union}", "/"]
        signature.append("*")
        for param in method.params:
            default = "" if param.required else " = None"
            optional = not param.required or (param.null_is_a_value and param.annotation != "Any")
            annotation = f"{param.annotation} | None" if optional else param.annotation
            signature.append(f"{param.name}: {annotation}{default}")
        signature.append(f"timeout: float | None = {DEFAULT_TIMEOUT}")
        returns = method.result
        one_line = f"    def {method.name}({', '.join(signature)}) -> {returns}:"
        if len(one_line) <= LINE_WIDTH:
            w(one_line)
        else:
            w(f"    def {method.name}(")
            for part in signature:
                w(f"        {part},")
            w(f"    ) -> {returns}:")
        self._method_docstring(method, w)
        if method.params_union is not None:
            params_expr = "params"
        elif method.params:
            items = [f"{json.dumps(p.wire)}: {_value(p)}" for p in method.params]
            params_expr = "{" + ", ".join(items) + "}"
        else:
            params_expr = "None"
        # ``_call`` returns the parsed JSON result as ``Any``; ``cast`` (a no-op at run
        # time) states what the runtime parsed it into, for mypy --strict and pyright.
        quoted = json.dumps(returns)
        cast_open, cast_close = ("", "") if returns == "Any" else (f"cast({quoted}, ", ")")
        call = (
            f"        return {cast_open}self._call({json.dumps(method.wire)}, {params_expr},"
            f" {quoted}, timeout){cast_close}"
        )
        if len(call) <= LINE_WIDTH:
            w(call)
            return
        w(f"        return {cast_open}self._call(")
        w(f"            {json.dumps(method.wire)},")
        if method.params_union is None and method.params:
            w("            {")
            for p in method.params:
                w(f"                {json.dumps(p.wire)}: {_value(p)},")
            w("            },")
        else:
            w(f"            {params_expr},")
        w(f"            {quoted},")
        w("            timeout,")
        w(f"        ){cast_close}")

    def _method_docstring(self, method: Method, w: Any) -> None:
        width = LINE_WIDTH - 8
        lines: list[str] = []

        def para(text: str, indent: str = "", hanging: str = "") -> None:
            lines.extend(
                textwrap.wrap(
                    text,
                    width,
                    initial_indent=indent,
                    subsequent_indent=hanging or indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )

        para(method.description or f"``{method.wire}``.")
        lines.append("")
        para(
            f"Wire method: ``{method.wire}``."
            + (" " + " ".join(method.notes) if method.notes else "")
        )
        if method.params or method.params_union:
            lines.append("")
            lines.append("Args:")
            if method.params_union:
                para(
                    "params: the request, as one of the record classes or a mapping with wire keys.",
                    "    ",
                    "        ",
                )
            for param in method.params:
                text = f"{param.name}: {param.description or '(no description)'}"
                if param.name != snake_case(param.wire):
                    text += f" (wire name ``{param.wire}``)"
                para(text, "    ", "        ")
        if method.result_doc and method.result != "None":
            lines.append("")
            lines.append("Returns:")
            para(method.result_doc, "    ")
        text = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if text.endswith('"'):
            text += " "
        body = text.split("\n")
        w(f'        """{body[0]}')
        for line in body[1:]:
            w(f"        {line}" if line else "")
        w('        """')


def generate(schema: dict[str, Any]) -> str:
    """The generated module's source text for a parsed schema."""
    return RpcGenerator(schema).run()


def main(argv: list[str] | None = None) -> int:
    return base.run_command_line(
        argv,
        description=__doc__.split("\n\n")[0],
        schema_name="api.schema.json",
        find_schema=default_schema_path,
        default_output=DEFAULT_OUTPUT,
        generate_text=generate,
        prog="generate_rpc",
    )


if __name__ == "__main__":
    sys.exit(main())
