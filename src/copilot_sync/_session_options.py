"""The session options, declared: ``SessionOptions`` (``create_session``) and ``ResumeOptions``
(``resume_session``), under the official Python SDK's names.

A type checker reads these, so a misspelt or mistyped option is caught where the dict is
written::

    opts: SessionOptions = {"model": "gpt-5", "streming": True}  # error: no key "streming"
    client.create_session(**opts)

At run time ``create_session``/``resume_session`` refuse an unknown keyword, and an
unknown key in the dicts declared here, the same way (``TypeError`` with a "did you mean"
hint). Nested dicts take snake_case keys (camelCase works too); they are sent in the
wire's camelCase (``_session_wire.py``). docs/PARITY.md sets every option beside the
official SDK's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypedDict

from ._cloud import CloudSessionOptions
from ._requests.canvas import (
    CanvasDeclaration,
    CanvasHandler,
    CanvasProviderIdentity,
    ExtensionInfo,
)
from ._requests.skill_provider import SkillProvider

__all__ = ["ProviderConfig", "ResumeOptions", "SessionHooks", "SessionOptions"]


class WireRecord(Protocol):
    """A ``copilot_sync.generated.rpc`` record (``rpc.SandboxConfig``...): sent as ``to_dict()``."""

    def to_dict(self) -> dict[str, Any]: ...


class SessionHooks(TypedDict, total=False):
    """Lifecycle hooks: each is called as ``hook(input, invocation)`` on a worker thread."""

    on_pre_tool_use: Callable[..., Any]
    on_post_tool_use: Callable[..., Any]
    on_post_tool_use_failure: Callable[..., Any]
    on_user_prompt_submitted: Callable[..., Any]
    on_user_prompt_transformed: Callable[..., Any]
    on_session_start: Callable[..., Any]
    on_session_end: Callable[..., Any]
    on_error_occurred: Callable[..., Any]
    on_agent_stop: Callable[..., Any]
    on_pre_mcp_tool_call: Callable[..., Any]
    on_subagent_start: Callable[..., Any]
    on_subagent_stop: Callable[..., Any]


class ProviderConfig(TypedDict, total=False):
    """A custom model provider (BYOK) for the whole session."""

    type: Literal["openai", "azure", "anthropic"]
    wire_api: Literal["completions", "responses"]
    transport: Literal["http", "websockets"]
    model_provider: str  # telemetry only: "ollama", "lm_studio"...
    base_url: str
    api_key: str
    api_key_command: str  # run before each request for a fresh key
    bearer_token: str
    azure: Mapping[str, Any]  # {"api_version": ...}
    headers: Mapping[str, str]
    model_id: str
    wire_model: str
    max_prompt_tokens: int
    max_output_tokens: int
    max_context_window_tokens: int  # the CLI's, not in the official SDK
    model_capabilities: Mapping[str, Any]  # like the session option; the CLI's
    provider_name: str  # for model and telemetry attribution; the CLI's


class NamedProviderConfig(TypedDict, total=False):
    """A named BYOK provider, additive to Copilot's own models; ``models`` entries name it."""

    name: str
    type: Literal["openai", "azure", "anthropic"]
    wire_api: Literal["completions", "responses"]
    transport: Literal["http", "websockets"]  # the CLI's, not in the official SDK
    model_provider: str
    base_url: str
    api_key: str
    bearer_token: str
    azure: Mapping[str, Any]
    headers: Mapping[str, str]


class ProviderModelConfig(TypedDict, total=False):
    """A BYOK model served by a ``providers`` entry; selected as ``"<provider>/<id>"``."""

    id: str
    provider: str
    wire_model: str
    model_id: str
    name: str
    max_prompt_tokens: int
    max_context_window_tokens: int
    max_output_tokens: int
    capabilities: Mapping[str, Any]  # like model_capabilities
    metadata: Mapping[str, Any]  # published as the model's metadata, verbatim; the CLI's
    system_message: Mapping[str, Any]  # like the session option, no callables; the CLI's


