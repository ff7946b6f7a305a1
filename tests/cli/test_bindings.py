"""`ghost bindings python|zig`: generated clients imported and used against the sandbox
(for every template, the counter also through the test fixtures' `deploy`), a struct-
and enum-heavy client (tests/cli/contracts/kinds.zig), and the Zig module under `zig
test` against the Python codec's bytes."""

from __future__ import annotations

import dataclasses
import enum
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

from ghost_cli.abi import Abi, encode_call, parse_type
from ghost_cli.abi.types import (
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
)
from ghost_cli.bindings import python as gen_python
from ghost_cli.bindings import zig as gen_zig
from ghost_cli.bindings.runtime import to_wire
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import ExecutionError, GhostError
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.engines import read_module_metadata

TEMPLATES = ("counter", "token", "storage", "arithmetic", "signature", "rollup", "ballot")


def _ctor_args(template: str) -> list:
    """Constructor arguments that make each template's `init` succeed."""
    if template == "token":
        return [1000]
    from ghost_cli.crypto.keypair import KeyPair

    if template == "signature":
        from ghost_cli.crypto.multisig import MultisigAccount

        owner = KeyPair.generate("ml-dsa-65", b"\x01" * 32)
        members = [KeyPair.generate("ed25519", bytes([i + 2]) * 32) for i in range(2)]
        return [owner.public_key, MultisigAccount(1, tuple(m.public_key for m in members))
                .to_bytes()]
    if template == "rollup":
        from ghost_cli.crypto.aggregate import prove_possession

        keys = [KeyPair.generate("bls12-381", bytes([0x40 + i]) * 32) for i in range(2)]
        return [b"".join(k.public_key[1:] for k in keys),
                b"".join(prove_possession(k.secret_key) for k in keys), 2]
    return []


@pytest.fixture(scope="module")
def template_codes(tmp_path_factory, counter_code, token_code) -> dict[str, bytes]:
    """Every template built once (counter and token come from the session's builds)."""
    codes = {"counter": counter_code, "token": token_code}
    for t in TEMPLATES[2:]:
        root = new_project(t, t, tmp_path_factory.mktemp(t) / t)
        [result] = build_project(load_project(root))
        codes[t] = Path(result.path).read_bytes()
    return codes


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def _generated(tmp_path: Path, name: str, code: bytes, tag: str = ""):
    raw = read_module_metadata(code)["abi"]
    path = tmp_path / f"{name}_client{tag}.py"
    path.write_text(gen_python.generate(name, Abi.from_json(raw), raw))
    return _import(path, f"{name}_client{tag}")


def sample(ty) -> object:
    """A small value of every ABI type (as Python the codec accepts)."""
    if isinstance(ty, BoolType):
        return True
    if isinstance(ty, IntType):
        return 3
    if isinstance(ty, AddressType):
        return bytes(range(1, 21))
    if isinstance(ty, FixedBytesType):
        return b"\x05" * ty.n
    if isinstance(ty, BytesType):
        return b"\x01\x02"
    if isinstance(ty, StringType):
        return "k"
    if isinstance(ty, ArrayType):
        return [sample(ty.elem)] * ty.n
    if isinstance(ty, SliceType):
        return [sample(ty.elem)]
    if isinstance(ty, OptionalType):
        return sample(ty.inner)
    if isinstance(ty, TupleType):
        return tuple(sample(t) for t in ty.elems)
    if isinstance(ty, EnumType):
        return ty.variants[-1][0]
    if isinstance(ty, StructType):
        return {n: sample(t) for n, t in ty.fields}
    raise AssertionError(ty)


