"""Line coverage of the contracts' Zig sources, from what ran on the VM (`ghost test
--coverage`, docs/testing.md "Coverage").

A `Collector` is switched on for the test session (vm/coverage.py's seam):

- WebAssembly: each module the engine runs is swapped for a probed copy
  (toolchain/coverage_probes.py) that counts how often each straight-line segment of
  code started; the probes give their fuel back, so gas is unchanged.
- ZVM: a step hook counts each pc run, per contract code (sub-calls included). The ZVM
  interpreter steps instruction by instruction while a hook is installed, with the same
  gas as its compiled blocks.

`report(collector, project)` then maps what ran to Zig lines with the DWARF line table of
each contract's debug sidecar (toolchain/debuginfo.py): a line is *executable* when some
instruction of the build comes from it, and *covered* when one of those ran. Its count
is the most times any of its segments (wasm) or instructions (ZVM) ran.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import CompileError, InvalidModuleError

#: The reports `--coverage-report` can pick, and their file names under the directory.
REPORTS = ("text", "lcov", "html")
LCOV_FILE = "lcov.info"
HTML_FILE = "index.html"
SUMMARY_FILE = "coverage.json"


@dataclass
class _WasmRecord:
    probed: Any  # coverage_probes.Probed, or None when the module cannot be probed
    counts: list[int]


class Collector:
    """What ran, per contract code, while switched on (`vm.coverage.collecting`)."""

    def __init__(self, wanted: Any = None) -> None:
        # wanted(code) -> None (probe every segment), or a predicate on a segment's
        # instruction addresses (probe those holding a reported line), or False (a
        # module no report reads: run it unprobed)
        self.wanted = wanted
        self.wasm: dict[str, _WasmRecord] = {}  # sha256 of the module -> probes and counts
        self.zvm: dict[bytes, list[int]] = {}  # ZVM code -> runs per pc
        self._zvm_by_id: dict[int, tuple[Any, list[int]]] = {}
        # engine -> digest -> probed module; weak: a module belongs to its engine's linker
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    # ---- WebAssembly (called by WasmEngine.execute) ----------------------------------------

    def wasm_module(self, engine: Any, code: bytes, compiled: Any) -> Any:
        mine = self._compiled.get(engine)
        found = mine.get(compiled.digest) if mine is not None else None
        if found is not None:
            return found
        with self._lock:
            mine = self._compiled.setdefault(engine, {})
            found = mine.get(compiled.digest)
            if found is None:
                found = mine[compiled.digest] = self._probe(engine, bytes(code), compiled)
        return found

    def _probe(self, engine: Any, code: bytes, compiled: Any) -> Any:
        from ..toolchain.coverage_probes import PROBE_FUEL, PROBE_MODULE
        from ..vm.wasm.coverage import probed_module

        record = self.wasm_record(code, compiled.digest)
        if record.probed is None:
            return compiled
        name = f"probe_{compiled.digest[:16]}"
        return probed_module(engine, compiled, record.probed.code, PROBE_MODULE, name,
                             PROBE_FUEL, record.counts)

    def wasm_record(self, code: bytes, digest: str | None = None) -> _WasmRecord:
        from ..toolchain.coverage_probes import instrument

        digest = digest or hashlib.sha256(code).hexdigest()
        record = self.wasm.get(digest)
        if record is None:
            name = f"probe_{digest[:16]}"
            wanted = self.wanted(code) if self.wanted is not None else None
            try:
                if wanted is False:
                    probed = None
                elif wanted is None:
                    probed = instrument(code, name)
                else:  # segment ordinals are the same in both passes
                    every = instrument(code, name).segments
                    probed = instrument(code, name, lambda i: wanted(every[i]))
            except (CompileError, InvalidModuleError):
                probed = None
            record = _WasmRecord(probed, [0] * (len(probed.segments) if probed else 0))
            self.wasm[digest] = record
        return record

    # ---- ZVM (called by ZvmEngine.run_message) --------------------------------------------

    def _zvm_counts(self, code: Any) -> list[int]:
        found = self._zvm_by_id.get(id(code))
        if found is not None and found[0] is code:
            return found[1]
        with self._lock:
            counts = self.zvm.setdefault(code.code, [0] * (len(code.code) + 1))
            self._zvm_by_id[id(code)] = (code, counts)  # keeps `code` alive: ids stay unique
        return counts

    def zvm_hooks(self, code: Any, trace: Any, dispatch: tuple) -> tuple[Any, tuple]:
        """The step hook (chained to `trace`) and the dispatch table for one run of `code`:
        CALL-family opcodes note the callee's code at its depth."""
        from ..vm.trace import CALL_OPCODES

        by_depth: list[list[int] | None] = [self._zvm_counts(code)]

        def step(s: Any) -> None:
            depth = s.depth
            if depth < len(by_depth):
                counts = by_depth[depth]
                if counts is not None:
                    counts[s.pc] += 1
            if trace is not None:
                trace(s)

        def calling(handler: Any) -> Any:
            def call(frame: Any) -> Any:
                signal = handler(frame)
                message = getattr(signal, "message", None)
                if message is not None:
                    del by_depth[message.depth:]
                    by_depth.extend([None] * (message.depth - len(by_depth)))
                    by_depth.append(self._zvm_counts(message.code))
                return signal
            return call

        wrapped = tuple(
            entry._replace(handler=calling(entry.handler))
            if entry is not None and entry.op.name in CALL_OPCODES else entry
            for entry in dispatch)
        return step, wrapped


