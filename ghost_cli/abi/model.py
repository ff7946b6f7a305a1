"""The ABI document: functions, constructor, events, struct/enum declarations, error names.

A contract's `pub fn init` is its constructor: it runs once, inside the deploy
transaction, with the deployer as caller. The ABI keeps it apart from the callable
functions (`Abi.constructor`), so nothing can select it afterwards.

ABI JSON version 2 (docs/abi.md, "ABI JSON") adds `types` and `errors`; version 1 (no
`version` key, or 1) is read unchanged. Types are kept as their strings (`"Pair[]"`); a
function knows the ABI it belongs to, so `parse_type(p.type, fn.scope)` resolves names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The name of a contract's constructor function.
CONSTRUCTOR = "init"
#: The ABI JSON version this code writes.
ABI_VERSION = 2


@dataclass(frozen=True)
class Param:
    name: str
    type: str


@dataclass(frozen=True)
class Function:
    name: str
    inputs: tuple[Param, ...]
    output: str | None  # None: returns nothing
    can_fail: bool = False  # declared `!T`: a Zig error becomes a revert naming it
    doc: str = ""
    #: The Abi holding this function (struct/enum names resolve there); not compared.
    scope: Any = field(default=None, compare=False, repr=False, hash=False)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(p.type for p in self.inputs)})"

    def to_json(self, version: int = 1) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "inputs": [{"name": p.name, "type": p.type} for p in self.inputs],
            "output": self.output,
        }
        if self.can_fail or version >= 2:
            out["can_fail"] = self.can_fail
        if self.doc:
            out["doc"] = self.doc
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Function:
        return cls(
            name=data["name"],
            inputs=tuple(Param(p["name"], p["type"]) for p in data.get("inputs", [])),
            output=data.get("output"),
            can_fail=bool(data.get("can_fail", False)),
            doc=data.get("doc", ""),
        )


@dataclass(frozen=True)
class EventField:
    name: str
    type: str
    indexed: bool = False  # carried in a topic (after the name) rather than in the data


@dataclass(frozen=True)
class EventSpec:
    """An event a contract emits: topic 0 is its name; indexed fields fill topics 1..3 in
    order, the others are the data, encoded as call data is. No fields: only the name is
    known, and its topics and data print raw."""

    name: str
    fields: tuple[EventField, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "fields": [
            {"name": f.name, "type": f.type, **({"indexed": True} if f.indexed else {})}
            for f in self.fields]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventSpec:
        return cls(data["name"], tuple(
            EventField(f["name"], f["type"], bool(f.get("indexed", False)))
            for f in data.get("fields", [])))


@dataclass(frozen=True)
class TypeDecl:
    """A struct (`fields`, in declaration order) or enum (`variants`: name and u8 value)."""

    kind: str  # "struct" | "enum"
    name: str
    fields: tuple[Param, ...] = ()
    variants: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        if self.kind == "enum":
            return {"kind": "enum", "name": self.name,
                    "variants": [{"name": n, "value": v} for n, v in self.variants]}
        return {"kind": "struct", "name": self.name,
                "fields": [{"name": p.name, "type": p.type} for p in self.fields]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TypeDecl:
        return cls(
            kind=data["kind"], name=data["name"],
            fields=tuple(Param(f["name"], f["type"]) for f in data.get("fields", [])),
            variants=tuple((v["name"], int(v["value"])) for v in data.get("variants", [])))


@dataclass(frozen=True)
class Abi:
    functions: tuple[Function, ...]
    version: int = 1
    constructor: Function | None = None  # `init`: runs once, in the deploy transaction
    events: tuple[EventSpec, ...] = ()
    types: tuple[TypeDecl, ...] = ()  # structs and enums the functions and events use
    errors: tuple[str, ...] = ()  # Zig error names a `!T` function may revert with
    #: parsed type trees by type text (see types.parse_type); not compared.
    _type_cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False,
                                        repr=False, hash=False)

    def __post_init__(self) -> None:
        for f in (*self.functions, *([self.constructor] if self.constructor else [])):
            if f.scope is None:
                object.__setattr__(f, "scope", self)

    def type_decl(self, name: str) -> TypeDecl | None:
        return next((t for t in self.types if t.name == name), None)

    def event(self, name: str) -> EventSpec | None:
        return next((e for e in self.events if e.name == name), None)

    def function(self, name: str) -> Function:
        """A callable function. The constructor is not one: it already ran at deploy."""
        for f in self.functions:
            if f.name == name:
                return f
        from ..exceptions import NotFoundError

        if self.constructor is not None and name == self.constructor.name:
            raise NotFoundError(
                f"{name!r} is the contract's constructor: it ran once, in the deploy "
                "transaction, and cannot be called again", function=name)
        known = ", ".join(f.name for f in self.functions) or "none"
        raise NotFoundError(f"no function {name!r} in the contract (functions: {known})")

    def entry(self, name: str) -> Function:
        """A function or the constructor: what an engine may be asked to run."""
        if self.constructor is not None and name == self.constructor.name:
            return self.constructor
        return self.function(name)

    def to_json(self) -> dict[str, Any]:
        v = self.version
        out: dict[str, Any] = {"version": v,
                               "functions": [f.to_json(v) for f in self.functions]}
        if v >= 2:  # every key present: readers need not guess
            out["constructor"] = None if self.constructor is None \
                else self.constructor.to_json(v)
            out["events"] = [e.to_json() for e in self.events]
            out["types"] = [t.to_json() for t in self.types]
            out["errors"] = list(self.errors)
            return out
        if self.events:  # absent rather than empty: version-1 ABIs keep their bytes
            out["events"] = [e.to_json() for e in self.events]
        if self.constructor is not None:
            out["constructor"] = self.constructor.to_json(v)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Abi:
        ctor = data.get("constructor")
        return cls(
            functions=tuple(Function.from_json(f) for f in data.get("functions", [])),
            version=int(data.get("version", 1)),
            events=tuple(EventSpec.from_json(e) for e in data.get("events", [])),
            constructor=None if ctor is None else Function.from_json(ctor),
            types=tuple(TypeDecl.from_json(t) for t in data.get("types", [])),
            errors=tuple(str(e) for e in data.get("errors", [])),
        )