def _outcome(run):
    try:
        return ("ok", run())
    except ExecutionError as exc:
        return (type(exc).__name__, getattr(exc, "reason", None))


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_bindings_match_the_network(template, template_codes, tmp_path):
    """Each function through the generated client gives what the network gives for the
    same call (value, or the same failure), with Python types the hints name."""
    code = template_codes[template]
    mod = _generated(tmp_path, template, code)
    cls = getattr(mod, gen_python.class_name(template))
    with Sandbox(tmp_path / "sandbox.db") as net:
        client = cls.deploy(net, *_ctor_args(template), code=code)
        assert isinstance(client.address, bytes) and len(client.address) == 20
        abi = client.binding.abi
        for fn in abi.functions:
            args = [sample(parse_type(p.type, abi)) for p in fn.inputs]
            method = getattr(client, gen_python.py_name(fn.name, gen_python._RESERVED))
            want = _outcome(lambda fn=fn, args=args:
                            net.query(client.address, fn.name, args).result)
            got = _outcome(lambda method=method, args=args: method(*args, query=True))
            assert got[0] == want[0], (fn.name, got, want)
            if got[0] == "ok":
                assert to_wire(got[1]) == want[1], fn.name
            # and as a transaction: the receipt is kept, its result typed the same way
            sent = _outcome(lambda method=method, args=args: method(*args, query=False))
            if sent[0] == "ok":
                assert client.last_receipt is not None
                assert client.last_receipt.function == fn.name
            # by default a function that cannot mutate is a query, the others transactions
            assert inspect.signature(method).parameters["query"].default is (
                fn.mutates is False), fn.name


def test_counter_and_token_clients_over_the_sandbox(template_codes, tmp_path):
    counter_mod = _generated(tmp_path, "counter", template_codes["counter"], "_b")
    token_mod = _generated(tmp_path, "token", template_codes["token"], "_b")
    with Sandbox(tmp_path / "sandbox.db") as net:
        counter = counter_mod.Counter.deploy(net, code=template_codes["counter"])
        assert counter.increment() == 1 and counter.add(4) == 5
        assert counter.get(query=True) == 5 and counter.events() == []  # add emits none
        sent = counter.last_receipt
        assert counter.get() == 5  # `get` does not mutate: a query by default, no receipt
        assert counter.last_receipt is sent
        assert counter.get(query=False) == 5 and counter.last_receipt is not sent
        receipt = net.call(counter.address, "increment")  # any receipt decodes
        assert counter.events(receipt) == [counter_mod.IncrementedEvent(by=net.default_sender)]
        assert counter.get(query=True) == 6
        token = token_mod.Token.deploy(net, 1000, code=template_codes["token"])
        to = bytes(range(20))
        assert token.transfer(to, 7) is None
        [moved] = token.events()
        assert (moved.from_, moved.to, moved.amount) == (net.default_sender, to, 7)
        assert token.balance_of(to, query=True) == 7
        name = token.name(query=True)
        assert isinstance(name, str) and name == net.query(token.address, "name").result
        with pytest.raises(GhostError):  # the address of no contract
            token_mod.Token(net, bytes(20)).total_supply(query=True)


def test_ballot_client_with_its_enum_struct_and_event(template_codes, tmp_path):
    code = template_codes["ballot"]
    mod = _generated(tmp_path, "ballot", code, "_b")
    with Sandbox(tmp_path / "sandbox.db") as net:
        ballot = mod.Ballot.deploy(net, code=code)
        pid = ballot.propose("Lunch")
        assert ballot.vote(pid, mod.Choice.abstain) is None
        assert ballot.events() == [mod.VotedEvent(proposal=pid, voter=net.default_sender,
                                                  choice=mod.Choice.abstain)]
        proposal = ballot.proposal(pid, query=True)
        assert isinstance(proposal, mod.Proposal) and proposal.title == "Lunch"
        assert proposal.tally == [0, 0, 1] and proposal.open is True
        assert ballot.vote_of(pid, net.default_sender, query=True) is mod.Choice.abstain
        assert ballot.proposal(pid + 1, query=True) is None
        assert ballot.open_ids(query=True) == [pid]


def test_a_failed_transaction_leaves_no_stale_receipt(template_codes, tmp_path):
    """After a transaction that raised, `last_receipt` is None and `events()` is empty,
    not the previous transaction's receipt and events."""
    from ghost_cli.exceptions import RevertError

    code = template_codes["ballot"]
    mod = _generated(tmp_path, "ballot", code, "_f")
    with Sandbox(tmp_path / "sandbox.db") as net:
        ballot = mod.Ballot.deploy(net, code=code)
        assert ballot.events() == []  # nothing sent yet
        pid = ballot.propose("Lunch")
        ballot.vote(pid, mod.Choice.yes)
        assert ballot.last_receipt is not None and len(ballot.events()) == 1
        with pytest.raises(RevertError, match="AlreadyVoted") as info:
            ballot.vote(pid, mod.Choice.no)
        assert ballot.last_receipt is None and ballot.events() == []
        assert info.value.details["tx_hash"]  # the failure is recorded: its receipt is there


