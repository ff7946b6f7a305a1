"""Hypothesis strategies for contract arguments, derived from ABI types.

Each strategy mixes two sources: the type's whole range (hypothesis' own generators, which
shrink towards zero and short values) and a dictionary of values bugs tend to hide behind
(0, 1, the type's limits, powers of two, and the literals written in the contract's own
source), so a branch such as `if (x == 1337)` is reached in a few hundred examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Sizes drawn for `bytes` and `string` (longer ones cost gas and find little more), and
#: most items in a slice (`T[]`).
MAX_DYNAMIC_LEN = 64
MAX_ITEMS = 8

_INT_LITERAL = re.compile(r"(?<![\w.])(0x[0-9a-fA-F_]+|0b[01_]+|0o[0-7_]+|[0-9][0-9_]*)(?![\w.])")
_STRING_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.){0,64})"')


@dataclass
class Dictionary:
    """Values worth trying first: integers and strings from the contract sources, and
    addresses (development accounts, deployed contracts)."""

    ints: set[int] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)
    addresses: list[bytes] = field(default_factory=list)

    def add_source(self, text: str) -> None:
        """Integer and string literals of Zig source `text` (comments included: cheap)."""
        for token in _INT_LITERAL.findall(text):
            try:
                self.ints.add(int(token.replace("_", ""), 0))
            except ValueError:
                continue
        for token in _STRING_LITERAL.findall(text):
            if "\\" not in token:
                self.strings.add(token)

    @classmethod
    def from_sources(cls, paths: Iterable[Path], addresses: Sequence[bytes] = ()) -> Dictionary:
        out = cls(addresses=[bytes(a) for a in addresses])
        for path in paths:
            try:
                out.add_source(Path(path).read_text(errors="replace"))
            except OSError:
                continue
        return out


def int_bounds(ty: str) -> tuple[int, int]:
    width = int(ty[1:])
    if ty[0] == "u":
        return 0, (1 << width) - 1
    return -(1 << (width - 1)), (1 << (width - 1)) - 1


def int_boundaries(ty: str, literals: Iterable[int] = ()) -> list[int]:
    """The dictionary of an integer type, in the order shrinking prefers (small first):
    0, 1, 2, the limits and their neighbours, powers of two and one less, -1 for signed
    types, and each literal of the contract with its neighbours, all within range."""
    lo, hi = int_bounds(ty)
    width = int(ty[1:])
    values = {0, 1, 2, lo, lo + 1, hi, hi - 1}
    for k in range(width + 1):
        values |= {1 << k, (1 << k) - 1, -(1 << k), -(1 << k) + 1}
    for n in literals:
        values |= {n, n - 1, n + 1, -n}
    return sorted((v for v in values if lo <= v <= hi), key=lambda v: (abs(v), v < 0))


def strategy_for(ty: Any, dictionary: Dictionary | None = None, abi: Any = None):
    """A hypothesis strategy for values of ABI type `ty` (type text or tree; struct and
    enum names resolved in `abi`), in the codec's Python form (docs/abi.md)."""
    from hypothesis import strategies as st

    from ..abi import types as t

    d = dictionary or Dictionary()
    ty = t.parse_type(ty, abi)
    if isinstance(ty, t.IntType):
        lo, hi = ty.lo, ty.hi
        # The contract's own literals get half of the draws: among the hundreds of
        # boundary values (which hold their neighbours) they would come up too rarely.
        literals = sorted({n for n in d.ints if lo <= n <= hi}, key=lambda v: (abs(v), v < 0))
        branches = [st.sampled_from(int_boundaries(ty.name, d.ints)), st.integers(lo, hi)]
        if literals:
            branches[1:1] = [st.sampled_from(literals)] * 2
        return st.one_of(*branches)
    if isinstance(ty, t.BoolType):
        return st.booleans()
    if isinstance(ty, t.AddressType):
        known = [bytes(20), *d.addresses]
        return st.one_of(st.sampled_from(known), st.binary(min_size=20, max_size=20))
    if isinstance(ty, t.FixedBytesType):
        n = ty.n
        words = sorted({w.encode().ljust(n, b"\0") for w in d.strings if len(w.encode()) <= n})
        exact = st.binary(min_size=n, max_size=n)
        return st.one_of(exact, st.sampled_from(words)) if words else exact
    if isinstance(ty, t.BytesType):
        words = sorted({w.encode() for w in d.strings}, key=lambda b: (len(b), b))
        any_bytes = st.binary(max_size=MAX_DYNAMIC_LEN)
        return st.one_of(any_bytes, st.sampled_from(words)) if words else any_bytes
    if isinstance(ty, t.StringType):
        words = sorted(d.strings, key=lambda w: (len(w), w))
        # no surrogates: a string is UTF-8 on the wire
        any_text = st.text(st.characters(exclude_categories=("Cs",)),
                           max_size=MAX_DYNAMIC_LEN // 2)
        return st.one_of(any_text, st.sampled_from(words)) if words else any_text
    if isinstance(ty, t.ArrayType):
        inner = strategy_for(ty.elem, d, abi)
        return st.lists(inner, min_size=ty.n, max_size=ty.n)
    if isinstance(ty, t.SliceType):
        return st.lists(strategy_for(ty.elem, d, abi), max_size=MAX_ITEMS)
    if isinstance(ty, t.OptionalType):
        return st.none() | strategy_for(ty.inner, d, abi)
    if isinstance(ty, t.TupleType):
        return st.tuples(*(strategy_for(e, d, abi) for e in ty.elems))
    if isinstance(ty, t.StructType):
        return st.fixed_dictionaries({n: strategy_for(f, d, abi) for n, f in ty.fields})
    if isinstance(ty, t.EnumType):
        return st.sampled_from([n for n, _ in ty.variants])
    from ..exceptions import UsageError

    raise UsageError(f"cannot fuzz ABI type {ty}")


def simplest(ty: Any, abi: Any = None) -> Any:
    """The simplest value of ABI type `ty`, in the codec's Python form (0, false, the zero
    address, empty or zeroed bytes, "", no items, null, the first variant): what shrinking
    an invariant's sequence tries for each argument."""
    from ..abi import types as t

    ty = t.parse_type(ty, abi)
    if isinstance(ty, t.IntType):
        return 0
    if isinstance(ty, t.BoolType):
        return False
    if isinstance(ty, t.AddressType):
        return bytes(20)
    if isinstance(ty, t.FixedBytesType):
        return bytes(ty.n)
    if isinstance(ty, t.BytesType):
        return b""
    if isinstance(ty, t.StringType):
        return ""
    if isinstance(ty, t.ArrayType):
        return [simplest(ty.elem, abi)] * ty.n
    if isinstance(ty, t.SliceType):
        return []
    if isinstance(ty, t.OptionalType):
        return None
    if isinstance(ty, t.TupleType):
        return tuple(simplest(e, abi) for e in ty.elems)
    if isinstance(ty, t.StructType):
        return {n: simplest(f, abi) for n, f in ty.fields}
    if isinstance(ty, t.EnumType):
        return ty.variants[0][0]
    from ..exceptions import UsageError

    raise UsageError(f"cannot fuzz ABI type {ty}")


def cli_value(ty: Any, value: Any, abi: Any = None) -> str:
    """`value` as `ghost call` parses an argument of type `ty` (shell-quoted when needed):
    scalars as themselves, compound types as JSON (docs/abi.md)."""
    import json
    import shlex

    from ..abi import format_address
    from ..abi import types as t

    ty = t.parse_type(ty, abi)
    if isinstance(ty, t.BoolType):
        text = "true" if value else "false"
    elif isinstance(ty, t.AddressType):
        text = format_address(bytes(value))
    elif isinstance(ty, (t.BytesType, t.FixedBytesType)):
        text = "0x" + bytes(value).hex()
    elif isinstance(ty, (t.IntType, t.StringType)):
        text = str(value)
    else:
        text = json.dumps(ty.to_json(value), ensure_ascii=False)
    return shlex.quote(text)