def project_filter(project: Any) -> Any:
    """`Collector(wanted=...)` for `project`: probe only the segments of its own contracts'
    builds that hold a line of its own sources (not code of the SDK or Zig's std alone,
    e.g. compiler_rt's u256 division), and leave every other module unprobed."""
    from ..toolchain import debuginfo
    from ..toolchain.coverage_lines import lines_at

    sources: dict[str, bool] = {}

    def ours_file(path: str) -> bool:
        found = sources.get(path)
        if found is None:
            found = sources[path] = _is_project_source(project, path)
        return found

    def wanted(code: bytes) -> Any:
        # read when a module first runs: the session may build the contracts after it starts
        digest = hashlib.sha256(code).hexdigest()
        name = next((n for n in project.contracts
                     if (p := project.artifact_path(n, "wasm")).exists()
                     and hashlib.sha256(p.read_bytes()).hexdigest() == digest), None)
        info = debuginfo.load(project.out_dir, name, "wasm") if name else None
        if info is None or not info.lines:
            return False
        from ..toolchain.coverage_probes import instrument

        addresses = [a for seg in instrument(code, "scan").segments for a in seg]
        ours = {a for a, found in lines_at(info, addresses).items()
                if any(ours_file(path) for path, _ in found)}
        return lambda segment: any(a in ours for a in segment)

    return wanted


# ---- from what ran to Zig lines -------------------------------------------------------------


@dataclass
class FileCoverage:
    path: str  # relative to the project root, as the build's DWARF names it
    lines: dict[int, int] = field(default_factory=dict)  # executable line -> times run

    @property
    def covered(self) -> int:
        return sum(1 for n in self.lines.values() if n)

    @property
    def total(self) -> int:
        return len(self.lines)

    def missed(self) -> list[int]:
        return sorted(line for line, n in self.lines.items() if not n)

    def hit(self) -> list[int]:
        return sorted(line for line, n in self.lines.items() if n)


@dataclass
class Report:
    files: dict[str, FileCoverage]
    contracts: list[str]  # "name (target)" of every build the report read
    skipped: list[str]  # builds without debug info or probes, with why

    @property
    def covered(self) -> int:
        return sum(f.covered for f in self.files.values())

    @property
    def total(self) -> int:
        return sum(f.total for f in self.files.values())

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def to_json(self) -> dict[str, Any]:
        return {
            "lines_covered": self.covered, "lines_total": self.total,
            "percent": round(self.percent, 2),
            "files": [{"path": f.path, "lines_covered": f.covered, "lines_total": f.total,
                       "percent": round(100.0 * f.covered / f.total, 2) if f.total else 100.0,
                       "missed": f.missed()}
                      for f in sorted(self.files.values(), key=lambda f: f.path)],
            "contracts": self.contracts, "skipped": self.skipped,
        }