class InfiniteSessionConfig(TypedDict, total=False):
    """Automatic context compaction."""

    enabled: bool
    background_compaction_threshold: float  # 0.0-1.0, default 0.80
    buffer_exhaustion_threshold: float  # 0.0-1.0, default 0.95


class SessionLimitsConfig(TypedDict, total=False):
    """Limits of the session's current accounting window (experimental)."""

    max_ai_credits: float  # the CLI asks for at least 30


class AutopilotOptions(TypedDict, total=False):
    """Autopilot policy (experimental); omitted fields keep the runtime's defaults."""

    continuation_enabled: bool
    max_continues: int


class LargeOutputConfig(TypedDict, total=False):
    """Tool outputs over ``max_size_bytes`` go to a file; the model gets a reference."""

    enabled: bool
    max_size_bytes: int
    output_directory: str  # wire: outputDir


class MemoryConfig(TypedDict, total=False):
    """Session memory; ``enabled`` is required."""

    enabled: bool
    mode: Literal["system-prompt", "user-prompt"]


class DefaultAgentConfig(TypedDict, total=False):
    """The built-in agent that runs turns when no custom agent is selected."""

    excluded_tools: Sequence[str]  # hidden from the default agent, still usable by sub-agents


class ToolSearchConfig(TypedDict, total=False):
    """The runtime's tool search (deferring MCP and external tools behind a search tool)."""

    enabled: bool
    defer_threshold: int


class ImageGenerationConfig(TypedDict, total=False):
    """Image generation (experimental; not persisted: pass it again on resume)."""

    enabled: bool
    watermark: bool
    save_to_disk: bool


class CapiOptions(TypedDict, total=False):
    """Options of the built-in Copilot API provider."""

    auto_tier: str  # "efficiency", "balance", "intelligence", "fast"
    enable_web_socket_responses: bool


class GitHubMcpToolConfig(TypedDict, total=False):
    """The built-in GitHub MCP server."""

    enable_all_tools: bool
    additional_toolsets: Sequence[str]
    additional_tools: Sequence[str]
    enable_insiders_mode: bool
    disable_form_deferral: bool


