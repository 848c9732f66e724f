"""BatchSummary: counts, durations, tokens and cost of a results file."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import Any, cast

from ._results import read_records

__all__ = ["BatchSummary"]


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclasses.dataclass
class BatchSummary:
    """What a batch (or a results file) holds: one entry per item id, its last record.

    ``counts`` maps each status (``"ok"``, ``"error"``) to its number of items; ``ran``
    is how many records this run wrote (0 when read from a file), ``skipped`` how many
    items were already done before it, ``pending`` how many given items have no record.
    Durations are seconds; ``cost`` is the sum of the ``assistant.usage`` costs.
    """

    counts: dict[str, int]
    ran: int = 0
    skipped: int = 0
    pending: int = 0
    retries: int = 0
    p50_duration: float | None = None
    p95_duration: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    error_types: dict[str, int] = dataclasses.field(default_factory=dict[str, int])

    @property
    def total(self) -> int:
        """Items with a record."""
        return sum(self.counts.values())

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        ran: int = 0,
        skipped: int = 0,
        pending: int = 0,
    ) -> BatchSummary:
        """The summary of these records (the last record of each id counts)."""
        latest = {str(r["id"]): r for r in records}
        counts: dict[str, int] = {}
        errors: dict[str, int] = {}
        durations: list[float] = []
        tokens_in = tokens_out = retries = 0
        cost = 0.0
        for record in latest.values():
            status = str(record.get("status"))
            counts[status] = counts.get(status, 0) + 1
            if status == "error":
                kind = str(record.get("error_type"))
                errors[kind] = errors.get(kind, 0) + 1
            if isinstance(record.get("duration"), (int, float)):
                durations.append(float(record["duration"]))
            if isinstance(record.get("attempts"), int):
                retries += max(0, record["attempts"] - 1)
            usage: Any = record.get("usage")
            if isinstance(usage, dict):
                usage = cast(dict[str, Any], usage)
                tokens_in += int(usage.get("input_tokens") or 0)
                tokens_out += int(usage.get("output_tokens") or 0)
                cost += float(usage.get("cost") or 0.0)
        return cls(
            counts=counts,
            ran=ran,
            skipped=skipped,
            pending=pending,
            retries=retries,
            p50_duration=_percentile(durations, 0.5),
            p95_duration=_percentile(durations, 0.95),
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost=cost,
            error_types=errors,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> BatchSummary:
        """The summary of a results file."""
        return cls.from_records(read_records(path))

    def __str__(self) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.2f} s"

        rows = [
            ("items recorded", str(self.total)),
            *((f"  {status}", str(n)) for status, n in sorted(self.counts.items())),
            *((f"    {kind}", str(n)) for kind, n in sorted(self.error_types.items())),
            *(
                [
                    ("written this run", str(self.ran)),
                    ("already done", str(self.skipped)),
                    ("not done", str(self.pending)),
                ]
                if self.ran or self.skipped or self.pending
                else []
            ),
            ("retries", str(self.retries)),
            ("duration p50", seconds(self.p50_duration)),
            ("duration p95", seconds(self.p95_duration)),
            ("input tokens", str(self.input_tokens)),
            ("output tokens", str(self.output_tokens)),
            ("cost", f"{self.cost:g}"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