def report(collector: Collector, project: Any, targets: tuple[str, ...] | None = None
           ) -> Report:
    """Line coverage of every contract of `project`, built for `targets` (default: each
    contract's configured target), from what `collector` saw run. A contract the tests
    never ran counts with all its lines missed."""
    from ..toolchain import debuginfo

    files: dict[str, FileCoverage] = {}
    read: list[str] = []
    skipped: list[str] = []
    for name in sorted(project.contracts):
        for target in targets or (project.contracts[name].target,):
            artifact = project.artifact_path(name, target)
            if not artifact.exists():
                continue
            info = debuginfo.load(project.out_dir, name, target)
            if info is None or not info.lines:
                skipped.append(f"{name} ({target}): no debug info; rebuild with ghost build")
                continue
            raw = artifact.read_bytes()
            if target == "wasm":
                rows = _wasm_lines(collector, raw, info)
            else:
                rows = _zvm_lines(collector, raw, info)
            if rows is None:
                skipped.append(f"{name} ({target}): the module could not be probed")
                continue
            read.append(f"{name} ({target})")
            for (path, line), count in rows.items():
                if not _is_project_source(project, path):
                    continue
                lines = files.setdefault(path, FileCoverage(path)).lines
                lines[line] = max(lines.get(line, 0), count)
    return Report(files, read, skipped)


def _wasm_lines(collector: Collector, raw: bytes, info: Any) -> dict | None:
    from ..toolchain.coverage_lines import lines_at

    record = collector.wasm_record(raw)
    if record.probed is None:
        return None
    where = lines_at(info, [a for segment in record.probed.segments for a in segment])
    rows: dict[tuple[str, int], int] = {}
    for segment, count in zip(record.probed.segments, record.counts, strict=True):
        for address in segment:
            for found in where[address]:
                rows[found] = max(rows.get(found, 0), count)
    return rows


def _zvm_lines(collector: Collector, raw: bytes, info: Any) -> dict | None:
    from ..toolchain.coverage_lines import lines_at
    from ..vm.zvm.container import decode_zvmc

    if info.zvm is None:
        return None
    code = decode_zvmc(raw).code
    counts = collector.zvm.get(bytes(code)) or [0] * (len(code) + 1)
    pcs: list[int] = info.zvm["pcs"]
    marks: list[list[int]] = info.zvm["marks"]
    where = lines_at(info, [offset - info.code_start for _f, offset in marks])
    rows: dict[tuple[str, int], int] = {}
    for pc, (_function, offset) in zip(pcs, marks, strict=True):
        # the first ZVM instruction lowered from the wasm one runs whenever it does (what
        # follows a function's last one may be shared routines, run by every function)
        count = counts[pc] if pc < len(counts) else 0
        for found in where[offset - info.code_start]:
            rows[found] = max(rows.get(found, 0), count)
    return rows


def _is_project_source(project: Any, path: str) -> bool:
    """A Zig file of the project's own: not Zig's std, the SDK (sdk_dir) or ghost's
    generated build root."""
    if not path.endswith(".zig") or path.startswith(("/", "std/")):
        return False
    full = (project.root / path).resolve()
    root = project.root.resolve()
    excluded = [(root / ".ghost").resolve()]
    sdk = getattr(project, "sdk_dir", None)
    if sdk is not None:
        excluded.append(Path(sdk).resolve())
    return full.is_relative_to(root) and full.is_file() and not any(
        full.is_relative_to(e) for e in excluded)


# ---- writers ----------------------------------------------------------------------------


