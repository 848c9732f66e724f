"""The generated typed RPC (copilot_sync.generated.rpc) against the CLI's api.schema.json:
no method is dropped, every method is reachable and well-formed, and the file is fresh."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_sync.generated import rpc
from copilot_sync.generated.rpc import ServerRpc, SessionRpc

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "scripts" / "generate_rpc.py"
GENERATED = REPO / "src" / "copilot_sync" / "generated" / "rpc.py"


def _load_generator():
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        spec = importlib.util.spec_from_file_location("_generate_rpc_under_test", GENERATOR)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(GENERATOR.parent))


@pytest.fixture(scope="module")
def generator():
    return _load_generator()


@pytest.fixture(scope="module")
def schema(generator, real_cli):
    path = generator.default_schema_path()
    assert path is not None, "api.schema.json not found; run bash scripts/setup.sh"
    return json.loads(path.read_text(encoding="utf-8"))


def _schema_methods(schema: dict, scope: str) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            if "rpcMethod" in node:
                found[node["rpcMethod"]] = node
                return
            for value in node.values():
                walk(value)

    walk(schema[scope])
    return found


def _resolve(path: tuple[str, ...]):
    """The function at ``path`` (``("session", "model", "switch_to")``), walking the classes."""
    owner = ServerRpc if path[0] == "server" else SessionRpc
    for attr in path[1:-1]:
        prop = inspect.getattr_static(owner, attr)
        assert isinstance(prop, property), f"{owner.__name__}.{attr} is not a namespace"
        owner = inspect.signature(prop.fget).return_annotation
        owner = getattr(rpc, owner) if isinstance(owner, str) else owner
    return owner, getattr(owner, path[-1])


def test_every_public_schema_method_is_generated_and_no_other(schema):
    expected = {}
    internal = set()
    for scope in ("server", "session"):
        for wire, node in _schema_methods(schema, scope).items():
            if node.get("visibility") == "internal":
                internal.add(wire)
            else:
                expected[wire] = scope
    assert set(rpc.METHODS) == set(expected), (
        f"missing: {sorted(set(expected) - set(rpc.METHODS))}, extra: {sorted(set(rpc.METHODS) - set(expected))}"
    )
    assert set(rpc.INTERNAL_METHODS) == internal
    for wire, path in rpc.METHODS.items():
        assert path[0] == expected[wire]
    # 1.0.81 had 296 public methods; 1.0.102 has 428
    assert len(rpc.METHODS) >= 420


def test_every_method_is_reachable_by_its_namespace_path_and_takes_the_schemas_params(schema):
    nodes = {**_schema_methods(schema, "server"), **_schema_methods(schema, "session")}
    for wire, path in rpc.METHODS.items():
        _owner, function = _resolve(path)
        assert callable(function), wire
        signature = inspect.signature(function)
        params = signature.parameters
        assert params["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
        assert params["timeout"].default == 60.0
        assert f"``{wire}``" in (function.__doc__ or "")
        node = nodes[wire]
        props_schema = node["params"] or {}
        if "$ref" in props_schema:
            props_schema = schema["definitions"][props_schema["$ref"].split("/")[-1]]
        if "properties" not in props_schema:
            alternatives = [a for a in props_schema.get("anyOf", []) if a.get("not") != {}]
            if len(alternatives) == 1 and "properties" in alternatives[0]:
                props_schema = alternatives[0]
        wire_params = set(props_schema.get("properties", {})) - (
            {"sessionId"} if path[0] == "session" else set()
        )
        keyword_only = {
            name for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
        } - {"timeout"}
        if "params" in params:  # a union of request shapes: one positional mapping or record
            assert params["params"].kind is inspect.Parameter.POSITIONAL_ONLY
            continue
        assert len(keyword_only) == len(wire_params), wire
        required = set(props_schema.get("required", []))
        no_default = {
            name for name in keyword_only if params[name].default is inspect.Parameter.empty
        }
        assert len(no_default) == len(required & wire_params), wire


def test_names_are_snake_case_and_follow_the_schemas_namespaces():
    assert rpc.METHODS["session.model.switchTo"] == ("session", "model", "switch_to")
    assert rpc.METHODS["session.mode.get"] == ("session", "mode", "get")
    assert rpc.METHODS["tools.list"] == ("server", "tools", "list")
    assert rpc.METHODS["mcp.config.list"] == ("server", "mcp", "config", "list")
    assert rpc.METHODS["session.gitHubAuth.getStatus"] == ("session", "github_auth", "get_status")
    assert rpc.METHODS["session.log"] == ("session", "log")
    signature = inspect.signature(SessionRpc.log)
    assert list(signature.parameters)[:2] == ["self", "message"]
    # the schema's own `timeout` of shell.exec (milliseconds) must not hide the SDK's timeout=
    exec_params = inspect.signature(rpc.SessionShellApi.exec).parameters
    assert "timeout_ms" in exec_params and exec_params["timeout"].default == 60.0
    for path in rpc.METHODS.values():
        for part in path:
            assert part == part.lower() and part.isidentifier(), path


def test_results_are_typed_records_that_keep_unknown_fields():
    result = rpc.ModelSwitchToResult.from_dict(
        {"status": "applied", "modelId": "m", "futureField": [1, 2]}
    )
    assert result.status == "applied" and result.model_id == "m"
    assert result.raw["futureField"] == [1, 2]
    assert result.to_dict()["futureField"] == [1, 2]
    assert result == rpc.ModelSwitchToResult.from_dict({"status": "applied", "modelId": "m"})
    assert "ModelSwitchToResult(" in repr(result)


def test_the_generated_file_is_up_to_date(generator, schema):
    assert GENERATED.read_text(encoding="utf-8") == generator.generate(schema), (
        "src/copilot_sync/generated/rpc.py is stale: run python scripts/generate_rpc.py"
    )


def test_generation_is_deterministic(generator, schema):
    assert generator.generate(schema) == generator.generate(json.loads(json.dumps(schema)))


def test_the_generator_refuses_a_param_that_would_hide_timeout(generator):
    schema = {
        "server": {
            "x": {
                "rpcMethod": "x.do",
                "params": {"type": "object", "properties": {"timeout": {"type": "integer"}}},
                "result": None,
            }
        },
        "session": {},
        "definitions": {},
    }
    with pytest.raises(generator.base.SchemaError, match="PARAM_RENAMES"):
        generator.generate(schema)


def test_a_required_param_the_schema_lets_be_null_is_sent_as_null():
    from copilot_sync._rpc import session_rpc

    sent: list[tuple[str, dict]] = []

    def call(method, params, *, timeout):
        sent.append((method, params))
        return {"status": "pending"} if method.endswith("switchAutoTier") else {}

    api = session_rpc("s1", call, lambda process_id: None)
    api.model.switch_auto_tier(auto_tier=None)
    api.model.switch_auto_tier(auto_tier="fast")
    api.tools.update_subagent_settings(subagents=None)
    api.model.switch_to(model_id="m", reasoning_effort=None)  # an optional None stays out
    assert sent == [
        ("session.model.switchAutoTier", {"autoTier": None}),
        ("session.model.switchAutoTier", {"autoTier": "fast"}),
        ("session.tools.updateSubagentSettings", {"subagents": None}),
        ("session.model.switchTo", {"modelId": "m"}),
    ]


def test_import_copilot_sync_does_not_load_the_generated_rpc():
    code = (
        "import sys, copilot_sync\n"
        "client = copilot_sync.CopilotClient(cli_path='/nonexistent/copilot', auto_start=False)\n"
        "assert 'copilot_sync.generated.rpc' not in sys.modules, 'loaded by import'\n"
        "rpc = client.rpc\n"
        "assert 'copilot_sync.generated.rpc' in sys.modules\n"
        "print(type(rpc).__name__, type(rpc.mcp.config).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ServerRpc", "ServerMcpConfigApi"]


def test_results_and_event_payloads_speak_the_dataclass_protocol():
    import dataclasses

    from copilot_sync._events import parse_event

    result = rpc.UsageGetMetricsResult.from_dict(
        {"totalUserRequests": 2, "codeChanges": {"linesAdded": 3}}
    )
    assert dataclasses.is_dataclass(result) and not dataclasses.is_dataclass(
        rpc.UsageGetMetricsResult.__mro__[-1]
    )
    names = [field.name for field in dataclasses.fields(result)]
    assert "total_user_requests" in names and "code_changes" in names and "raw" not in names
    as_dict = dataclasses.asdict(result)
    assert as_dict["total_user_requests"] == 2 and as_dict["code_changes"]["lines_added"] == 3
    changed = dataclasses.replace(result, total_user_requests=5)
    assert type(changed) is type(result) and changed.total_user_requests == 5
    assert changed.code_changes == result.code_changes
    event = parse_event({"type": "assistant.message", "data": {"messageId": "m", "content": "hi"}})
    assert dataclasses.asdict(event.data)["content"] == "hi"


def test_every_cli_to_sdk_request_of_the_schema_is_answered_or_declined_on_purpose(schema):
    """docs/CLI_VERSIONS.md, checklist: each request the default CLI may send to a client has
    a handler in the router, or a reason in router.DECLINED; nothing is declined that has one."""
    from copilot_sync._requests import router

    client_requests = {
        **_schema_methods(schema, "clientSession"),
        **_schema_methods(schema, "clientGlobal"),
    }
    assert len(client_requests) >= 30
    answered = {method for method in client_requests if router.find(method) is not None}
    answered |= set(router.CLIENT_REQUESTS) & set(client_requests)
    answered |= set(router.NOTIFICATIONS) & set(client_requests)
    assert {
        "hooks.invoke",
        "sessionFs.readFile",
        "sessionFs.readFileBytes",
        "sessionFs.writeFileBytes",
    } <= answered
    unaccounted = set(client_requests) - answered - set(router.DECLINED)
    assert not unaccounted, (
        f"CLI-to-SDK requests with no handler and no DECLINED reason: {sorted(unaccounted)}"
    )
    assert not answered & set(router.DECLINED)
    assert all(isinstance(reason, str) and reason for reason in router.DECLINED.values())
