"""Gas figures from a test run: a per-function report, and a per-test snapshot that CI
compares against (`ghost test --snapshot` writes it, `ghost test --check` checks it)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..exceptions import ConfigError
from .env import GasRecord

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class FunctionGas:
    contract: str
    function: str
    calls: int
    min: int
    mean: int
    median: int
    max: int
    failed: int = 0  # of `calls`, how many reverted or trapped (their gas is included)


@dataclass(frozen=True)
class GasChange:
    test: str
    before: int | None  # None: the test is new
    after: int | None  # None: the test is gone
    ratio: float | None  # after / before

    @property
    def describe(self) -> str:
        if self.before is None:
            return f"{self.test}: new, {self.after:,} gas"
        if self.after is None:
            return f"{self.test}: no longer measured (was {self.before:,})"
        return f"{self.test}: {self.before:,} -> {self.after:,} ({(self.ratio - 1) * 100:+.2f}%)"


def report(records: Iterable[GasRecord]) -> list[FunctionGas]:
    """Per function, over every call that ran: failed calls count with the gas they burnt."""
    by_fn: dict[tuple[str, str], list[GasRecord]] = defaultdict(list)
    for r in records:
        by_fn[(r.contract, r.function)].append(r)
    rows = []
    for (c, f), recs in sorted(by_fn.items()):
        g = [r.gas_used for r in recs]
        rows.append(FunctionGas(c, f, len(g), min(g), round(statistics.fmean(g)),
                                round(statistics.median(g)), max(g),
                                sum(r.failed for r in recs)))
    return rows


def per_test(records: Iterable[GasRecord]) -> dict[str, int]:
    """Gas per test over every call it made, failed ones included, so a test whose calls
    all revert is measured too."""
    totals: dict[str, int] = defaultdict(int)
    for r in records:
        if r.test is not None:
            totals[r.test] += r.gas_used
    return dict(sorted(totals.items()))


def write_snapshot(path: Path, totals: dict[str, int]) -> None:
    doc = {"version": SNAPSHOT_VERSION, "tests": dict(sorted(totals.items()))}
    path.write_text(json.dumps(doc, indent=2) + "\n")


def read_snapshot(path: Path) -> dict[str, int]:
    try:
        doc = json.loads(path.read_text())
        if doc.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported version {doc.get('version')!r}")
        return {str(k): int(v) for k, v in doc["tests"].items()}
    except FileNotFoundError:
        raise ConfigError(f"no gas snapshot at {path}: run `ghost test --snapshot` first") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"gas snapshot {path} is unreadable: {exc}") from exc


def compare(before: dict[str, int], after: dict[str, int], tolerance: float
            ) -> tuple[list[GasChange], list[GasChange]]:
    """(changes beyond tolerance, which fail the check; new or vanished tests, which don't)."""
    failing, informational = [], []
    for test in sorted(before.keys() | after.keys()):
        old, new = before.get(test), after.get(test)
        if old is None or new is None:
            informational.append(GasChange(test, old, new, None))
            continue
        ratio = new / old if old else (1.0 if new == 0 else float("inf"))
        if abs(ratio - 1.0) > tolerance:
            failing.append(GasChange(test, old, new, ratio))
    return failing, informational


def to_json(rows: list[FunctionGas]) -> list[dict]:
    return [asdict(r) for r in rows]
