"""The dispatcher's request limits, apart from the dispatcher: node configuration reads
them without loading the method table."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_body: int = 4 * MiB  # bytes; adapters refuse larger bodies before reading them
    max_batch: int = 100  # requests in one batch
    max_reply: int = 8 * MiB  # bytes of one response body, all of a batch's together