class _CommonOptions(TypedDict, total=False):
    """The options ``create_session`` and ``resume_session`` share."""

    # ------------------------------------------------------------------ handlers (this process)
    on_permission_request: Callable[..., Any]
    """``handler(request, invocation)``: approve or deny a tool's permission request. Without
    it the CLI is told no handler exists (see ``MissingPermissionHandlerWarning``)."""
    on_user_input_request: Callable[..., Any]
    """``handler(request, invocation)``: answer the agent's ``ask_user`` questions."""
    on_elicitation_request: Callable[..., Any]
    """``handler(context)``: answer structured forms (``session.ui``, MCP elicitation)."""
    on_event: Callable[..., Any]
    """``handler(event)``: every session event from the first one, before ``create_session`` returns."""
    hooks: SessionHooks
    """Lifecycle hooks by name (``on_pre_tool_use``...)."""
    commands: Sequence[Any]
    """Slash commands: ``CommandDefinition``s or dicts with ``name``, ``description``, ``handler``."""
    tools: Sequence[Any]
    """Custom tools: ``Tool``s, ``@define_tool`` functions or definition dicts."""
    create_session_fs_handler: Callable[..., Any]
    """``factory(session) -> SessionFsHandler``, when the client has ``session_fs``."""
    on_exit_plan_mode_request: Callable[..., Any]
    """``handler(request, invocation)``: the agent asks to leave plan mode with a plan
    (``request["summary"]``, ``["actions"]``, ``["recommended_action"]``); return ``True``/
    ``False`` or ``{"approved": ..., "selected_action": ..., "feedback": ...}``. Without it
    the SDK approves."""
    on_auto_mode_switch_request: Callable[..., Any]
    """``handler(request, invocation)``: after a rate limit the CLI offers to switch to auto
    mode; return ``"yes"``, ``"yes_always"`` or ``"no"`` (or a bool). Without it: ``"no"``."""
    on_mcp_auth_request: Callable[..., Any]
    """``handler(request, invocation)``: a remote MCP server needs OAuth; return
    ``{"access_token": ..., "expires_in": ...}``, or ``None`` to cancel. Without it the
    CLI's own flow runs (or the server stays unauthenticated)."""
    skill_provider: SkillProvider
    """An object with ``list_skills()`` and ``read_skill(name)`` (see :class:`SkillProvider`)
    that serves this session's skills from storage the host owns; both run on the worker
    pool. Give it again when resuming: it is not persisted."""

    # ------------------------------------------------------------------ canvases, extensions
    canvases: Sequence[CanvasDeclaration | Mapping[str, Any]]
    """Canvases this session contributes (experimental): panels the agent opens and drives;
    ``canvas_handler`` answers for them. Declaring an id again on resume replaces it."""
    canvas_handler: CanvasHandler
    """Answers ``canvas.open``/``canvas.close``/``canvas.action.invoke`` for this session's
    canvases on the worker pool (see :class:`CanvasHandler`). Give it again when resuming."""
    request_canvas_renderer: bool
    """Give the model the CLI's canvas tools (``list_canvas_capabilities``, ``open_canvas``,
    ``invoke_canvas_action``): set it when this host can show canvases."""
    canvas_provider: CanvasProviderIdentity | Mapping[str, Any]
    """A stable provider id for the canvases declared here, so they survive a reconnect or
    a CLI restart (``{"id": "app:builtin:window-1"}``)."""
    extension_info: ExtensionInfo | Mapping[str, Any]
    """A stable extension identity (``{"source": ..., "name": ...}``) for the canvases this
    session provides, instead of an id that changes with every connection."""
    request_extensions: bool
    """Turn on the CLI's extension surface for this session: extension management tools and
    per-extension tool dispatch (``session.rpc.extensions``)."""
    extension_sdk_path: str
    """A ``copilot-sdk/`` folder the CLI gives the extension processes of this session in
    place of its bundled one (the CLI falls back to its own if the folder is invalid)."""

    # ------------------------------------------------------------------ identity
    github_token: str
    """The GitHub token this session runs under (one CLI serving many users). Never put on
    argv, and redacted from the SDK's logs. Not with ``github_token_provider``."""
    github_token_provider: Callable[..., Any]
    """``provider(args) -> {"access_token": str, "expires_in": seconds} | None``: called on a
    worker thread whenever the CLI needs a token for this session (``args["reason"]``:
    ``"initial"`` or ``"refresh"``); ``None`` cancels. Not with ``github_token``."""

    # ------------------------------------------------------------------ model
    model: str
    """The model id (``"gpt-5"``; ``"<provider>/<id>"`` for a ``models`` entry)."""
    reasoning_effort: str
    """Reasoning effort for models that support it: ``"low"`` ... ``"xhigh"``, ``"max"``."""
    reasoning_summary: Literal["none", "concise", "detailed"]
    """Reasoning summaries for models that support them; ``"none"`` suppresses them."""
    context_tier: Literal["default", "long_context"]
    """Context-window tier for models that have one."""
    model_capabilities: Mapping[str, Any]
    """Capability overrides: ``{"supports": {...}, "limits": {...}}``."""
    provider: ProviderConfig
    """A custom provider (BYOK) for the whole session, instead of Copilot's models."""
    providers: Sequence[NamedProviderConfig]
    """Named BYOK providers, additive to Copilot's models (experimental); not with ``provider``."""
    models: Sequence[ProviderModelConfig]
    """BYOK model definitions, each naming a ``providers`` entry (experimental)."""
    capi: CapiOptions
    """Options of the built-in Copilot API provider (``auto_tier``...)."""
    enable_experimental_mode: bool
    """Experimental runtime features on or off (wire ``isExperimentalMode``)."""

    # ------------------------------------------------------------------ prompt and instructions
    system_message: Mapping[str, Any]
    """``{"mode": "append"|"replace"|"customize", "content": ..., "sections": ...}``."""
    skip_custom_instructions: bool
    """Load no custom instructions (``AGENTS.md``, ``.github/copilot-instructions.md``...)."""
    organization_custom_instructions: str
    """Organization-level custom instructions."""
    enable_on_demand_instruction_discovery: bool
    """Discover instruction files on demand."""
    instruction_directories: Sequence[str]
    """Extra roots searched for instruction files (``*.instructions.md``...)."""

    # ------------------------------------------------------------------ tools
    available_tools: Sequence[str]
    """Allow-list over every tool (built-in, MCP, custom); custom tools must be listed too."""
    excluded_tools: Sequence[str]
    """Deny-list over every tool; wins over ``available_tools``."""
    tool_search: ToolSearchConfig
    """The runtime's tool search: ``{"enabled": ..., "defer_threshold": ...}``."""
    image_generation: ImageGenerationConfig
    """Image generation opt-in (experimental)."""
    ask_user_variant: Literal["legacy", "elicitation"]
    """The shape of the ``ask_user`` tool; ``"elicitation"`` needs ``on_elicitation_request``."""
    large_output: LargeOutputConfig
    """Large tool outputs written to a file: ``{"enabled", "max_size_bytes", "output_directory"}``."""

    # ------------------------------------------------------------------ agents
    custom_agents: Sequence[Mapping[str, Any]]
    """Custom agents: dicts with ``name``, ``prompt``, ``description``, ``tools``, ``mcp_servers``..."""
    agent: str
    """The custom agent to start with."""
    default_agent: DefaultAgentConfig
    """The default agent: ``{"excluded_tools": [...]}`` hides tools from it only."""
    custom_agents_local_only: bool
    """Custom agents run locally by default."""
    excluded_builtin_agents: Sequence[str]
    """Built-in agents (``"explore"``, ``"task"``...) to hide from the session."""
    agent_directories: Sequence[str]
    """Extra roots searched for agent files (``*.agent.md``)."""

    # ------------------------------------------------------------------ skills
    skill_directories: Sequence[str]
    """Extra roots searched for skills; ``[]`` clears the explicit roots."""
    disabled_skills: Sequence[str]
    """Skills to disable."""
    enable_skills: bool
    """Skill loading on or off."""
    included_builtin_skills: Sequence[str]
    """Only these built-in skills; ``[]`` for none."""

    # ------------------------------------------------------------------ MCP
    mcp_servers: Mapping[str, Mapping[str, Any]]
    """MCP servers by name: ``{"command", "args", "env", "working_directory"}`` or ``{"type": "http", "url"}``."""
    disabled_mcp_servers: Sequence[str]
    """MCP servers (by name) not to start in this session."""
    mcp_oauth_token_storage: Literal["persistent", "in-memory"]
    """Where MCP OAuth tokens are kept."""
    auth_client_id_metadata_url: str
    """OAuth Client ID Metadata Document URL identifying this host for MCP authorization."""
    enable_mcp_apps: bool
    """MCP Apps UI passthrough (experimental; wire ``requestMcpApps``)."""
    github_mcp_tool_config: GitHubMcpToolConfig
    """The built-in GitHub MCP server's toolsets and tools."""

    # ------------------------------------------------------------------ directories and configuration
    working_directory: str
    """The session's working directory."""
    additional_directories: Sequence[str]
    """More directories the agent may read and write."""
    config_directory: str
    """Override of the Copilot configuration directory (wire ``configDir``)."""
    config_dir: str
    """The older name of ``config_directory``."""
    enable_config_discovery: bool
    """Discover configuration (MCP servers, skills, agents...) from the working directory."""
    plugin_directories: Sequence[str]
    """Plugin directories to load."""
    hook_directories: Sequence[str]
    """Extra roots searched for file hooks (not the ``hooks`` callbacks)."""
    enable_file_hooks: bool
    """Repository file hooks (``.github/hooks/``) on or off."""

    # ------------------------------------------------------------------ behaviour
    client_name: str
    """Your application's name, for the CLI's logs and telemetry."""
    streaming: bool
    """Stream deltas (``assistant.message_delta``...)."""
    include_sub_agent_streaming_events: bool
    """Sub-agents' streaming deltas too (default ``True``)."""
    infinite_sessions: InfiniteSessionConfig
    """Automatic context compaction."""
    session_limits: SessionLimitsConfig
    """Limits of the current accounting window, ``{"max_ai_credits": ...}`` (experimental)."""
    autopilot: AutopilotOptions
    """Autopilot policy (experimental)."""
    memory: MemoryConfig
    """Session memory: ``{"enabled": bool, "mode": ...}``."""
    sandbox_config: Mapping[str, Any] | WireRecord
    """Sandbox configuration, applied before MCP servers start (a dict or ``rpc.SandboxConfig``)."""
    enable_file_change_tracking: bool
    """Record file changes from the first turn, for rewind and the session diff."""
    enable_host_git_operations: bool
    """Git operations on the host file system."""
    enable_session_store: bool
    """The cross-session store."""
    enable_session_telemetry: bool
    """Session telemetry (always off with ``provider``)."""
    enable_citations: bool
    """Native model citations where the provider has them (experimental)."""
    skip_embedding_retrieval: bool
    """No embedding-based retrieval."""
    embedding_cache_storage: Literal["persistent", "in-memory"]
    """Where embedding caches are kept."""
    diagnostics: Mapping[str, Any] | WireRecord
    """Diagnostic thresholds by source: ``{"sources": {"mcp": {"level": "debug"}}}``."""
    coauthor_enabled: bool
    """``Co-authored-by`` trailers in commit messages."""
    manage_schedule_enabled: bool
    """Expose the ``manage_schedule`` tool."""
    interactive_user: bool
    """A human drives this session (enables user-message analysis telemetry)."""

    # ------------------------------------------------------------------ feature flags and policy
    feature_flags: Mapping[str, bool]
    """Feature-flag values for this session (pass them again on resume)."""
    exp_assignments: Mapping[str, Any]
    """ExP assignment data from a trusted integrator: ``features``, ``flights``, ``configs``..."""
    enable_managed_settings: bool
    """Fetch and enforce enterprise managed settings at start."""
    excluded_managed_settings: Sequence[str]
    """Dotted managed-setting paths to leave out (``"sandbox"``...)."""
    enforce_managed_model_defaults: bool
    """Enforce locked managed model controls."""
    managed_settings: Mapping[str, Any]
    """Managed policy given directly: ``{"permissions": {"deny": [...], "limit_to": [...]}}``."""