def test_an_output_path_that_cannot_be_written_is_one_line_and_exit_2(built_project, ghost,
                                                                      tmp_path):
    for where in (tmp_path, tmp_path / "file" / "x.py"):  # a directory; under a file
        (tmp_path / "file").write_text("")
        r = ghost("bindings", "python", "counter", "-o", str(where))
        assert r.code == 2, r.stderr
        assert r.stderr.startswith(f"error: cannot write {where}: ") and "Traceback" not in \
            r.stderr and r.stderr.count("\n") == 1


def test_cli_writes_a_client_the_test_fixtures_can_use(built_project, ghost, project,
                                                       tmp_path):
    """`ghost bindings python counter -o` in a project; the module used through the
    testing fixtures' GhostEnv (`deploy` returns a Contract), the same class as above."""
    out = tmp_path / "counter_fixture_client.py"
    r = ghost("bindings", "python", "counter", "-o", str(out))
    assert r.code == 0, r.stderr
    assert r.stderr.strip() == (f"wrote {out} (python bindings for counter, from "
                                "build/counter.wasm)")
    mod = _import(out, "counter_fixture_client")
    from ghost_cli.testing.env import GhostEnv

    with Sandbox(tmp_path / "fixture.db") as sandbox:
        env = GhostEnv(sandbox, {"counter": project / "build" / "counter.wasm"})
        counter = mod.Counter.deploy(env)
        assert counter.increment() == 1
        assert counter.add(2) == 3 and counter.get(query=True) == 3
        fixture = mod.Counter(env.deploy("counter"))  # a Contract from `deploy`
        assert fixture.get(query=True) == 0 and fixture.increment() == 1
        assert [r.function for r in env.gas_records][-1] == "increment"
    stdout = ghost("bindings", "python", "counter")
    assert stdout.code == 0 and stdout.stdout == out.read_text()
    zig = ghost("bindings", "zig", "counter", "--json")
    assert zig.code == 0 and zig.json["language"] == "zig"
    assert zig.json["source"].startswith("//! Call data and results of the `counter` contract")
    assert "pub const add = struct {" in zig.json["source"]
    missing = ghost("bindings", "python", "nope")
    assert missing.code == 7 and missing.stderr.startswith("error: no contract 'nope'")
    assert "--network" not in missing.stderr  # bindings has no --network
    with pytest.raises(GhostError, match="needs a network"):
        mod.Counter(object(), b"\0" * 20)


def test_struct_enum_and_event_classes(kinds_project, tmp_path):
    code = (kinds_project / "build" / "kinds.wasm").read_bytes()
    mod = _generated(tmp_path, "kinds", code)
    assert issubclass(mod.Color, enum.Enum) and mod.Color.blue.value == "blue"
    assert dataclasses.is_dataclass(mod.Ballot)
    ballot = mod.Ballot(id=9, owner=b"\xab" * 20, title="Lunch", votes=[1, 2],
                        color=mod.Color.green, pairs=[mod.Pair(a=1, b="x")],
                        grid=[[1, 2, 3], [4, 5, 6]], tag=b"abcd")
    with Sandbox(tmp_path / "sandbox.db") as net:
        kinds = mod.Kinds.deploy(net, code=code)
        assert kinds.last_ballot(query=True) is None
        assert kinds.echo_ballot(ballot, query=True) == ballot
        assert kinds.echo_enum(mod.Color.blue, query=True) is mod.Color.blue
        assert kinds.echo_optional(None, query=True) is None
        assert kinds.record(ballot) == 1
        [event] = kinds.events()
        assert event == mod.RecordedEvent(who=net.default_sender, id=9,
                                          color=mod.Color.green, title="Lunch")
        assert kinds.last_ballot(query=True) == ballot
        assert kinds.recorded(query=True) == 1
        with pytest.raises(GhostError, match="no variant of Color"):
            kinds.echo_enum("purple", query=True)


