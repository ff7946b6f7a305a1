"""contracts/abi_types: every ABI type through call data and return data, stored with
ghost.Value/Map/Vec and emitted as a typed event, on WebAssembly and on ZVM alike; call
data the ABI refuses reverts with the same reason on both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ghost_cli.abi import encode_value, format_address, parse_type
from ghost_cli.abi.storage_key import map_key, value_key, vec_item_key, vec_len_key
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import RevertError
from ghost_cli.toolchain.build import build_project

REPO = Path(__file__).resolve().parents[2]
TARGETS = ("wasm", "zvm")
ME = bytes(range(1, 21))

PAIR = {"a": 2**64 - 1, "b": True}
RECORD = {"owner": bytes(range(20)), "color": "blue", "pairs": [PAIR, {"a": 0, "b": False}],
          "memo": "héllo", "tag": b"\x00\x01\x02\x03", "grid": [[1, 65535], []]}

#: function -> argument values, each echoed back unchanged
ECHOES = {
    "echo_bool": [True, False],
    "echo_u8": [0, 255], "echo_u16": [65535], "echo_u32": [2**32 - 1], "echo_u64": [2**64 - 1],
    "echo_u128": [2**128 - 1], "echo_u256": [2**256 - 1, 1 << 200],
    "echo_i8": [-128, 127], "echo_i16": [-(2**15)], "echo_i32": [-1], "echo_i64": [-(2**63)],
    "echo_i128": [2**127 - 1], "echo_i256": [-(2**255), 2**255 - 1],
    "echo_address": [bytes(range(20))], "echo_bytes1": [b"\xff"],
    "echo_bytes32": [bytes(range(32))],
    "echo_bytes": [b"", b"\x00\xffraw"], "echo_string": ["", "ghost ✓ 👻"],
    "echo_u8_array": [list(range(33))], "echo_u16_array": [[1, 2, 65535]],
    "echo_u64_list": [[], [1, 2, 2**64 - 1]], "echo_strings": [["a", "", "ccc"]],
    "echo_optional": [None, 0, 7], "echo_tuple": [(5, "five")],
    "echo_point": [(-(2**31), 2**31 - 1)], "echo_points": [[], [(1, None), (65535, (3, -4))]],
    "echo_shape": [{"corner": (0, -1), "label": (9, "nine ✓"), "more": None},
                   {"corner": (1, 2), "label": (0, ""), "more": [(3, 4), (-5, -6)]}],
    "echo_pair": [PAIR],
    "echo_pairs": [[PAIR, PAIR]], "echo_color": ["red", "green", "blue"],
    "echo_record": [RECORD, {**RECORD, "memo": None, "pairs": []}],
    "echo_optional_record": [None, RECORD], "echo_nested": [[[1], [2, 3]]],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the project, built for both targets (build/abi_types.wasm and .zvmc)."""
    root = tmp_path_factory.mktemp("abi_types") / "abi_types"
    shutil.copytree(REPO / "contracts" / "abi_types", root, symlinks=False,
                    ignore=shutil.ignore_patterns("build", ".ghost"))
    project = load_project(root)
    return root, {t: build_project(project, target=t)[0].path.read_bytes() for t in TARGETS}


@pytest.fixture(scope="module")
def deployed(built):
    """The contract built for both targets, each deployed on one sandbox."""
    _, codes = built
    with Sandbox(":memory:") as sandbox:
        # the lowered code is large (every type's codec): its deploy costs more than the default
        yield sandbox, {t: sandbox.deploy(codes[t], name=f"abi_{t}", gas_limit=40_000_000).address
                        for t in TARGETS}


def _both(deployed, function, *args):
    """The result on each target; they must agree."""
    sandbox, addresses = deployed
    results = [sandbox.query(addresses[t], function, list(args)).result for t in TARGETS]
    assert results[0] == results[1], function
    return results[0]


