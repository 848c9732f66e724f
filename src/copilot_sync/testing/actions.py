"""Actions for :class:`~copilot_sync.testing.Rule`: what the fake CLI does when a rule matches.

::

    from copilot_sync.testing import FakeCLI, Rule, Scenario
    from copilot_sync.testing.actions import events, exit, reply

    scenario = Scenario(
        rules=[
            Rule(
                method="session.send",
                actions=[
                    reply({"messageId": "m"}),
                    events([("user.message", {"content": "x"})]),
                    exit(3),
                ],
            ),
        ]
    )
"""

from ._fake_scenario import (
    close_stdout,
    default,
    error,
    events,
    exit,
    kill,
    notify,
    raw,
    reply,
    request,
    sleep,
    stall,
)

__all__ = [
    "close_stdout",
    "default",
    "error",
    "events",
    "exit",
    "kill",
    "notify",
    "raw",
    "reply",
    "request",
    "sleep",
    "stall",
]