class SessionOptions(_CommonOptions, total=False):
    """The keyword arguments of ``CopilotClient.create_session``."""

    session_id: str
    """The new session's id (default: a fresh UUID; with ``cloud``, the id the CLI gives)."""
    cloud: CloudSessionOptions | Mapping[str, Any]
    """Run the session in the cloud (``CloudSessionOptions(repository=CloudRepository(owner,
    name))``); needs a GitHub sign-in. Without ``session_id`` the CLI chooses the id; then
    ``github_token_provider``, ``skill_provider`` and a client ``session_fs`` are refused."""
    name: str
    """A name for the session (``session.rpc.name.get()``); it also persists the session from
    the start. CLI 1.0.81 ignores it (1.0.102 takes it)."""
    refresh_custom_instructions: bool
    """Re-read custom instructions instead of the process-wide cache."""
    trust_working_directory: Literal["session", "user"]
    """Trust ``working_directory`` for this session or for the user (persistently)."""


class ResumeOptions(_CommonOptions, total=False):
    """The keyword arguments of ``CopilotClient.resume_session`` (after the session id)."""

    continue_pending_work: bool
    """Continue tool calls and permission prompts pending when the session was suspended."""
    suppress_resume_event: bool
    """Emit no ``session.resume`` event (wire ``disableResume``)."""
    disable_resume: bool
    """The older name of ``suppress_resume_event``."""
    allow_transcript_recovery: bool
    """Repair a damaged transcript on resume (default ``True``)."""
    open_canvases: Sequence[WireRecord | Mapping[str, Any]]
    """The canvases that were open before the session was suspended (``session.open_canvases``
    of the earlier process: ``generated.rpc.OpenCanvasInstance`` records, or dicts), so the
    CLI restores them without reopening."""
