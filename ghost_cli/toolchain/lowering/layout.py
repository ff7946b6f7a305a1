"""Where lowered code keeps things in ZVM memory (32-byte words, big-endian):

    0x00  scratch word (the dispatcher's revert message)
    0x20  frame pointer of the innermost recursive call (lowest address of its frame)
    0x40  current size of linear memory in pages (only when the module grows memory)
    0x60  wasm globals, one word each
    ...   spill slots for a host call's arguments (only when a call needs them: hostcalls.py)
    ...   fixed frames of the functions that cannot recurse
    ...   the frame stack of recursive functions, growing down from its top
    base  wasm linear memory, byte for byte: wasm address a is ZVM address base + a

A frame is a word holding the return address followed by one word per local
(parameters first). Linear memory comes last so that ZVM's memory expansion charges only
for what the contract touches.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...vm.types import Limits
from .wasm_code import PAGE

WORD = 32
SCRATCH = 0x00
FP_SLOT = 0x20
PAGES_SLOT = 0x40
GLOBALS_BASE = 0x60
#: Room for recursive frames: enough for a few hundred nested calls of small functions.
FRAME_STACK_BYTES = 32 * 1024
#: The WebAssembly engine's limit (16 MiB): memory.grow returns -1 beyond it. On ZVM the
#: same limit holds for all of memory, so the pages must also fit above the area below
#: linear memory (`plan`): one page fewer for most contracts.
MAX_PAGES = Limits().memory_bytes // PAGE


@dataclass(frozen=True)
class Layout:
    globals_base: int
    static_frames: dict[int, int]  # function index -> address of its fixed frame
    frame_words: dict[int, int]  # function index -> words per frame (return slot + locals)
    stack_limit: int  # lowest address a recursive frame may use
    stack_top: int  # the frame pointer before any recursive call
    mem_base: int
    initial_pages: int
    max_pages: int
    grows: bool  # memory.grow is used: the size lives in PAGES_SLOT
    spill_base: int = 0  # the first spill slot (hostcalls.py), when there are any

    def global_addr(self, index: int) -> int:
        return self.globals_base + WORD * index

    def is_static(self, func: int) -> bool:
        return func in self.static_frames

    def local_offset(self, index: int) -> int:
        """Offset of local `index` from the start of its frame."""
        return WORD * (1 + index)


def plan(
    functions: dict[int, int],  # function index -> number of locals (params included)
    recursive: frozenset[int],
    global_count: int,
    initial_pages: int,
    declared_max: int | None,
    grows: bool,
    spill_words: int = 0,
) -> Layout:
    at = GLOBALS_BASE + WORD * global_count
    spill_base = at
    at += WORD * spill_words
    static: dict[int, int] = {}
    words: dict[int, int] = {}
    for func in sorted(functions):
        words[func] = 1 + functions[func]
        if func not in recursive:
            static[func] = at
            at += WORD * words[func]
    stack_limit = at
    if recursive:
        at += FRAME_STACK_BYTES
    stack_top = at
    # Pages that fit in ZVM memory above `at`: a grow past them answers -1 rather than
    # succeed with a top page no access can reach (memory_limit).
    fits = min(MAX_PAGES, (Limits().memory_bytes - at) // PAGE)
    max_pages = fits if declared_max is None else min(declared_max, fits)
    return Layout(GLOBALS_BASE, static, words, stack_limit, stack_top, at,
                  initial_pages, max(max_pages, initial_pages), grows, spill_base)