def test_zig_module_encodes_and_decodes_like_the_python_codec(kinds_project, tmp_path):
    """The generated Zig module under `zig test`: its call data for a Ballot is the
    Python codec's, byte for byte, and it decodes that back; a bad enum is refused."""
    from ghost_cli.toolchain.zig import run_zig

    raw = read_module_metadata((kinds_project / "build" / "kinds.wasm").read_bytes())["abi"]
    abi = Abi.from_json(raw)
    (tmp_path / "kinds.zig").write_text(gen_zig.generate("kinds", abi, raw))
    ballot = {"id": 9, "owner": b"\xab" * 20, "title": "Lunch ☕", "votes": [1, 2],
              "color": "green", "pairs": [{"a": 1, "b": "x"}],
              "grid": [[1, 2, 3], [4, 5, 6]], "tag": b"abcd"}
    expected = encode_call(abi.function("record"), [ballot], abi)
    (tmp_path / "check.zig").write_text(ZIG_CHECK.replace("EXPECTED", expected.hex()))
    (tmp_path / "odd.zig").write_text(gen_zig.generate("odd", Abi.from_json(ODD_ABI)))
    run = run_zig(["test", "--color", "off", "--dep", "kinds", "--dep", "odd",
                   "-Mroot=check.zig", "-Mkinds=kinds.zig", "-Modd=odd.zig"],
                  cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout


ZIG_CHECK = r'''const std = @import("std");
const kinds = @import("kinds");
const odd = @import("odd");

test "call data and results as the Python codec writes them" {
    const gpa = std.testing.allocator;
    var arena_state = std.heap.ArenaAllocator.init(gpa);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var expected: [@divExact("EXPECTED".len, 2)]u8 = undefined;
    _ = try std.fmt.hexToBytes(&expected, "EXPECTED");
    const ballot = kinds.Ballot{
        .id = 9, .owner = @splat(0xab), .title = "Lunch ☕",
        .votes = &.{ 1, 2 }, .color = .green,
        .pairs = &.{kinds.Pair{ .a = 1, .b = "x" }},
        .grid = .{ .{ 1, 2, 3 }, .{ 4, 5, 6 } }, .tag = "abcd".*,
    };
    var buf: [256]u8 = undefined;
    const data = try kinds.record.encode(&buf, .{ .b = ballot });
    try std.testing.expectEqualSlices(u8, &expected, data);
    const back = try kinds.record.decodeArgs(arena, data);
    try std.testing.expectEqualStrings("Lunch ☕", back.b.title);
    try std.testing.expectEqual(kinds.Color.green, back.b.color.?);
    try std.testing.expectEqual(@as(u16, 6), back.b.grid[1][2]);
    const t = std.testing;
    const seven = [_]u8{ 7, 0, 0, 0, 0, 0, 0, 0 };
    try t.expectEqual(@as(u64, 7), try kinds.recorded.decodeResult(arena, &seven));
    const nine: [9]u8 = @splat(0);
    try t.expectError(error.CallDataTooLong, kinds.recorded.decodeResult(arena, &nine));
    try t.expectError(error.InvalidEnumValue, kinds.echo_enum.decodeResult(arena, &.{2}));
    try t.expectError(error.InvalidOptionalTag, kinds.echo_optional.decodeResult(arena, &.{2}));
    try t.expectError(error.BufferTooSmall, kinds.record.encode(buf[0..10], .{ .b = ballot }));
    const none = try kinds.last_ballot.decodeResult(arena, &.{0});
    try std.testing.expect(none == null);
}

test "tuples, keywords as names, optionals of structs" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var buf: [64]u8 = undefined;
    const deep = odd.Deep{ .@"import" = .@"async", .grid = .{ &.{ 1, 2 }, &.{} } };
    const data = try odd.address.encode(&buf, .{ .@"from" = .{ 7, true },
        .@"class" = &.{ deep, null } });
    try std.testing.expectEqualSlices(u8, &.{ 7, 1, 2, 0, 0, 0, 1, 2, 2, 0, 0, 0, 1, 0, 2,
        0, 0, 0, 0, 0, 0 }, data);
    const back = try odd.address.decodeArgs(arena, data);
    try std.testing.expectEqual(odd.Kind.@"async", back.@"class"[0].?.@"import");
    try std.testing.expectEqual(@as(u16, 2), back.@"class"[0].?.grid[0][1]);
    const r = try odd.address.decodeResult(arena, &.{ 9, 0 });
    try std.testing.expectEqual(@as(u8, 9), r[0]);
    try std.testing.expect(!r[1]);
    try std.testing.expect((try odd.@"type".decodeResult(arena, &.{0})) == null);
    // names the module uses itself get a `_`; primitive type names are quoted
    const ev = try odd.encodeValue_.encode(&buf, .{ .value = odd.Args_{ .buf = 5 } });
    try std.testing.expectEqualSlices(u8, &.{5}, ev);
    try std.testing.expectEqual(@as(u8, 5), (try odd.encodeValue_.decodeResult(arena, ev)).buf);
    try std.testing.expectEqual(@as(usize, 0), (try odd.data_.encode(&buf, .{})).len);
    try std.testing.expectEqual(@as(usize, 0), (try odd.@"f32".encode(&buf, .{})).len);
}
'''


#: An ABI no template has: a tuple, Python and Zig keywords as names, a function named
#: like the client's own attribute, nested optionals of structs.
ODD_ABI = {
    "version": 2,
    "functions": [
        {"name": "address", "inputs": [{"name": "from", "type": "(u8,bool)"},
                                       {"name": "class", "type": "Deep?[]"}],
         "output": "(u8,bool)", "can_fail": True, "doc": "Named like the attribute."},
        {"name": "type", "inputs": [{"name": "self", "type": "Kind"}],
         "output": "Deep?", "can_fail": False, "doc": ""},
        # named like the Zig module's own declarations, its parameters, a primitive type
        {"name": "encodeValue", "inputs": [{"name": "value", "type": "Args"}],
         "output": "Args", "can_fail": False},
        {"name": "data", "inputs": [], "output": None, "can_fail": False},
        {"name": "f32", "inputs": [], "output": None, "can_fail": False},
    ],
    "constructor": None,
    "events": [{"name": "Moved", "fields": [{"name": "from", "type": "address",
                                             "indexed": True},
                                            {"name": "pair", "type": "(u8,bool)"}]}],
    "types": [{"kind": "enum", "name": "Kind", "variants": [{"name": "none", "value": 0},
                                                            {"name": "async", "value": 2}]},
              {"kind": "struct", "name": "Deep", "fields": [
                  {"name": "import", "type": "Kind"}, {"name": "grid", "type": "u16[][2]"}]},
              {"kind": "struct", "name": "Args", "fields": [{"name": "buf", "type": "u8"}]}],
    "errors": ["Nope"],
}


def test_python_generator_names_types_and_conversions(tmp_path):
    """Keywords become `name_`, tuples tuple[...], enums and structs their classes; the
    runtime's to_wire/from_wire turn them into the codec's values and back."""
    import typing

    from ghost_cli.bindings.runtime import from_wire

    abi = Abi.from_json(ODD_ABI)
    path = tmp_path / "odd_client.py"
    path.write_text(gen_python.generate("odd-one", abi, ODD_ABI))
    mod = _import(path, "odd_client")
    hints = typing.get_type_hints(mod.OddOne.address_, vars(mod))
    assert hints["from_"] == tuple[int, bool] and hints["class_"] == list[mod.Deep | None]
    assert hints["return"] == tuple[int, bool]
    assert typing.get_type_hints(mod.OddOne.type, vars(mod))["return"] == mod.Deep | None
    assert [f.name for f in dataclasses.fields(mod.Deep)] == ["import_", "grid"]
    assert mod.Kind.async_.value == "async"
    deep = mod.Deep(import_=mod.Kind.async_, grid=[[1], []])
    wire = to_wire([deep, None])
    assert wire == [{"import": "async", "grid": [[1], []]}, None]
    ty = parse_type("Deep?[]", abi)
    assert from_wire(ty, ty.decode(ty.encode(wire))[0], {"Deep": mod.Deep, "Kind": mod.Kind}
                     ) == [deep, None]
    assert [f.name for f in dataclasses.fields(mod.MovedEvent)] == ["from_", "pair"]


def test_python_generator_renames_constructor_arguments_deploy_takes(tmp_path):
    """A constructor argument named like one of `deploy`'s own parameters gets a `_`, and
    soft keywords are renamed from a fixed list whatever Python generates the module."""
    import inspect

    raw = {"version": 2, "functions": [
        {"name": "type", "inputs": [{"name": "match", "type": "u8"}], "output": None}],
        "constructor": {"name": "init", "inputs": [{"name": "code", "type": "u64"},
                                                   {"name": "target", "type": "bool"}],
                        "output": None, "can_fail": False}}
    path = tmp_path / "ctor_client.py"
    path.write_text(gen_python.generate("ctor", Abi.from_json(raw), raw))
    mod = _import(path, "ctor_client")
    params = list(inspect.signature(mod.Ctor.deploy).parameters)
    assert params[:3] == ["target", "code_", "target_"] and "code" in params
    assert list(inspect.signature(mod.Ctor.type).parameters)[:2] == ["self", "match_"]


def test_python_generator_keeps_type_contract_and_module_names_apart(tmp_path):
    """A struct named like the contract (`Token` in `token`), or like a name the module
    imports (`Any`, `Binding`), keeps its own class: the contract class becomes
    `TokenContract`, the others get a `_`."""
    import typing

    raw = {"version": 2, "constructor": None, "functions": [
        {"name": "get", "inputs": [{"name": "x", "type": "Token"}], "output": "Any"}],
        "types": [{"kind": "struct", "name": "Token", "fields": [{"name": "a", "type": "u8"}]},
                  {"kind": "struct", "name": "Any", "fields": [{"name": "a", "type": "u8"}]},
                  {"kind": "enum", "name": "Binding", "variants": [{"name": "a", "value": 0}]}],
        "events": [{"name": "Token", "fields": [{"name": "b", "type": "Binding"}]}]}
    path = tmp_path / "tok_client.py"
    path.write_text(gen_python.generate("token", Abi.from_json(raw), raw))
    mod = _import(path, "tok_client")
    assert dataclasses.is_dataclass(mod.Token) and dataclasses.is_dataclass(mod.Any_)
    assert issubclass(mod.Binding_, enum.StrEnum)
    assert mod._CLASSES == {"Token": mod.Token, "Any": mod.Any_, "Binding": mod.Binding_}
    hints = typing.get_type_hints(mod.TokenContract.get, vars(mod))
    assert hints["x"] is mod.Token and hints["return"] is mod.Any_
    assert typing.get_type_hints(mod.TokenEvent, vars(mod))["b"] is mod.Binding_


def test_python_generator_keeps_keyword_class_names_out_of_class_statements(tmp_path):
    """A struct, enum or contract whose CamelCase name is a Python keyword (`None`,
    `True`, `False`) gets a class the module can define: `class None:` does not compile,
    so the struct is `None_`, the enum `True_` and the contract `none` `NoneContract`."""
    import typing

    raw = {"version": 2, "constructor": None, "functions": [
        {"name": "get", "inputs": [{"name": "x", "type": "None"}], "output": "True"}],
        "types": [{"kind": "struct", "name": "None", "fields": [{"name": "a", "type": "u8"}]},
                  {"kind": "enum", "name": "True", "variants": [{"name": "a", "value": 0}]}],
        "events": [{"name": "False", "fields": [{"name": "b", "type": "True"}]}]}
    path = tmp_path / "none_client.py"
    path.write_text(gen_python.generate("none", Abi.from_json(raw), raw))
    mod = _import(path, "none_client")
    assert dataclasses.is_dataclass(mod.None_) and issubclass(mod.True_, enum.StrEnum)
    assert mod._CLASSES == {"None": mod.None_, "True": mod.True_}
    hints = typing.get_type_hints(mod.NoneContract.get, vars(mod))
    assert hints["x"] is mod.None_ and hints["return"] is mod.True_
    assert typing.get_type_hints(mod.FalseEvent, vars(mod))["b"] is mod.True_
    assert mod.__all__[0] == "NoneContract"


def _class_scope_shadows(source: str) -> list[str]:
    """Annotations (and field defaults) inside a class that name something the class body
    itself binds (a field or method): a type checker reads such a name as that member."""
    import ast

    found = []
    for cls in (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef)):
        bound = {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign)
                 and isinstance(n.target, ast.Name)}
        bound |= {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
        notes = [n.annotation for n in cls.body if isinstance(n, ast.AnnAssign)]
        for fn in (n for n in ast.walk(cls) if isinstance(n, ast.FunctionDef)):
            a = fn.args
            notes += [x.annotation for x in (*a.args, *a.kwonlyargs) if x.annotation]
            notes += [fn.returns] if fn.returns else []
            notes += [n.annotation for n in ast.walk(fn) if isinstance(n, ast.AnnAssign)]
        # and the values the class body computes itself (`field(metadata=...)`)
        notes += [n.value for n in cls.body if isinstance(n, ast.AnnAssign) and n.value]
        found += [f"{cls.name}: {name.id}" for note in notes for name in ast.walk(note)
                  if isinstance(name, ast.Name) and name.id in bound]
    return found


def test_python_generator_annotations_never_name_a_member_of_their_class(tmp_path):
    """A struct field `list`, `int` or `field`, or a function `int` or `bytes`, keeps its
    name, and the class says `builtins.int` (`dataclasses.field`) where a plain `int`
    would be read (by mypy or pyright) as that member: the module type-checks as it
    imports."""
    import typing

    raw = {"version": 2, "constructor": {"name": "init", "inputs": [
        {"name": "n", "type": "u8"}], "output": None, "can_fail": False},
        "functions": [
            {"name": "int", "inputs": [{"name": "x", "type": "i64"}], "output": "i64"},
            {"name": "bytes", "inputs": [], "output": "bytes"},
            {"name": "str", "inputs": [{"name": "p", "type": "P"}], "output": "(u8,string)",
             "mutates": False},
            {"name": "many", "inputs": [{"name": f"a{i}", "type": "u256[]"} for i in range(6)],
             "output": "bool"}],
        "types": [{"kind": "struct", "name": "P", "fields": [
            {"name": "list", "type": "u16[]"}, {"name": "int", "type": "i16"},
            {"name": "from", "type": "bytes"}, {"name": "bool", "type": "bool?"},
            {"name": "field", "type": "u8"}]}],
        "events": [{"name": "E", "fields": [{"name": "str", "type": "string"},
                                            {"name": "tag", "type": "string"}]}]}
    source = gen_python.generate("shadow", Abi.from_json(raw), raw)
    assert _class_scope_shadows(source) == []
    assert max(len(line) for line in source.splitlines()) <= 100
    path = tmp_path / "shadow_client.py"
    path.write_text(source)
    mod = _import(path, "shadow_client")
    assert [f.name for f in dataclasses.fields(mod.P)] == ["list", "int", "from_", "bool",
                                                           "field"]
    assert typing.get_type_hints(mod.P, vars(mod)) == {
        "list": list[int], "int": int, "from_": bytes, "bool": bool | None, "field": int}
    assert to_wire(mod.P([1], 2, b"", None, 3)) == {"list": [1], "int": 2, "from": b"",
                                                   "bool": None, "field": 3}
    assert typing.get_type_hints(mod.EEvent, vars(mod)) == {"str": str, "tag": str}
    hints = typing.get_type_hints(mod.Shadow.str, vars(mod))
    assert hints["p"] is mod.P and hints["return"] == tuple[int, str]
    assert typing.get_type_hints(mod.Shadow.many, vars(mod))["a5"] == list[int]
    assert typing.get_type_hints(mod.Shadow.deploy, vars(mod))["n"] is int
    assert callable(mod.Shadow.int) and callable(mod.Shadow.bytes)
