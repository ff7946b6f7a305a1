"""Hypothesis strategies for ABI types and their values (property tests, fuzzing).

    from ghost_cli.abi.strategies import strategy_for, abi_types
    strategy_for("Pair[]", abi)   # Python values of that type, as the codec takes them
    abi_types()                   # (type text, [struct/enum declarations]) pairs

Values are in the codec's form (docs/abi.md, "Python values"): ints, bools, bytes (also
for addresses), str, lists, tuples, dicts for structs, variant names for enums, None for
an empty optional. hypothesis is a test dependency: it is imported when a strategy is
built, never when this module is.
"""

from __future__ import annotations

from typing import Any

from .types import (
    ADDRESS_LEN,
    AbiType,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    EnumType,
    FixedBytesType,
    IntType,
    OptionalType,
    SliceType,
    StringType,
    StructType,
    TupleType,
    parse_type,
)


def strategy_for(ty: str | AbiType, abi: Any = None, max_len: int = 8) -> Any:
    """A strategy of values of `ty` (names resolved in `abi`); slices, bytes and strings
    hold at most `max_len` items."""
    from hypothesis import strategies as st

    t = parse_type(ty, abi)
    if isinstance(t, BoolType):
        return st.booleans()
    if isinstance(t, IntType):
        return st.integers(t.lo, t.hi)
    if isinstance(t, AddressType):
        return st.binary(min_size=ADDRESS_LEN, max_size=ADDRESS_LEN)
    if isinstance(t, FixedBytesType):
        return st.binary(min_size=t.n, max_size=t.n)
    if isinstance(t, BytesType):
        return st.binary(max_size=max_len)
    if isinstance(t, StringType):
        return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_len)
    if isinstance(t, ArrayType):
        inner = strategy_for(t.elem, abi, max_len)
        return st.lists(inner, min_size=t.n, max_size=t.n)
    if isinstance(t, SliceType):
        return st.lists(strategy_for(t.elem, abi, max_len), max_size=max_len)
    if isinstance(t, OptionalType):
        return st.none() | strategy_for(t.inner, abi, max_len)
    if isinstance(t, TupleType):
        return st.tuples(*(strategy_for(e, abi, max_len) for e in t.elems))
    if isinstance(t, StructType):
        return st.fixed_dictionaries({n: strategy_for(f, abi, max_len) for n, f in t.fields})
    if isinstance(t, EnumType):
        return st.sampled_from([n for n, _ in t.variants])
    raise TypeError(f"no strategy for {t!r}")


_SCALAR_NAMES = (["bool", "address", "bytes", "string"]
                 + [f"{s}{w}" for s in "ui" for w in (8, 16, 32, 64, 128, 256)]
                 + [f"bytes{n}" for n in (1, 2, 4, 8, 20, 31, 32)])


def abi_types(max_leaves: int = 6) -> Any:
    """A strategy of `(type text, declarations)`: random nested types (arrays, slices,
    optionals, tuples, structs, enums over the scalars), with the struct and enum
    declarations they use, in ABI JSON form."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> tuple[str, list[dict[str, Any]]]:
        decls: list[dict[str, Any]] = []

        def enum_leaf() -> str:
            name = f"E{len(decls)}"
            values = draw(st.lists(st.integers(0, 255), min_size=1, max_size=4, unique=True))
            decls.append({"kind": "enum", "name": name, "variants": [
                {"name": f"v{i}", "value": v} for i, v in enumerate(values)]})
            return name

        leaf = st.sampled_from(_SCALAR_NAMES) | st.just("enum")

        def extend(children: Any) -> Any:
            return st.one_of(
                st.tuples(st.just("array"), children, st.integers(1, 3)),
                st.tuples(st.just("slice"), children),
                st.tuples(st.just("opt"), children),
                st.tuples(st.just("tuple"), st.lists(children, min_size=1, max_size=3)),
                st.tuples(st.just("struct"), st.lists(children, min_size=1, max_size=3)),
            )

        tree = draw(st.recursive(leaf, extend, max_leaves=max_leaves))

        def text(node: Any) -> str:
            if isinstance(node, str):
                return enum_leaf() if node == "enum" else node
            kind = node[0]
            if kind == "array":
                inner = text(node[1])
                return f"{inner}[{node[2] + 32 if inner == 'u8' else node[2]}]"
            if kind == "slice":
                inner = text(node[1])
                return "bytes" if inner == "u8" else inner + "[]"
            if kind == "opt":
                inner = text(node[1])
                return inner if inner.endswith("?") else inner + "?"
            parts = [text(c) for c in node[1]]
            if kind == "tuple":
                return "(" + ",".join(parts) + ")"
            name = f"S{len(decls)}"
            decls.append({"kind": "struct", "name": name, "fields": [
                {"name": f"f{i}", "type": p} for i, p in enumerate(parts)]})
            return name

        return text(tree), decls

    return build()
