"""``skillProvider.list`` / ``skillProvider.read``: skills served from the host's own storage.

A session created with ``skill_provider=`` (any object with ``list_skills()`` and
``read_skill(name)``, see :class:`SkillProvider`) tells the CLI ``hasSkillProvider``; the
CLI then asks it for its skill catalog and, when a skill is used, for that skill's
``SKILL.md`` text. Both run on the worker pool, like every handler.

``list_skills()`` returns :class:`SkillDescriptor` objects or dicts (snake_case or camelCase
keys), or ``None`` for no skills; ``read_skill(name)`` returns the markdown, or ``None`` when
there is no such skill. A provider that raises, or returns junk, is logged here with its
traceback and answered to the CLI with a generic error (the CLI then goes on without the
provider's skills), never with the exception's text, which may hold a path or a secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._errors import JsonRpcError
from .._wire.connection import INTERNAL_ERROR

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .protocol import RequestContext

__all__ = [
    "LIST",
    "READ",
    "SkillDescriptor",
    "SkillProvider",
    "answer",
    "check_skill_provider",
    "descriptor_to_wire",
]

LIST = "skillProvider.list"
READ = "skillProvider.read"

logger = logging.getLogger("copilot_sync.session")

#: The CLI's rule for a skill's invocation name (its ``SkillProviderDescriptor.name``).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_SKILLS = 1024

#: Descriptor keys, both spellings, to their wire name and type.
_FIELDS: dict[str, tuple[str, type]] = {
    "name": ("name", str),
    "description": ("description", str),
    "argument_hint": ("argumentHint", str),
    "argumentHint": ("argumentHint", str),
    "disable_model_invocation": ("disableModelInvocation", bool),
    "disableModelInvocation": ("disableModelInvocation", bool),
    "user_invocable": ("userInvocable", bool),
    "userInvocable": ("userInvocable", bool),
    "directory": ("directory", str),
}


@dataclass(frozen=True)
class SkillDescriptor:
    """One skill in a :class:`SkillProvider`'s catalog (its ``SKILL.md`` is read lazily).

    ``name`` is how the skill is invoked (letters, digits, ``.``, ``_``, ``-``; at most 64
    characters, starting with a letter or digit); ``description`` is what skill catalogs
    and the model see. ``directory`` optionally names a folder of supporting files
    (scripts, templates) that the CLI lists for the model when the skill is used.
    """

    name: str
    description: str
    argument_hint: str | None = None
    disable_model_invocation: bool | None = None
    user_invocable: bool | None = None
    directory: str | None = None


@runtime_checkable
class SkillProvider(Protocol):
    """Serves a session's skills from storage the host owns (a database, a package...).

    Both methods run on the SDK's worker threads, possibly at the same time: make them
    thread-safe. Pass the provider again when resuming the session; it is not persisted.
    """

    def list_skills(self) -> Sequence[SkillDescriptor | Mapping[str, Any]] | None:
        """The catalog: every skill this provider has, or ``None`` for none."""
        ...

    def read_skill(self, name: str) -> str | None:
        """The ``SKILL.md`` text of skill ``name`` (YAML front matter optional), or ``None``."""
        ...


def check_skill_provider(value: object) -> None:
    """``TypeError`` unless ``value`` has callable ``list_skills`` and ``read_skill``."""
    for method in ("list_skills", "read_skill"):
        if not callable(getattr(value, method, None)):
            raise TypeError(
                f"skill_provider must have a callable {method}() (see SkillProvider); "
                f"got {type(value).__name__}"
            )


def descriptor_to_wire(value: SkillDescriptor | Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of one catalog entry; ``TypeError``/``ValueError`` for junk."""
    if isinstance(value, SkillDescriptor):
        items: Mapping[str, Any] = {
            "name": value.name,
            "description": value.description,
            "argument_hint": value.argument_hint,
            "disable_model_invocation": value.disable_model_invocation,
            "user_invocable": value.user_invocable,
            "directory": value.directory,
        }
    elif isinstance(value, Mapping):
        items = value
    else:
        raise TypeError(
            f"list_skills() must give SkillDescriptor objects or dicts, not {type(value).__name__}"
        )
    wire: dict[str, Any] = {}
    for key, item in items.items():
        field = _FIELDS.get(key)
        if field is None:
            raise TypeError(f"unknown skill descriptor key {key!r}")
        if item is None:
            continue
        name, expected = field
        if not isinstance(item, expected):
            raise TypeError(f"skill {key!r} must be a {expected.__name__}")
        wire[name] = item
    if not isinstance(wire.get("name"), str) or not _NAME.fullmatch(wire["name"]):
        raise ValueError(
            "a skill's name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            f"or digit; got {wire.get('name')!r}"
        )
    if not isinstance(wire.get("description"), str):
        raise ValueError(f"skill {wire['name']!r} needs a description")
    return wire


def _catalog(provider: Any) -> dict[str, Any]:
    skills = provider.list_skills()
    if skills is None:
        return {"skills": []}
    if isinstance(skills, (str, bytes, Mapping)):
        raise TypeError("list_skills() must return a sequence of skills or None")
    wire = [descriptor_to_wire(skill) for skill in skills]
    if len(wire) > _MAX_SKILLS:
        raise ValueError(f"list_skills() gave {len(wire)} skills; the CLI takes {_MAX_SKILLS}")
    seen: set[str] = set()
    for skill in wire:
        folded = skill["name"].casefold()
        if folded in seen:
            raise ValueError(f"two skills are named {skill['name']!r} (names ignore case)")
        seen.add(folded)
    return {"skills": wire}


def _markdown(provider: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    name = params.get("name")
    if not isinstance(name, str):
        raise JsonRpcError(-32602, "skillProvider.read needs a string 'name'")
    markdown = provider.read_skill(name)
    if markdown is not None and not isinstance(markdown, str):
        raise TypeError(f"read_skill() must return a str or None, not {type(markdown).__name__}")
    return {"markdown": markdown}


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Answer ``skillProvider.list`` or ``skillProvider.read`` with the session's provider."""
    provider = context.skill_provider
    if provider is None:
        raise JsonRpcError(INTERNAL_ERROR, f"no skill provider for session {context.session_id}")
    operation = "list_skills" if method == LIST else "read_skill"
    try:
        return _catalog(provider) if method == LIST else _markdown(provider, params)
    except JsonRpcError:
        raise
    except Exception:
        logger.exception("skill_provider.%s() of session %s failed", operation, context.session_id)
        raise JsonRpcError(INTERNAL_ERROR, f"skill provider {operation}() failed") from None
