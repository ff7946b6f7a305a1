"""Linear memory over ZVM memory: bounds checks, little-endian loads and stores.

Wasm address a lives at ZVM address base + a. ZVM words are big-endian, wasm values
little-endian, so a load of n bytes reads the word that *ends* at the last byte (its low
n bytes are the value, byte-reversed), then reverses the bytes with log2(n) mask-and-
shift steps; a store reverses the value the same way and merges it into the word that
ends at its last byte, keeping the bytes before it. Nothing past the wasm memory's last
byte is touched, so ZVM charges expansion only for what the contract uses.

Every access is checked against the memory's current size and traps when out of
bounds, as in WebAssembly. Loads and stores of 2, 4 and 8 bytes are shared subroutines
(one copy each, called with a return address), single bytes are inline.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layout import PAGES_SLOT, Layout

OUT_OF_BOUNDS = "out of bounds memory access"
PAGE_SHIFT = 16  # 64 KiB pages

#: wasm memory instruction -> (bytes, signed, result bits or 0 for a store)
ACCESS: dict[str, tuple[int, bool, int]] = {
    "i32.load": (4, False, 32), "i64.load": (8, False, 64),
    "i32.load8_s": (1, True, 32), "i32.load8_u": (1, False, 32),
    "i32.load16_s": (2, True, 32), "i32.load16_u": (2, False, 32),
    "i64.load8_s": (1, True, 64), "i64.load8_u": (1, False, 64),
    "i64.load16_s": (2, True, 64), "i64.load16_u": (2, False, 64),
    "i64.load32_s": (4, True, 64), "i64.load32_u": (4, False, 64),
    "i32.store": (4, False, 0), "i64.store": (8, False, 0),
    "i32.store8": (1, False, 0), "i32.store16": (2, False, 0),
    "i64.store8": (1, False, 0), "i64.store16": (2, False, 0), "i64.store32": (4, False, 0),
}


@dataclass(frozen=True)
class MemoryOps:
    layout: Layout

    @property
    def size_bytes(self) -> int:
        return self.layout.initial_pages << PAGE_SHIFT

    def current_size(self) -> list[str]:
        """Push the memory size in bytes."""
        if self.layout.grows:
            return [f"PUSH {PAGES_SLOT}", "MLOAD", f"PUSH {PAGE_SHIFT}", "SHL"]
        return [f"PUSH {self.size_bytes}"]

    def check(self, n: int, depth: int = 1) -> list[str]:
        """Trap unless [ea, ea + n) is inside memory; ea is the `depth`-th stack item."""
        dup = f"DUP{depth}"
        if self.layout.grows:
            return [dup, f"PUSH {n}", "ADD", *self.current_size(), "LT", f"TRAP:{OUT_OF_BOUNDS}"]
        if self.size_bytes < n:
            return ["PUSH 1", f"TRAP:{OUT_OF_BOUNDS}"]
        return [dup, f"PUSH {self.size_bytes - n}", "LT", f"TRAP:{OUT_OF_BOUNDS}"]

    def load_byte(self) -> list[str]:
        """[ea] -> [byte]; the word ending at the byte keeps expansion inside memory."""
        return [*self.check(1), f"PUSH {self.layout.mem_base - 31}", "ADD", "MLOAD",
                "PUSH 255", "AND"]

    def store_byte(self) -> list[str]:
        """[ea, value] -> []"""
        return [*self.check(1, depth=2), "SWAP1", f"PUSH {self.layout.mem_base}", "ADD",
                "MSTORE8"]

    def load_routine(self, n: int) -> list[str]:
        """Body of the n-byte load subroutine: [ret, ea] -> [value], jumps back."""
        return [*self.check(n), f"PUSH {self.layout.mem_base + n - 32}", "ADD", "MLOAD",
                *byte_swap(n), "SWAP1", "JUMP"]

    def store_routine(self, n: int) -> list[str]:
        """Body of the n-byte store subroutine: [ret, value, ea] -> [], jumps back."""
        keep = ((1 << 256) - 1) ^ ((1 << (8 * n)) - 1)
        return [*self.check(n), f"PUSH {self.layout.mem_base + n - 32}", "ADD", "SWAP1",
                *byte_swap(n), "DUP2", "MLOAD", f"PUSH {keep}", "AND", "OR", "SWAP1",
                "MSTORE", "JUMP"]

    def grow(self, fail: str, done: str) -> list[str]:
        """[delta] -> [old pages] or [0xffffffff] past the maximum; labels are fresh."""
        return [
            f"PUSH {PAGES_SLOT}", "MLOAD", "DUP1", "DUP3", "ADD",
            "DUP1", f"PUSH {self.layout.max_pages}", "LT", f"PUSH @{fail}", "JUMPI",
            f"PUSH {PAGES_SLOT}", "MSTORE", "SWAP1", "POP", f"PUSH @{done}", "JUMP",
            f"{fail}: JUMPDEST", "POP", "POP", "POP", f"PUSH {0xFFFF_FFFF}",
            f"{done}: JUMPDEST",
        ]


def byte_swap(n: int) -> list[str]:
    """Reverse the low n bytes of the top word (bits above them are ignored)."""
    out: list[str] = []
    g = 1
    while g < n:
        group = "00" * g + "ff" * g
        m = int(group * (n // (2 * g)), 16)
        out += ["DUP1", f"PUSH {m}", "AND", f"PUSH {8 * g}", "SHL", "SWAP1",
                f"PUSH {8 * g}", "SHR", f"PUSH {m}", "AND", "OR"]
        g *= 2
    return out
