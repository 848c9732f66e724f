"""``send_async``: a session's turns as :class:`concurrent.futures.Future` objects.

A :class:`TurnFuture` is the public face of one turn in the session's queue
(:mod:`._turn_queue`): the same FIFO queue that ``send_and_wait``, ``stream`` and
``send_and_collect`` use, so a future's turn is sent only once every earlier turn of the
session has ended, and it gets its own turn's reply. The future is completed on the
session's event thread, after the ``on()`` handlers saw the event that decided it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, cast

from ._turn_queue import SessionTurns
from ._turn_state import SENT
from ._turns import no_reply_error
from ._wire.reentrancy import blocking

if TYPE_CHECKING:
    from ._idle_timeout import IdleTimeout
    from ._session import CopilotSession
    from ._turn_queue import Turn
    from .generated.session_events import AssistantMessageEvent

__all__ = ["SessionTurns", "TurnFuture", "new_turn_future"]

logger = logging.getLogger("copilot_sync.session")


class TurnFuture(Future["AssistantMessageEvent"]):
    """The future of one :meth:`CopilotSession.send_async` turn.

    Its result is what :meth:`CopilotSession.send_and_wait` would return (the turn's final
    ``assistant.message`` event, an :class:`AssistantMessageEvent`); its exception is what
    it would raise (:class:`SessionError`, :class:`NoReplyError` for a turn that ended
    without an assistant message, :class:`TurnAbortedError`, :class:`CopilotTimeoutError`,
    :class:`SessionClosedError`, :class:`ProcessExitedError`...).

    ``cancel()`` (from any thread): a turn still queued in the SDK is dropped without the
    CLI hearing of it; a running one is cancelled at once (``result()``, even one already
    blocked in another thread, raises ``CancelledError`` at once) and aborted on the CLI
    (``session.abort``, sent asynchronously from the session's event thread); the next
    queued turn is sent when the aborted turn's idle arrives. A finished turn, or one
    whose outcome is already known, returns ``False``. ``session.abort()`` instead fails
    the running future with :class:`TurnAbortedError` as soon as the CLI reports the
    abort.

    Done callbacks run on the thread that completes the future: normally the session's
    event thread (after the ``on()`` handlers saw the event), the cancelling thread for
    ``cancel()``, the closing thread when the session closes. A callback that raises,
    even a ``BaseException`` such as ``SystemExit``, is logged and the next one runs.

    ``result()``/``exception()`` of an unfinished future raise :class:`ReentrancyError`
    at once where they could never return: inside the session's own ``on()`` handlers
    and done callbacks (the future is completed by that thread), inside a handler of the
    session's running turn (a tool, a permission request...: the turn waits for it), or
    in a ring of handlers waiting on each other's sessions. Use ``add_done_callback()``
    there instead.

    ``session``, ``prompt`` and (once the CLI accepted the message) ``message_id`` say
    which turn it is; ``running()`` is true from the moment the message is sent.
    """

    def __init__(self, session: CopilotSession, prompt: str) -> None:
        super().__init__()
        self.session = session
        self.prompt = prompt
        self.message_id: str | None = None
        self._turn: Turn | None = None

    def bind(self, turn: Turn) -> None:
        """Tie the future to its turn in the session's queue (for ``cancel()``/``running()``)."""
        self._turn = turn

    def cancel(self) -> bool:
        """Drop the turn if it is still queued, or abort it if it runs; ``False`` once it is done."""
        turn = self._turn
        if turn is None:
            return super().cancel()
        return turn.owner.cancel(turn)

    def running(self) -> bool:
        """``True`` while the turn's message has been sent and the turn has not ended."""
        turn = self._turn
        return turn is not None and turn.state == SENT and not self.done()

    def set_result(self, result: AssistantMessageEvent | None) -> None:
        """Complete with the turn's reply; a turn that had none (``None``, from the
        session's queue) completes with :class:`NoReplyError` instead, as
        ``send_and_wait`` raises it. A subclass that converts the reply itself
        (``response_format=``) overrides this and decides on its own."""
        if result is None and type(self).set_result is TurnFuture.set_result:
            turn = self._turn
            self.set_exception(no_reply_error(None if turn is None else turn.waiter))
            return
        super().set_result(cast("AssistantMessageEvent", result))

    def result(self, timeout: float | None = None) -> AssistantMessageEvent:
        """The reply (what ``send_and_wait`` returns), waiting up to ``timeout`` seconds; raises what it would raise. Ctrl-C while waiting aborts the turn."""
        if self.done():
            return super().result(0)
        with blocking(self.session, "TurnFuture.result()"):
            return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception the turn failed with, or ``None``, waiting up to ``timeout`` seconds."""
        if self.done():
            return super().exception(0)
        with blocking(self.session, "TurnFuture.exception()"):
            return super().exception(timeout)

    def _invoke_callbacks(self) -> None:
        # concurrent.futures catches only Exception here: a callback raising SystemExit or
        # a test framework's outcome would skip the other callbacks and escape into the
        # session's event thread. Contain everything, as for every other handler.
        for callback in self._done_callbacks:  # type: ignore[attr-defined]  # Future's own list
            try:
                callback(self)
            except BaseException:
                logger.exception("a done callback of %r raised", self)

    def __repr__(self) -> str:
        if self.cancelled():
            state = "cancelled"
        elif self.done():
            state = "failed" if super().exception(0) is not None else "finished"
        else:
            turn = self._turn
            state = "running" if turn is not None and turn.state == SENT else "queued"
        prompt = self.prompt if len(self.prompt) <= 40 else self.prompt[:37] + "..."
        return f"<TurnFuture session={self.session.session_id[:8]!r} {state} prompt={prompt!r}>"


def new_turn_future(
    session: CopilotSession,
    turns: SessionTurns,
    prompt: str,
    payload: dict[str, Any],
    timeout: float | None,
    idle: IdleTimeout | None = None,
) -> tuple[TurnFuture, Turn]:
    """``send_async``'s future and its turn in ``turns`` (the session's queue), bound to
    each other; the caller submits the turn."""
    future = TurnFuture(session, prompt)
    turn = turns.new_turn(payload, future=future, timeout=timeout, idle=idle)
    future.bind(turn)
    return future, turn
