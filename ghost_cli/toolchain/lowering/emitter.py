"""A ZVM assembly buffer: lowered code is written as .zasm text and assembled by the
ZVM assembler (ghost_cli.vm.zvm.assembler), which resolves and relaxes label pushes.

Every label the lowering defines is a jump target, so `label()` writes it together with
its JUMPDEST; `mark()` names a position that is never jumped to (the data blob).
"""

from __future__ import annotations

from ...vm.zvm.assembler import assemble
from ...vm.zvm.opcodes import OPCODES

#: A byte that is no ZVM opcode: executing it is a clean InvalidOpcodeError, the trap.
TRAP_BYTE = 0xFE
assert TRAP_BYTE not in OPCODES


class Asm:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self._next = 0

    def fresh(self, hint: str = "L") -> str:
        self._next += 1
        return f"{hint}{self._next}"

    def op(self, *names: str) -> None:
        self.lines.extend(names)

    def push(self, value: int) -> None:
        self.lines.append(f"PUSH {value}")

    def push_label(self, label: str, width: int | None = None) -> None:
        self.lines.append(f"PUSH{width or ''} @{label}")

    def label(self, label: str) -> None:
        self.lines.append(f"{label}: JUMPDEST")

    def mark(self, label: str) -> None:
        self.lines.append(f"{label}:")

    def jump(self, label: str) -> None:
        self.lines.extend((f"PUSH @{label}", "JUMP"))

    def jumpi(self, label: str) -> None:
        self.lines.extend((f"PUSH @{label}", "JUMPI"))

    def hostcall(self, index: int) -> None:
        self.lines.append(f"HOSTCALL {index}")

    def raw(self, data: bytes) -> None:
        if data:
            self.lines.append(f".bytes 0x{data.hex()}")

    def trap(self) -> None:
        self.lines.append(f".byte 0x{TRAP_BYTE:02x}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def assemble(self, label_offsets: dict[str, int] | None = None) -> bytes:
        return assemble(self.text(), label_offsets)


def immediate_overrun(code: bytes, start: int) -> int:
    """How many bytes an instruction starting at or after `start` reads past the end of
    `code` (a PUSH opcode byte inside appended data would otherwise be truncated)."""
    pc = start
    while pc < len(code):
        op = OPCODES.get(code[pc])
        pc += 1 + (op.immediate if op is not None else 0)
    return pc - len(code)
