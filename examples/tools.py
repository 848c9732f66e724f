"""Tools: let the model call your own Python functions.

    python examples/tools.py

``define_tool`` turns a plain function into a tool: the JSON Schema the model sees comes
from the type hints (``Literal`` becomes an enum, a dataclass a nested object, ...) and
from the docstring, and the model's arguments are checked and converted before your
function runs (a dataclass argument arrives as a dataclass instance). Tools run on the
SDK's worker threads, several at once when the model calls several in one turn.

With GitHub auth (GITHUB_TOKEN, GH_TOKEN or COPILOT_GITHUB_TOKEN, or a logged-in CLI) it
talks to GitHub Copilot; without it, it runs offline against a scripted local model.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Annotated, Any, Literal

from copilot_sync import CopilotClient, PermissionHandler, SessionEvent, define_tool
from copilot_sync.testing import ModelRequest, Reply, ScriptedModelServer, ToolCall

FORECASTS = {"lisbon": (24, "sunny"), "oslo": (6, "rainy"), "kyoto": (18, "cloudy")}


@define_tool
def get_weather(
    city: Annotated[str, "A city name, e.g. 'Lisbon'"],
    unit: Literal["celsius", "fahrenheit"] = "celsius",
) -> dict[str, Any]:
    """Today's weather forecast for a city."""
    temperature, sky = FORECASTS.get(city.lower(), (15, "unknown"))
    if unit == "fahrenheit":
        temperature = round(temperature * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "sky": sky}


@dataclasses.dataclass
class Stop:
    city: str
    nights: int = 1


@define_tool
def plan_trip(stops: list[Stop], budget_per_night: float = 120.0) -> str:
    """Adds up the nights and the cost of a trip.

    Args:
        stops: The cities to visit, in order, with the nights spent in each.
        budget_per_night: What one night costs, in euros.
    """
    nights = sum(stop.nights for stop in stops)  # each stop is a Stop instance, already validated
    route = " -> ".join(stop.city for stop in stops)
    return f"{route}: {nights} nights, about {nights * budget_per_night:.0f} EUR"


def converse(client: CopilotClient, **model_options: Any) -> None:
    with (
        client.create_session(
            tools=[get_weather, plan_trip],
            on_permission_request=PermissionHandler.approve_all,  # custom tools need a permission decision
            **model_options,
        ) as session
    ):
        names: dict[str, str] = {}

        def started(event: SessionEvent) -> None:
            if event.type == "tool.execution_start":  # narrows event.data to ToolExecutionStartData
                data = event.data
                names[data.tool_call_id] = data.tool_name
                print(f"  [tool call] {data.tool_name}({event.raw['data'].get('arguments')})")

        def completed(event: SessionEvent) -> None:
            if event.type == "tool.execution_complete":
                data = event.data
                outcome = (
                    (data.result.content if data.result else None)
                    if data.success
                    else f"failed: {event.raw['data'].get('error')}"
                )
                print(f"  [tool done] {names.get(data.tool_call_id, '?')} -> {outcome}")

        session.on(
            "tool.execution_start", started
        )  # events arrive in order, on the session's event thread
        session.on("tool.execution_complete", completed)
        question = (
            "What's the weather in Lisbon and in Oslo (in celsius)? Then plan a trip: 3 nights in Lisbon "
            "and 2 in Oslo. Use the get_weather and plan_trip tools."
        )
        print(f"you: {question}")
        reply = session.send_and_wait(question, timeout=120)
        print(f"assistant: {reply.data.content if reply else '(no reply)'}")


def offline_model() -> ScriptedModelServer:
    """A stand-in for the model: it calls the tools, then sums up what they returned."""

    def respond(request: ModelRequest) -> Reply:
        results = results_since_last_prompt(request)
        if not results:
            return Reply(
                tool_calls=[
                    ToolCall("get_weather", {"city": "Lisbon", "unit": "celsius"}),
                    ToolCall("get_weather", {"city": "Oslo"}),
                    ToolCall(
                        "plan_trip",
                        {"stops": [{"city": "Lisbon", "nights": 3}, {"city": "Oslo", "nights": 2}]},
                    ),
                ]
            )
        weather: dict[str, str] = {}
        trip = ""
        for text in results:
            if text.startswith("{"):
                forecast = json.loads(text)
                weather[forecast["city"]] = (
                    f"{forecast['temperature']} degrees {forecast['unit']} and {forecast['sky']}"
                )
            else:
                trip = text
        sky = "; ".join(f"{city}: {line}" for city, line in sorted(weather.items()))
        return Reply(text=f"{sky}. Your trip: {trip}.")

    return ScriptedModelServer(responder=respond)


def results_since_last_prompt(request: ModelRequest) -> list[str]:
    last_user = max(
        (i for i, m in enumerate(request.messages) if m.get("role") == "user"), default=-1
    )
    return [
        str(m.get("content")) for m in request.messages[last_user + 1 :] if m.get("role") == "tool"
    ]


def main() -> int:
    token = next(
        (
            os.environ[n]
            for n in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN")
            if os.environ.get(n)
        ),
        None,
    )
    with CopilotClient(github_token=token) as client:
        if client.get_auth_status().is_authenticated:
            print("Using GitHub Copilot.")
            converse(client)
        else:
            print(
                "No GitHub auth found: running offline, the real CLI with a scripted local model."
            )
            with offline_model() as model:
                converse(client, model=model.model, provider=model.provider())
    return 0


if __name__ == "__main__":
    sys.exit(main())
