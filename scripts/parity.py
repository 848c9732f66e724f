#!/usr/bin/env python3
"""Write ``docs/PARITY.md``: the official Python SDK's session options, client options and
public methods, each beside copilot_sync's: present, planned, or absent with the reason.

Usage (from the repository root, with copilot_sync's own interpreter)::

    python3 -m venv /tmp/official && /tmp/official/bin/pip install github-copilot-sdk
    .venv/bin/python scripts/parity.py [--official-python /tmp/official/bin/python]
                                       [--schema api.schema.json] [--output docs/PARITY.md]

The official SDK is read in its own interpreter (a subprocess that prints JSON); it is
never imported here nor by copilot_sync. Its options go beside ours; those copilot_sync
does not take must be in ``REASONS`` (present, planned or absent with the reason), or the
script stops and names them. The CLI schema column says whether the default CLI's
``api.schema.json`` declares the wire field (the CLI reads some it does not declare).

``tests/test_parity_doc.py`` checks the written file against copilot_sync's current
signatures (``our_surface`` below) without the official SDK; only regenerating needs it.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "PARITY.md"
DEFAULT_OFFICIAL_PYTHON = "/tmp/official/bin/python"

PLANNED = "planned"
ABSENT = "absent"
PRESENT = "present"


#: Official names copilot_sync does not take, by table: (status, reason).
REASONS: dict[str, dict[str, tuple[str, str]]] = {
    "session": {},
    "client": {},
    "client_members": {
        "start_ahp_host": (
            ABSENT,
            "the experimental in-process AHP listener (`host.start`, admission callbacks, session "
            "handoff by `host.materializeSession`) is not implemented; the `host.*` requests are declined",
        ),
    },
    "session_members": {},
}

#: Official name -> copilot_sync's names for the same thing, where they differ.
EQUIVALENTS: dict[str, dict[str, tuple[list[str], str]]] = {
    "client": {
        "connection": (
            ["cli_path", "cli_url", "use_stdio", "port", "connection_token"],
            "the official SDK takes one `RuntimeConnection`; these keywords say the same",
        ),
        "working_directory": (["cwd"], "the CLI process's working directory"),
    },
    "session_members": {
        "get_events": (["get_messages"], "both read `session.getMessages`"),
        "send_and_wait_typed": (
            ["send_and_wait"],
            "`send_and_wait(prompt, response_format=T)`: dataclasses, "
            "TypedDicts, enums, JSON Schema dicts, pydantic models if installed",
        ),
    },
}

#: Notes on what only copilot_sync has.
OURS_ONLY: dict[str, dict[str, str]] = {
    "session": {
        "config_dir": "older name of `config_directory`",
        "disable_resume": "older name of `suppress_resume_event`",
        "session_id": "the positional id of `resume_session`, accepted as a keyword when it says the same",
    },
    "client": {
        "cli_args": "extra command-line arguments for the CLI",
        "auto_start": "start on first use",
        "max_workers": "size of the handler thread pool",
        "start_timeout": "limit of spawn and handshake",
        "max_frame_bytes": "largest JSON-RPC frame accepted",
    },
}

#: Notes on present options whose handling differs from the official SDK's.
NOTES: dict[str, str] = {
    "skip_custom_instructions": "official: `session.options.update` after the session opens; "
    "the CLI takes it in `session.create`/`session.resume` too",
    "coauthor_enabled": "official: `session.options.update` after the session opens",
    "manage_schedule_enabled": "official: `session.options.update` after the session opens",
    "included_builtin_skills": "official: `session.options.update` after the session opens",
    "custom_agents_local_only": "official: also `session.options.update` after the session opens",
    "model_capabilities": "`limits` keys stay snake_case (the CLI reads them so)",
    "sandbox_config": "a dict or a `copilot_sync.generated.rpc.SandboxConfig`",
    "diagnostics": "a dict or a `copilot_sync.generated.rpc.DiagnosticsConfiguration`",
    "exp_assignments": "a dict with snake_case keys (sent PascalCase)",
    "managed_settings": "a dict with snake_case keys",
    "provider": "`bearer_token_provider` (a callback) is refused; also the CLI's `provider_name`, "
    "`max_context_window_tokens`, `model_capabilities`",
    "providers": "`bearer_token_provider` (a callback) is refused; also the CLI's `transport`",
    "models": "`capabilities.limits` keys stay snake_case; also the CLI's `metadata`, `system_message`",
    "canvas_handler": "a `CanvasHandler` subclass with blocking `on_open`/`on_close`/`on_action`, run on "
    "the worker pool; the wire gets no field (the CLI sends canvas requests to the declaring connection)",
    "canvases": "`CanvasDeclaration` objects or dicts (snake_case or camelCase keys)",
    "open_canvases": "`session.open_canvases` records or dicts",
    "cloud": "`CloudSessionOptions` or a dict; without `session_id` the CLI's id is used and the "
    "events before the answer are kept for the session (tested on the fake CLI: needs a GitHub sign-in)",
}

#: Handler options: what their presence sends (copilot_sync's build_session_params).
FLAGS: dict[str, str] = {
    "on_permission_request": "sets `requestPermission`",
    "on_user_input_request": "sets `requestUserInput`",
    "on_elicitation_request": "sets `requestElicitation`",
    "hooks": "sets `hooks: true` when one is callable",
    "commands": "sends `commands` (names and descriptions)",
    "on_event": "stays in this process",
    "create_session_fs_handler": "stays in this process (the client's `session_fs` is on the wire)",
    "on_exit_plan_mode_request": "sets `requestExitPlanMode`",
    "on_auto_mode_switch_request": "sets `requestAutoModeSwitch`",
    "on_mcp_auth_request": "registers interest in `mcp.oauth_required` after the session opens",
    "github_token_provider": "sends `gitHubTokenProviderRegistrationId`; answers `gitHubToken.getToken`",
}

# --------------------------------------------------------------------------- the official side

OFFICIAL_PROBE = r'''
import ast, importlib.metadata, inspect, json, pathlib
import copilot
from copilot import CopilotClient
from copilot.session import CopilotSession

def params(fn, skip=("self",)):
    return [n for n in inspect.signature(fn).parameters if n not in skip]

def members(cls, path):
    names = {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}
    for node in ast.walk(ast.parse(pathlib.Path(path).read_text())):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__":
                    for n in ast.walk(item):
                        if (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
                                and isinstance(n.ctx, ast.Store) and not n.attr.startswith("_")):
                            names.add(n.attr)
    return sorted(names)

def wire_map(path, method):
    """param -> wire fields, from the payload["X"] = ... assignments of CopilotClient.<method>."""
    tree = ast.parse(pathlib.Path(path).read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef) and n.name == method)
    names = {a.arg for a in fn.args.args + fn.args.kwonlyargs} - {"self"}
    derived = {}
    def refs(node):
        out = set()
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                out |= {n.id} & names
                out |= derived.get(n.id, set())
        return out
    found, post_create = {}, []
    def visit(body, guard):
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                value = refs(stmt.value)
                for target in stmt.targets:
                    if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                            and target.value.id == "payload" and isinstance(target.slice, ast.Constant)):
                        for p in (value or guard):
                            found.setdefault(p, []).append(target.slice.value)
                    for t in ast.walk(target):  # a local made from one option stands for it
                        if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store) and t.id not in names:
                            derived[t.id] = value if len(value) == 1 else set()
            elif isinstance(stmt, ast.If):
                visit(stmt.body, refs(stmt.test) or guard)
                visit(stmt.orelse, guard)
            elif isinstance(stmt, (ast.Try, ast.With, ast.AsyncWith, ast.For)):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(stmt, block, []), guard)
                for handler in getattr(stmt, "handlers", []):
                    visit(handler.body, guard)
            if isinstance(stmt, ast.Expr) or isinstance(stmt, ast.Assign):
                for n in ast.walk(stmt):
                    if isinstance(n, ast.Attribute) and n.attr == "_apply_post_create_options_patch":
                        call = next(c for c in ast.walk(stmt) if isinstance(c, ast.Call) and c.func is n)
                        post_create.extend(a.id for a in call.args if isinstance(a, ast.Name) and a.id in names)
    visit(fn.body, set())
    return {"payload": found, "options_update": post_create}

client_py = pathlib.Path(copilot.__file__).with_name("client.py")
session_py = pathlib.Path(copilot.__file__).with_name("session.py")
try:
    from copilot._cli_version import CLI_VERSION
except ImportError:
    CLI_VERSION = None
print(json.dumps({
    "version": importlib.metadata.version("github-copilot-sdk"),
    "cli_version": CLI_VERSION,
    "create": params(CopilotClient.create_session),
    "resume": params(CopilotClient.resume_session, skip=("self", "session_id")),
    "client": params(CopilotClient.__init__),
    "client_members": members(CopilotClient, client_py),
    "session_members": members(CopilotSession, session_py),
    "wire_create": wire_map(client_py, "create_session"),
    "wire_resume": wire_map(client_py, "resume_session"),
}))
'''


def official_surface(python: str) -> dict[str, Any]:
    """The official SDK's names, read by its own interpreter."""
    done = subprocess.run(
        [python, "-c", OFFICIAL_PROBE], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise SystemExit(f"reading the official SDK with {python} failed:\n{done.stderr}")
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- our side


def _public_members(cls: type, source: Path) -> list[str]:
    names = {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    for sub in ast.walk(item):
                        target = sub.target if isinstance(sub, ast.AnnAssign) else sub
                        if (
                            isinstance(target, ast.Attribute)
                            and isinstance(target.value, ast.Name)
                            and target.value.id == "self"
                            and isinstance(target.ctx, ast.Store)
                            and not target.attr.startswith("_")
                        ):
                            names.add(target.attr)
    return sorted(names)


def our_surface() -> dict[str, Any]:
    """copilot_sync's current names (what tests/test_parity_doc.py checks the doc against)."""
    import copilot_sync
    from copilot_sync import CopilotClient, CopilotSession
    from copilot_sync._session_config import CREATE_OPTIONS, RESUME_OPTIONS
    from copilot_sync._session_wire import WIRE_KEYS
    from copilot_sync._versions import DEFAULT_CLI_VERSION

    package = Path(copilot_sync.__file__).parent
    return {
        "version": copilot_sync.__version__,
        "cli_version": DEFAULT_CLI_VERSION,
        "create": sorted(CREATE_OPTIONS),
        "resume": sorted(RESUME_OPTIONS),
        "wire": dict(WIRE_KEYS),
        "client": [
            name for name in inspect.signature(CopilotClient.__init__).parameters if name != "self"
        ],
        "client_members": _public_members(CopilotClient, package / "_client.py"),
        "session_members": _public_members(CopilotSession, package / "_session.py"),
    }


def schema_fields(path: Path | None) -> set[str] | None:
    """The wire fields the CLI schema declares for opening a session or updating its options."""
    if path is None:
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    definitions = schema.get("definitions", {})

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        return node

    fields = set(resolve(definitions.get("SessionOpenOptions", {})).get("properties", {}))
    update = schema.get("session", {}).get("options", {}).get("update", {})
    fields |= set(resolve(update.get("params", {})).get("properties", {}))
    return fields


def default_schema() -> Path | None:
    try:
        from copilot_sync._install import CLIInstallError, find_installed_cli
        from copilot_sync._versions import DEFAULT_CLI_VERSION

        installed = find_installed_cli(DEFAULT_CLI_VERSION)
        return installed.find_schemas(unpack=False) / "api.schema.json" if installed else None
    except (ImportError, CLIInstallError):
        return None


# --------------------------------------------------------------------------- the document


def _code(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) if names else "—"


def _classify(
    table: str, official: str, ours: set[str], problems: list[str]
) -> tuple[list[str], str, str]:
    """(our names, status, note) for one official name."""
    if official in EQUIVALENTS.get(table, {}):
        names, note = EQUIVALENTS[table][official]
        missing = [name for name in names if name not in ours]
        if missing:
            problems.append(
                f"{table}: EQUIVALENTS[{official!r}] names {missing}, which copilot_sync does not have"
            )
        return names, PRESENT, note
    if official in ours:
        if official in REASONS.get(table, {}):
            problems.append(
                f"{table}: {official!r} is in REASONS but copilot_sync has it: drop the reason"
            )
        return [official], PRESENT, ""
    if official not in REASONS.get(table, {}):
        problems.append(f"{table}: official {official!r} is neither in copilot_sync nor in REASONS")
        return [], ABSENT, "?"
    status, reason = REASONS[table][official]
    return [], status, reason


def _simple_table(
    table: str, title: str, official: list[str], ours: list[str], problems: list[str]
) -> list[str]:
    lines = [f"## {title}", "", "| official | copilot_sync | status | note |", "|---|---|---|---|"]
    covered: set[str] = set()
    for name in official:
        names, status, note = _classify(table, name, set(ours), problems)
        covered |= set(names)
        lines.append(f"| `{name}` | {_code(names)} | {status} | {note} |")
    extra = [name for name in ours if name not in covered and name not in official]
    lines += ["", "### Only in copilot_sync", "", "| copilot_sync | note |", "|---|---|"]
    lines += [f"| `{name}` | {OURS_ONLY.get(table, {}).get(name, '')} |" for name in extra]
    return [*lines, ""]


def render(official: dict[str, Any], ours: dict[str, Any], schema: set[str] | None) -> str:
    problems: list[str] = []
    create, resume = set(ours["create"]), set(ours["resume"])
    official_names = list(dict.fromkeys(official["create"] + official["resume"]))
    official_wire: dict[str, list[str]] = {}
    for side in ("wire_create", "wire_resume"):
        for name, fields in official[side]["payload"].items():
            official_wire.setdefault(name, [])
            official_wire[name] += [f for f in fields if f not in official_wire[name]]
    out = [
        "# Parity with the official Python SDK",
        "",
        "<!-- Generated by scripts/parity.py; do not edit by hand. tests/test_parity_doc.py checks it. -->",
        "",
        f"The official SDK `github-copilot-sdk` {official['version']} (its CLI: {official['cli_version']}) beside "
        f"copilot_sync {ours['version']} (default CLI {ours['cli_version']}). Regenerate after adding an option or "
        "a public method: `python3 -m venv /tmp/official && /tmp/official/bin/pip install github-copilot-sdk`, "
        "then `.venv/bin/python scripts/parity.py`.",
        "",
        "Status: **present**: copilot_sync has it, under the name in its column; **planned**: being built; "
        "**absent**: left out, for the reason given.",
        "",
        "## Session options",
        "",
        "`create_session(**options)` / `resume_session(session_id, **options)`, declared as `SessionOptions` / "
        "`ResumeOptions`. *wire*: the field copilot_sync sends in `session.create`/`session.resume` (the official "
        f"SDK's, unless the note says otherwise). *schema*: declared by CLI {ours['cli_version']}'s "
        "`api.schema.json` (session open options or `session.options.update`); the CLI reads more than it declares.",
        "",
        "| official | create | resume | copilot_sync | status | wire | schema | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    covered_create: set[str] = set()
    covered_resume: set[str] = set()
    for name in official_names:
        names, status, note = _classify("session", name, create | resume, problems)
        in_create, in_resume = name in official["create"], name in official["resume"]
        for ours_name in names:
            covered_create |= {ours_name} if in_create else set()
            covered_resume |= {ours_name} if in_resume else set()
            if (in_create and ours_name not in create) or (in_resume and ours_name not in resume):
                problems.append(
                    f"session: {name!r} is not taken by both methods the official SDK takes it in"
                )
        wire = ours["wire"].get(names[0]) if names else None
        theirs = official_wire.get(name, [])
        if name in official["wire_create"]["options_update"] and not NOTES.get(name):
            problems.append(
                f"session: the official SDK sends {name!r} by session.options.update: add a NOTES entry"
            )
        if wire and theirs and wire not in theirs and not NOTES.get(name):
            problems.append(
                f"session: {name!r} goes as {wire!r}, the official SDK sends {theirs}: add a NOTES entry"
            )
        note = note or NOTES.get(name, "")
        in_schema = "" if schema is None or wire is None else ("✓" if wire in schema else "—")
        if names and wire is None and names[0] in FLAGS:
            note = note or FLAGS[names[0]]
        out.append(
            f"| `{name}` | {'✓' if in_create else ''} | {'✓' if in_resume else ''} | {_code(names)} | {status} | "
            f"{f'`{wire}`' if wire else '—'} | {in_schema} | {note} |"
        )
    out += [
        "",
        "### Only in copilot_sync",
        "",
        "| copilot_sync | create | resume | note |",
        "|---|---|---|---|",
    ]
    extra_create, extra_resume = create - covered_create, resume - covered_resume
    for name in sorted(extra_create | extra_resume):
        note = OURS_ONLY["session"].get(name, "")
        tick_create, tick_resume = (
            "✓" if name in extra_create else "",
            "✓" if name in extra_resume else "",
        )
        out.append(f"| `{name}` | {tick_create} | {tick_resume} | {note} |")
    out.append("")
    out += _simple_table(
        "client", "CopilotClient(...) options", official["client"], ours["client"], problems
    )
    out += _simple_table(
        "client_members", "CopilotClient methods and properties", official["client_members"], ours["client_members"],
        problems,
    )  # fmt: skip
    out += _simple_table(
        "session_members", "CopilotSession methods and properties", official["session_members"],
        ours["session_members"], problems,
    )  # fmt: skip
    if problems:
        raise SystemExit("docs/PARITY.md not written:\n  " + "\n  ".join(problems))
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official-python", default=DEFAULT_OFFICIAL_PYTHON)
    parser.add_argument(
        "--schema", type=Path, default=None, help="the default CLI's api.schema.json"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    schema = args.schema or default_schema()
    if schema is None:
        print("no api.schema.json found: the schema column stays empty", file=sys.stderr)
    text = render(official_surface(args.official_python), our_surface(), schema_fields(schema))
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
