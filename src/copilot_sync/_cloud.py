"""Cloud sessions: ``create_session(cloud=CloudSessionOptions(...))`` runs the session remotely.

Without a ``session_id`` the CLI (its cloud backend) chooses the id, so the session cannot
be registered before ``session.create`` as a local one is. While such a create is in flight,
:class:`EarlyEvents` keeps the events that arrive for a session id nobody has registered
yet; when the answer names the id, the client registers the session and hands it those
events first, in order, so ``on_event`` misses none.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ._fields import is_mapping

__all__ = ["CloudRepository", "CloudSessionOptions", "EarlyEvents", "cloud_to_wire"]


@dataclasses.dataclass(frozen=True)
class CloudRepository:
    """The GitHub repository a cloud session works on (``branch``: the default one if unset)."""

    owner: str
    name: str
    branch: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """``{"owner", "name"}`` and ``"branch"`` when set."""
        wire: dict[str, Any] = {"owner": self.owner, "name": self.name}
        if self.branch is not None:
            wire["branch"] = self.branch
        return wire


@dataclasses.dataclass(frozen=True)
class CloudSessionOptions:
    """Run the session in the cloud instead of in the local CLI process; ``repository``
    names the repository it works on."""

    repository: CloudRepository | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``cloud`` field of ``session.create``."""
        return {} if self.repository is None else {"repository": self.repository.to_wire()}


def cloud_to_wire(value: Any) -> dict[str, Any]:
    """The ``cloud`` option on the wire: a :class:`CloudSessionOptions` or a dict like
    ``{"repository": {"owner": ..., "name": ..., "branch": ...}}``."""
    if isinstance(value, CloudSessionOptions):
        return value.to_wire()
    if not is_mapping(value):
        raise TypeError(
            f"cloud must be a CloudSessionOptions or a dict, not {type(value).__name__}"
        )
    unknown = sorted(set(value) - {"repository"})
    if unknown:
        raise TypeError(f"cloud has no key {unknown[0]!r}; it takes repository")
    repository: Any = value.get("repository")
    if repository is None:
        return {}
    if isinstance(repository, CloudRepository):
        return {"repository": repository.to_wire()}
    if not is_mapping(repository):
        raise TypeError("cloud repository must be a CloudRepository or a dict")
    keys = {"owner", "name", "branch"}
    extra = sorted(set(repository) - keys)
    if extra:
        raise TypeError(f"cloud repository has no key {extra[0]!r}; it takes branch, name, owner")
    for key in ("owner", "name"):
        if not isinstance(repository.get(key), str) or not repository[key]:
            raise ValueError(f"cloud repository needs a non-empty string {key!r}")
    return {"repository": CloudRepository(**dict(repository)).to_wire()}


class EarlyEvents:
    """Events for session ids not registered yet, kept while a cloud ``session.create`` is
    in flight (reader thread offers, the creating thread registers). Bounded: at most
    ``max_sessions`` ids and ``max_events`` events per id; beyond that they are dropped."""

    def __init__(self, *, max_sessions: int = 64, max_events: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._pending = 0
        self._buffered: dict[str, list[Any]] = {}
        self._max_sessions = max_sessions
        self._max_events = max_events

    def begin(self) -> None:
        """A cloud create starts: keep unknown sessions' events from now on."""
        with self._lock:
            self._pending += 1

    def end(self) -> None:
        """A cloud create is over (registered or failed); the last one drops what is left."""
        with self._lock:
            self._pending -= 1
            if self._pending == 0:
                self._buffered.clear()

    def offer(self, session_id: str, event: Any, lookup: Callable[[], Any]) -> bool:
        """Reader thread: an event for a session not found. Deliver it if the session was
        registered meanwhile, keep it if a cloud create is in flight; False: dropped."""
        with self._lock:
            control = lookup()
            if control is not None:
                control.enqueue(event)
                return True
            if not self._pending:
                return False
            kept = self._buffered.get(session_id)
            if kept is None:
                if len(self._buffered) >= self._max_sessions:
                    return False
                kept = self._buffered[session_id] = []
            if len(kept) >= self._max_events:
                return False
            kept.append(event)
            return True

    def register(
        self, session_id: str, install: Callable[[], None], enqueue: Callable[[Any], None]
    ) -> int:
        """Creating thread: ``install()`` the session, then hand it its early events, both
        before the reader can deliver another one; how many there were."""
        with self._lock:
            install()
            early = self._buffered.pop(session_id, [])
            for event in early:
                enqueue(event)
            return len(early)


def check_cloud_options(options: Mapping[str, Any], *, has_session_fs: bool) -> None:
    """``ValueError`` for what a cloud session without an id of its own cannot have."""
    for key in ("github_token_provider", "skill_provider"):
        if options.get(key) is not None:
            raise ValueError(f"{key} is not supported for cloud sessions")
    if has_session_fs:
        raise ValueError("a client with session_fs cannot create cloud sessions")
