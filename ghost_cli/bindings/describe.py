"""A contract's ABI for people and for --json: what `ghost inspect` prints and what
`ghost call NAME --help` lists. `mutates` is None for an ABI that does not say (built
before ghost recorded it): such functions show no `view`/`mutates` mark."""

from __future__ import annotations

from typing import Any

from ..abi import Abi


def function_json(fn, raw: dict[str, Any]) -> dict[str, Any]:
    return {"name": fn.name, "signature": signature(fn),
            "inputs": [{"name": p.name, "type": p.type} for p in fn.inputs],
            "output": fn.output, "can_fail": fn.can_fail, "doc": fn.doc,
            "mutates": fn.mutates}


def to_json(abi: Abi, raw: dict[str, Any]) -> dict[str, Any]:
    """Every part of the ABI, each key always present (empty when the ABI has none)."""
    return {
        "version": abi.version,
        "functions": [function_json(f, raw) for f in abi.functions],
        "constructor": None if abi.constructor is None else function_json(abi.constructor,
                                                                          raw),
        "events": [{"name": e.name, "fields": [
            {"name": f.name, "type": f.type, "indexed": f.indexed} for f in e.fields]}
            for e in abi.events],
        "types": [t.to_json() for t in abi.types],
        "errors": list(abi.errors),
    }


def signature(fn) -> str:
    """`transfer(to: address, amount: u64) -> bool`; `!` before the result of a function
    that can fail (it reverts with a Zig error's name)."""
    params = ", ".join(f"{p.name}: {p.type}" for p in fn.inputs)
    bang = "!" if fn.can_fail else ""
    result = f" -> {bang}{fn.output}" if fn.output else (" -> !void" if fn.can_fail else "")
    return f"{fn.name}({params}){result}"


def _kind(m: bool | None) -> str:
    return {True: "mutates", False: "view", None: ""}[m]


def _doc(fn) -> list[str]:
    return [f"      {line}" for line in fn.doc.strip().splitlines()] if fn.doc else []


def function_lines(fns, raw: dict[str, Any]) -> list[str]:
    sigs = [signature(f) for f in fns]
    width = max((len(s) for s in sigs), default=0)
    out = []
    for fn, sig in zip(fns, sigs, strict=True):
        out.append(f"  {sig:<{width}}  {_kind(fn.mutates)}".rstrip())
        out.extend(_doc(fn))
    return out


def event_line(e) -> str:
    fields = ", ".join(f"{f.name}: {f.type}{' indexed' if f.indexed else ''}"
                       for f in e.fields)
    return f"  {e.name}({fields})"


def type_line(t) -> str:
    if t.kind == "enum":
        return f"  enum {t.name} {{ " + ", ".join(f"{n} = {v}" for n, v in t.variants) + " }"
    return f"  struct {t.name} {{ " + ", ".join(f"{p.name}: {p.type}" for p in t.fields) + " }"


def text(name: str, origin: str, abi: Abi, raw: dict[str, Any]) -> list[str]:
    """The whole ABI as `ghost inspect` prints it: one section per part that is there."""
    lines = [f"{name}  ({origin}, ABI version {abi.version})"]
    lines += ["", "Functions:", *function_lines(abi.functions, raw)]
    if abi.constructor is not None:
        lines += ["", "Constructor (runs once, in the deploy transaction):",
                  *function_lines([abi.constructor], raw)]
    if abi.events:
        lines += ["", "Events:", *(event_line(e) for e in abi.events)]
    if abi.types:
        lines += ["", "Types:", *(type_line(t) for t in abi.types)]
    if abi.errors:
        lines += ["", "Errors:", "  " + ", ".join(abi.errors)]
    return lines


def _types_of(fn) -> list[str]:
    return [p.type for p in fn.inputs] + [fn.output or ""]


def referenced_types(abi: Abi, type_texts: list[str]) -> list:
    """The struct/enum declarations the given type strings reach (for a function's help)."""
    import re

    seen: list = []
    todo = list(type_texts)
    while todo:
        for word in re.findall(r"[A-Za-z_]\w*", todo.pop()):
            decl = abi.type_decl(word)
            if decl is not None and decl not in seen:
                seen.append(decl)
                todo.extend(p.type for p in decl.fields)
    return seen


def call_help(name: str, abi: Abi, raw: dict[str, Any], *, view_only: bool) -> list[str]:
    """`ghost call NAME --help`: the contract's functions (query: those that do not
    mutate, when the ABI says which do)."""
    fns = [f for f in abi.functions if not (view_only and f.mutates is True)]
    cmd = "query" if view_only else "call"
    head = (f"Functions of {name} (a query runs them read-only: nothing is recorded):"
            if view_only else f"Functions of {name}:")
    lines = [f"Usage: ghost {cmd} {name} FUNCTION [ARGS]...", "", head,
             *function_lines(fns, raw)]
    used = referenced_types(abi, [t for f in fns for t in _types_of(f)])
    if used:  # in the ABI's order: a type after the types it uses
        lines += ["", "Types:", *(type_line(t) for t in abi.types if t in used)]
    lines += ["", f"`ghost {cmd} {name} FUNCTION --help` shows one function's arguments; "
                  "compound arguments are JSON text, e.g. '{\"a\": 1}' or '[1,2]'.",
              f"Options (--network, --gas-limit, --json, ...): `ghost {cmd} --help`."]
    return lines


def function_help(name: str, abi: Abi, raw: dict[str, Any], function: str, *,
                  view_only: bool) -> list[str]:
    fn = abi.function(function)  # NotFoundError naming the functions there are
    cmd = "query" if view_only else "call"
    args = " ".join(p.name.upper() for p in fn.inputs)
    lines = [f"Usage: ghost {cmd} {name} {fn.name} {args}".rstrip(), "",
             f"  {signature(fn)}  {_kind(fn.mutates)}".rstrip(), *_doc(fn)]
    if fn.inputs:
        width = max(len(p.name) for p in fn.inputs)
        lines += ["", "Arguments:", *(f"  {p.name.upper():<{width}}  {p.type}"
                                      for p in fn.inputs)]
    decls = referenced_types(abi, _types_of(fn))
    if decls:
        lines += ["", "Types:", *(type_line(t) for t in decls)]
    if fn.can_fail and abi.errors:
        lines += ["", "Can revert with: " + ", ".join(abi.errors)]
    lines += ["", f"Options (--network, --gas-limit, --json, ...): `ghost {cmd} --help`."]
    return lines