@pytest.mark.parametrize("function", sorted(ECHOES))
def test_every_type_round_trips(deployed, function):
    for value in ECHOES[function]:
        assert _both(deployed, function, value) == value, (function, value)


def test_several_arguments_and_a_built_value(deployed):
    assert _both(deployed, "sum", [1, 2, 3], 4, True) == 10
    assert _both(deployed, "sum", [1], 4, False) is None
    sandbox, addresses = deployed
    made = [sandbox.query(addresses[t], "make_record", [2, "green"], sender=ME).result
            for t in TARGETS]
    assert made[0] == made[1] == {
        "owner": ME, "color": "green", "pairs": [{"a": 1, "b": True}, {"a": 2, "b": False}],
        "memo": "made", "tag": b"abc\x02", "grid": [[10, 20], []]}


SHAPE_TEXT = '{"corner": [1, -2], "label": [7, "sept"], "more": [[3, 4], [-5, 6]]}'


@pytest.mark.parametrize("target", TARGETS)
def test_tuples_through_the_command_line(built, target, monkeypatch, tmp_path):
    """`ghost call`/`query` take a tuple as a JSON list and print one back as a list, on
    each target; a tuple of the wrong length is refused (exit 2, state unchanged)."""
    from typer.testing import CliRunner

    from ghost_cli.cli.main import app

    root, _ = built
    project = tmp_path / "p"
    shutil.copytree(root, project, ignore=shutil.ignore_patterns(".ghost"))
    monkeypatch.chdir(project)
    monkeypatch.setenv("GHOST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")

    def ghost(*args: str):
        r = CliRunner().invoke(app, list(args), prog_name="ghost")
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        return r

    # the lowered code is large (every type's codec): its deploy costs more than the default
    deployed = ghost("deploy", "abi_types", "--target", target, "--gas-limit", "40000000")
    assert deployed.exit_code == 0, deployed.stderr
    shape = ghost("call", "abi_types", "echo_shape", SHAPE_TEXT, "--json")
    assert shape.exit_code == 0, shape.stderr
    assert shape.stdout and json.loads(shape.stdout)["result"] == json.loads(SHAPE_TEXT)
    points = ghost("query", "abi_types", "echo_points", "[[1, null], [2, [-3, 4]]]")
    assert points.exit_code == 0, points.stderr
    assert points.stdout.strip() == "[[1, null], [2, [-3, 4]]]"
    wrong = ghost("call", "abi_types", "echo_point", "[1, 2, 3]")
    assert wrong.exit_code == 2 and wrong.stderr.startswith("error: "), wrong.stderr


def test_helpers_are_not_exported(deployed):
    """`helper` takes a pointer: a helper, not a contract function (no ABI entry, no export)."""
    sandbox, addresses = deployed
    names = {f.name for f in sandbox.abi_of(addresses["wasm"]).functions}
    assert "helper" not in names and "echo_record" in names