def _ranges(lines: list[int]) -> str:
    """Sorted line numbers as text, runs joined: [12, 27, 28] -> "12, 27-28"."""
    runs: list[list[int]] = []
    for line in lines:
        if runs and runs[-1][1] == line - 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def text(rep: Report) -> list[str]:
    """The summary table: one row per file, then the total."""
    rows = [(f.path, f"{f.covered}/{f.total}",
             f"{100.0 * f.covered / f.total:.1f}%" if f.total else "-", _ranges(f.missed()))
            for f in sorted(rep.files.values(), key=lambda f: f.path)]
    rows.append(("total", f"{rep.covered}/{rep.total}", f"{rep.percent:.1f}%", ""))
    width = max(len(r[0]) for r in rows)
    out = [f"{'file':<{width}}  {'lines':>9}  {'cover':>6}  missed lines"]
    out += [f"{a:<{width}}  {b:>9}  {c:>6}  {d}".rstrip() for a, b, c, d in rows]
    out += [f"not covered: {s}" for s in rep.skipped]
    return out


def lcov(rep: Report) -> str:
    """The report as an lcov tracefile (geninfo's format: SF, DA, LF, LH per file)."""
    out = ["TN:"]
    for f in sorted(rep.files.values(), key=lambda f: f.path):
        out.append(f"SF:{f.path}")
        out += [f"DA:{line},{n}" for line, n in sorted(f.lines.items())]
        out += [f"LF:{f.total}", f"LH:{f.covered}", "end_of_record"]
    return "\n".join(out) + "\n"


def html(rep: Report, root: Path) -> str:
    """One self-contained page: the summary, then each file's source with executable
    lines marked run (green, with the count) or not run (red)."""
    from html import escape

    def pct(f: FileCoverage) -> str:
        return f"{100.0 * f.covered / f.total:.1f}%" if f.total else "-"

    files = sorted(rep.files.values(), key=lambda f: f.path)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Coverage</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:2px 10px;text-align:left}pre{margin:0}"
        ".src td{font-family:monospace;white-space:pre;padding:0 8px}"
        ".hit{background:#d7f5d7}.miss{background:#f9d0d0}.n{color:#888;text-align:right}"
        "</style></head><body>",
        f"<h1>Line coverage: {rep.percent:.1f}% ({rep.covered}/{rep.total} lines)</h1>",
        "<table><tr><th>file</th><th>lines</th><th>cover</th></tr>",
    ]
    for i, f in enumerate(files):
        parts.append(f"<tr><td><a href='#f{i}'>{escape(f.path)}</a></td>"
                     f"<td>{f.covered}/{f.total}</td><td>{pct(f)}</td></tr>")
    parts.append("</table>")
    for i, f in enumerate(files):
        parts.append(f"<h2 id='f{i}'>{escape(f.path)} {pct(f)}</h2><table class='src'>")
        try:
            source = (root / f.path).read_text(encoding="utf-8").splitlines()
        except OSError:
            source = []
        for n, line in enumerate(source, 1):
            count = f.lines.get(n)
            css = "" if count is None else (" class='hit'" if count else " class='miss'")
            shown = "" if count is None else str(count)
            parts.append(f"<tr{css}><td class='n'>{n}</td><td class='n'>{shown}</td>"
                         f"<td>{escape(line)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def make_report_dir(directory: Path) -> None:
    """Make the reports' `directory` before any test runs. Raises OSError when it cannot be
    made or written to, which `write` would otherwise meet only after the whole session."""
    import errno
    import os

    directory.mkdir(parents=True, exist_ok=True)
    if not os.access(directory, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(directory))


def write(rep: Report, directory: Path, root: Path, which: tuple[str, ...]) -> list[Path]:
    """Write the chosen file reports (lcov, html) and the JSON summary under `directory`.
    A report of an earlier run that this one does not write is removed: left in place,
    an editor or a CI upload would read it as this run's."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / SUMMARY_FILE]
    written[0].write_text(json.dumps(rep.to_json(), indent=2) + "\n")
    for kind, name, render in (("lcov", LCOV_FILE, lambda: lcov(rep)),
                               ("html", HTML_FILE, lambda: html(rep, root))):
        path = directory / name
        if kind in which:
            path.write_text(render())
            written.append(path)
        else:
            path.unlink(missing_ok=True)
    return written
