"""Call traces: what a call did, as a tree of frames (`ghost call -v`, `ghost test -v`).

A `Recorder` is switched on for a block of code with `recording(recorder)`; engines look
it up once per execution (`current_tracer()`) and, when there is one, report to it (both
live in vm/recording.py, re-exported here):

    EngineSet.execute, by_selector     a frame per contract run (wasm or ZVM), with its
                                       gas limit, gas used, and return, revert or failure
    host calls (vm/host_calls.py)      each row's gas and what it read, wrote, emitted or
                                       logged, attached to the frame that made it
    ZVM steps and CALL-family opcodes  sub-frames (CALL, STATICCALL, CREATE ...) and,
                                       at verbosity 3, every opcode

A log or event is recorded when it happens, so a revert that undoes it in state leaves it
in the trace. Verbosity: 1 the tree with storage, events, logs, signature checks and
sub-calls; 2 every host call; 3 ZVM opcodes as well. With no recorder the engines pay
one None check per host call and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ghost_cli.exceptions import ExecutionError, GhostError, RevertError
from ghost_cli.vm.recording import current_tracer, recording  # noqa: F401 - its API too

if TYPE_CHECKING:
    from ghost_cli.abi import Abi
    from ghost_cli.vm.types import CallContext, Event, Outcome

#: Host calls shown at verbosity 1; every host call shows from verbosity 2.
NOTABLE = frozenset({
    "storage_read", "storage_write", "storage_delete", "storage_has", "emit_event",
    "debug_log", "revert", "sig_verify", "multisig_verify", "bls_aggregate_verify",
    "merkle_verify",
})
#: ZVM opcodes that start a sub-frame.
CALL_OPCODES = frozenset({"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2"})
MAX_VERBOSITY = 3



@dataclass
class HostItem:
    name: str
    gas: int
    notes: dict[str, Any]
    result: int | None
    error: str | None


@dataclass
class StepItem:
    pc: int
    opcode: str
    gas_left: int
    function: str | None


@dataclass
class Frame:
    engine: str  # "wasm" | "zvm"
    kind: str  # "call" for a transaction's or query's own run; else the ZVM opcode
    address: bytes
    caller: bytes
    function: str | None
    gas_limit: int
    zdepth: int | None = None  # ZVM message depth; None for a wasm frame
    resume_gas: int = 0  # ZVM sub-frame: the caller's gas once the callee's was taken
    resume_in: Any = field(default=None, repr=False)  # ZVM sub-frame: the caller's frame
    items: list[HostItem | StepItem | Frame] = field(default_factory=list)
    gas_used: int | None = None  # None: the frame ended in a way its gas cannot be known
    status: str | None = None  # "return" | "revert" | "error"
    return_data: bytes = b""
    reason: str | None = None  # revert reason or error message


class Recorder:
    """Builds the call tree of everything run while it is switched on."""

    def __init__(self, verbosity: int = 1,
                 abi_of: Callable[[bytes], Abi | None] | None = None) -> None:
        self.verbosity = max(1, min(verbosity, MAX_VERBOSITY))
        self.abi_of = abi_of or (lambda address: None)
        self.frames: list[Frame] = []  # top-level runs, in order
        self._open: list[Frame] = []
        self._dispatch_cache: dict[int, tuple] = {}

    # ---- frames a whole engine run makes (EngineSet.execute, by_selector) ------------------

    def run_frame(self, engine: str, ctx: CallContext, function: str, kind: str,
                  run: Callable[[], Outcome]) -> Outcome:
        frame = Frame(engine, kind, ctx.address, ctx.caller, function, ctx.gas_limit,
                      zdepth=0 if engine == "zvm" else None)
        (self._open[-1].items if self._open else self.frames).append(frame)
        self._open.append(frame)
        try:
            outcome = run()
        except ExecutionError as exc:
            self._close_to(frame)
            frame.gas_used = exc.gas_used
            frame.status = "revert" if isinstance(exc, RevertError) else "error"
            frame.reason = exc.reason if isinstance(exc, RevertError) else exc.message
            raise
        except BaseException:
            self._close_to(frame)
            raise
        self._close_to(frame)
        frame.gas_used, frame.status = outcome.gas_used, "return"
        frame.return_data = outcome.return_data
        return outcome

    def _close_to(self, frame: Frame) -> None:
        """Pop `frame` and any ZVM sub-frame left open above it (its end was not seen)."""
        while self._open:
            top = self._open.pop()
            if top is frame:
                return

    # ---- host calls (vm/host_calls.py's HostTracer) ----------------------------------------

    def host_call(self, name: str, gas: int, notes: dict, result: int | None,
                  error: GhostError | None) -> None:
        if not self._open:
            return
        frame = self._open[-1]
        if name == "revert" and "reason" in notes:
            frame.reason = notes["reason"]
        if name == "set_return":
            return  # shown as the frame's return
        failed = error is not None and not isinstance(error, RevertError)
        if self.verbosity < 2 and name not in NOTABLE and not failed:
            return
        frame.items.append(HostItem(name, gas, dict(notes), result,
                                    error.message if failed else None))

    # ---- ZVM: steps and the opcodes that start sub-frames ----------------------------------

    def zvm_steps(self, chained: Callable | None) -> Callable:
        """The interpreter's step hook: ends sub-frames as their caller resumes, records
        opcodes at verbosity 3, and passes each step on to `chained` (--trace)."""
        record_ops = self.verbosity >= MAX_VERBOSITY

        def step(s) -> None:
            if self._open:
                top = self._open[-1]
                while top.zdepth is not None and s.depth < top.zdepth and len(self._open) > 1:
                    self._end_subframe(top, s)
                    top = self._open[-1]
                if record_ops:
                    top.items.append(StepItem(s.pc, s.opcode, s.gas_left, None))
            if chained is not None:
                chained(s)

        return step

    def zvm_dispatch(self, dispatch: tuple) -> tuple:
        """`dispatch` with its CALL-family handlers wrapped to open the callee's frame."""
        found = self._dispatch_cache.get(id(dispatch))
        if found is None:
            found = tuple(
                entry._replace(handler=self._call_handler(entry.handler, entry.op.name))
                if entry is not None and entry.op.name in CALL_OPCODES else entry
                for entry in dispatch)
            self._dispatch_cache[id(dispatch)] = found
        return found

    def _call_handler(self, handler: Callable, opcode: str) -> Callable:
        def traced(f):
            signal = handler(f)
            message = getattr(signal, "message", None)  # a CallRequest: a sub-frame starts
            if message is not None and self._open:
                self._open_subframe(opcode, message, f)
            return signal

        return traced

    def _open_subframe(self, opcode: str, msg, caller) -> None:
        creating = opcode.startswith("CREATE")
        frame = Frame("zvm", opcode, msg.address, msg.caller,
                      "(constructor)" if creating else self._function_of(msg),
                      msg.gas, zdepth=msg.depth, resume_gas=caller.gas, resume_in=caller)
        self._open[-1].items.append(frame)
        self._open.append(frame)

    def _end_subframe(self, frame: Frame, s) -> None:
        """The caller's first step after the call: its gas is `resume_gas` plus what the
        callee handed back, its stack top is the call's result (1/0, or the new
        contract's address / 0) and its return data buffer the callee's output."""
        self._open.pop()
        frame.gas_used = max(0, frame.gas_limit - (s.gas_left - frame.resume_gas))
        output = bytes(frame.resume_in.returndata)
        frame.resume_in = None
        if s.stack_top:
            frame.status, frame.return_data = "return", output
        elif output or frame.reason:
            from ghost_cli.abi import raw_value

            frame.status = "revert"
            frame.reason = frame.reason or raw_value(output)
        else:
            frame.status = "error"

    def _function_of(self, msg) -> str | None:
        from ghost_cli.vm.zvm.container import selector

        abi = self.abi_of(msg.code_address or msg.address)
        wanted = bytes(msg.data[:4])
        for fn in abi.functions if abi is not None else ():
            if selector(fn.signature) == wanted:
                return fn.name
        return f"0x{wanted.hex()}" if wanted else None

    # ---- output ------------------------------------------------------------------------

    def locate_steps(self, locate: Callable[[bytes, int], str | None]) -> None:
        """Name where each recorded ZVM opcode came from: `locate(address, pc)` gives e.g.
        "increment (src/counter.zig:12)" from the build's debug info, or None."""
        def walk(frame: Frame) -> None:
            for item in frame.items:
                if isinstance(item, Frame):
                    walk(item)
                elif isinstance(item, StepItem) and frame.engine == "zvm":
                    item.function = locate(frame.address, item.pc)

        for f in self.frames:
            walk(f)

    def to_json(self) -> list[dict[str, Any]]:
        return [self._frame_json(f) for f in self.frames]

    def _frame_json(self, f: Frame) -> dict[str, Any]:
        from ghost_cli.abi import format_address

        return {"type": "frame", "engine": f.engine, "kind": f.kind,
                "address": format_address(f.address), "caller": format_address(f.caller),
                "function": f.function, "gas_limit": f.gas_limit, "gas_used": f.gas_used,
                "status": f.status, "return_data": "0x" + f.return_data.hex(),
                "reason": f.reason, "items": [self._item_json(i) for i in f.items]}

    def _item_json(self, item: HostItem | StepItem | Frame) -> dict[str, Any]:
        if isinstance(item, Frame):
            return self._frame_json(item)
        if isinstance(item, StepItem):
            return {"type": "op", "pc": item.pc, "opcode": item.opcode,
                    "gas_left": item.gas_left, "function": item.function}
        out: dict[str, Any] = {"type": "host", "name": item.name, "gas": item.gas}
        notes = item.notes
        if "key" in notes:
            out["key"] = key_text(notes["key"])
            out["key_hex"] = "0x" + notes["key"].hex()
            value = notes.get("value")
            out["value"] = None if value is None else "0x" + value.hex()
        if "event" in notes:
            out["event"] = self.event_json(notes["event"])
        if "message" in notes:
            out["message"] = notes["message"]
        if "reason" in notes:
            out["reason"] = notes["reason"]
        if item.result is not None:
            out["result"] = item.result
        if item.error is not None:
            out["error"] = item.error
        return out

    def event_json(self, e: Event) -> dict[str, Any]:
        return event_json(e, self.abi_of(e.address))

    def render(self) -> list[str]:
        """The tree as text lines, for the terminal."""
        lines: list[str] = []
        for f in self.frames:
            self._render_frame(f, "", lines)
        return lines

    def _render_frame(self, f: Frame, indent: str, lines: list[str]) -> None:
        from ghost_cli.abi import format_address

        gas = "?" if f.gas_used is None else f"{f.gas_used:,}"
        kind = "" if f.kind == "call" else f"{f.kind} "
        lines.append(f"{indent}[{f.engine}] {kind}{format_address(f.address)}"
                     f".{f.function or '?'}  gas {gas} / {f.gas_limit:,}")
        inner = indent + "  "
        for item in f.items:
            if isinstance(item, Frame):
                self._render_frame(item, inner, lines)
            elif isinstance(item, StepItem):
                where = f"  {item.function}" if item.function else ""
                lines.append(f"{inner}op {item.pc:>6} {item.opcode:<14} gas "
                             f"{item.gas_left:,}{where}")
            else:
                lines.append(inner + self._host_text(item))
        if f.status == "return":
            data = f" 0x{f.return_data.hex()}" if f.return_data else ""
            lines.append(f"{inner}← return{data}")
        elif f.status == "revert":
            lines.append(f"{inner}← revert: {f.reason or '(no reason)'}")
        elif f.status == "error":
            lines.append(f"{inner}← failed: {f.reason or '(unknown)'}")

    def _host_text(self, item: HostItem) -> str:
        from ghost_cli.abi import format_fields

        n = item.notes
        gas = f"  (gas {item.gas:,})"
        if item.error is not None:
            if item.name == "panic":  # how a contract stops itself, not a host call failing
                return f"{item.error}{gas}"
            return f"{item.name} failed: {item.error}{gas}"
        if item.name == "debug_log":
            return f"log: {n.get('message', '')}{gas}"
        if item.name == "emit_event" and "event" in n:
            ev = self.event_json(n["event"])
            fields = (format_fields(ev["fields"]) if ev["fields"] is not None
                      else " ".join(ev["topics"][1:] + [f"data={ev['data']}"]))
            return f"event {ev['name']} {fields}{gas}"
        if item.name == "revert":
            return f"revert {n.get('reason', '')!r}{gas}"
        if "key" in n:
            key, value = key_text(n["key"]), n.get("value")
            shown = "(absent)" if value is None else f"0x{value.hex()}"
            if item.name == "storage_write":
                return f"storage_write {key} = {shown}{gas}"
            if item.name == "storage_delete":
                return f"storage_delete {key}{gas}"
            if item.name == "storage_has":
                return f"storage_has {key} → {bool(item.result)}{gas}"
            return f"storage_read {key} → {shown}{gas}"
        if item.name in ("sig_verify", "multisig_verify", "bls_aggregate_verify",
                         "merkle_verify"):
            return f"{item.name} → {'valid' if item.result else 'invalid'}{gas}"
        result = "" if item.result is None else f" → {item.result}"
        return f"{item.name}{result}{gas}"


def key_text(key: bytes) -> str:
    """A storage key: printable ASCII as quoted text, anything else as 0x-hex; a printable
    prefix ending in a separator (`:/._-`) before binary bytes as both: 'bal:'+0x7a4b..."""
    n = 0
    while n < len(key) and 32 <= key[n] < 127:
        n += 1
    if key and n == len(key):
        return repr(key.decode())
    cut = max(key.rfind(sep, 0, n) for sep in (b":", b"/", b".", b"-", b"_")) + 1
    if cut >= 2:
        return f"{key[:cut].decode()!r}+0x{key[cut:].hex()}"
    return "0x" + key.hex()


def event_json(e: Event, abi: Abi | None) -> dict[str, Any]:
    """An event as JSON: raw topics and data, and its fields decoded by the emitting
    contract's ABI (`fields` is null when the ABI does not declare them)."""
    from ghost_cli.abi import decode_event, format_address

    return {"name": e.name, "address": format_address(e.address),
            "topics": ["0x" + t.hex() for t in e.topics], "data": "0x" + e.data.hex(),
            "fields": decode_event(abi, e.name, e.topics, e.data)}