@pytest.mark.parametrize("target", TARGETS)
def test_typed_storage_and_events(deployed, target):
    sandbox, addresses = deployed
    address = addresses[target]
    receipt = sandbox.call(address, "remember", [9, RECORD])
    (event,) = receipt.events
    assert event.topics[0] == b"Remembered".ljust(32, b"\0")
    assert event.topics[1] == (9).to_bytes(32, "little") and event.topics[2][:20] == RECORD["owner"]
    assert event.data == b"\x07" + b"\x01" + (6).to_bytes(4, "little") + "héllo".encode()
    (decoded,) = receipt.decoded_events()
    assert decoded["fields"] == {"id": 9, "owner": format_address(RECORD["owner"]),
                                 "color": "blue", "memo": "héllo"}
    assert sandbox.query(address, "recall", [9]).result == RECORD
    assert sandbox.query(address, "recall", [8]).result is None
    assert sandbox.query(address, "last", []).result == RECORD
    sandbox.call(address, "clear_latest", [])
    assert sandbox.query(address, "last", []).result is None
    assert sandbox.query(address, "bump_name", ["ü"]).result == 1
    assert sandbox.query(address, "name_count", ["ü"]).result == 0  # a query changes nothing
    sandbox.call(address, "bump_name", ["ü"])
    assert sandbox.query(address, "name_count", ["ü"]).result == 1
    # the keys and values are the ones the Python side computes
    store = sandbox.store
    record_type = parse_type("Record", _abi(sandbox, address))
    assert store.storage_get(address, map_key("records", "u64", 9)) == encode_value(
        record_type, RECORD)
    assert store.storage_get(address, map_key("names", "string", "ü")) == (1).to_bytes(4, "little")
    assert store.storage_get(address, vec_len_key("history")) == (1).to_bytes(8, "little")
    first = PAIR["a"].to_bytes(8, "little") + b"\x01"
    assert store.storage_get(address, vec_item_key("history", 0)) == first
    assert store.storage_get(address, value_key("latest")) is None  # cleared
    # a list: push happened in remember; set, get and pop
    sandbox.call(address, "history_set", [0, {"a": 5, "b": False}])
    assert sandbox.query(address, "history_at", [0]).result == {"a": 5, "b": False}
    with pytest.raises(RevertError, match="ghost: index out of bounds"):
        sandbox.query(address, "history_set", [3, PAIR])
    sandbox.call(address, "history_pop", [])
    assert sandbox.query(address, "history_len", []).result == 0
    assert sandbox.query(address, "history_pop", []).result is None
    assert sandbox.query(address, "forget", [9]).result is True


def _abi(sandbox, address):
    return sandbox.abi_of(address)


#: raw call data -> the revert reason, the same on both targets
REFUSED = [
    ("echo_bool", b"\x02", "ghost: invalid bool"),
    ("echo_bool", b"", "ghost: call data too short"),
    ("echo_u16", b"\x01\x02\x03", "ghost: call data too long"),
    ("echo_string", b"\x02\x00\x00\x00\xc3\x28", "ghost: invalid utf-8"),
    ("echo_optional", b"\x02", "ghost: invalid optional tag"),
    ("echo_color", b"\x03", "ghost: invalid enum value"),
    ("echo_u64_list", b"\xff\xff\xff\xff", "ghost: call data too short"),
]


@pytest.mark.parametrize(("function", "data", "reason"), REFUSED)
def test_refused_call_data_reverts_with_the_reason(deployed, function, data, reason):
    sandbox, addresses = deployed
    for target in TARGETS:
        tx = sandbox.new_transaction("call", sandbox.default_sender, target=addresses[target],
                                     function=function, args=data)
        with pytest.raises(RevertError, match=reason):
            sandbox.submit(sandbox.authorize(tx, None))


#: echo function -> its ABI type, for generated values
GENERATED = {"echo_record": "Record", "echo_optional_record": "Record?",
             "echo_tuple": "(u8,string)", "echo_strings": "string[]", "echo_nested": "u64[][2]",
             "echo_i256": "i256", "echo_pairs": "Pair[]"}


@pytest.mark.parametrize("function", sorted(GENERATED))
def test_generated_values_round_trip_on_both_targets(deployed, function):
    """Values from the ABI's hypothesis strategies: the contract's decoder and encoder (Zig)
    agree with the Python codec, byte for byte, on both targets."""
    from hypothesis import HealthCheck, given, settings

    from ghost_cli.abi.strategies import strategy_for

    sandbox, addresses = deployed
    abi = sandbox.abi_of(addresses["wasm"])
    ty = parse_type(GENERATED[function], abi)

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(strategy_for(ty, abi, max_len=4))
    def check(value):
        encoded = encode_value(ty, value, abi)
        for target in TARGETS:
            receipt = sandbox.query(addresses[target], function, [value])
            assert receipt.return_data == encoded

    check()
