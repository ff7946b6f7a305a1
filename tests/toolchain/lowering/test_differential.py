"""The counter, token and ballot templates built for both targets behave identically: the
same calls give the same results, reverts, events and storage on WebAssembly and on ZVM."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.config import defaults as d
from ghost_cli.config.project import load_project
from ghost_cli.exceptions import ExecutionError, RevertError
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project
from ghost_cli.vm.zvm import decode_zvmc, interpreter

pytestmark = pytest.mark.slow
U64_MAX = 2**64 - 1


@pytest.fixture(autouse=True, params=[1, 10**9], ids=["compiled", "stepped"])
def zvm_path(request, monkeypatch):
    """Each test twice: with every ZVM block compiled from its first run (what the
    compiler proves about Zig's lowered code is checked against wasm), and stepping."""
    monkeypatch.setattr(interpreter, "HOT_AFTER", request.param)


@dataclass(frozen=True)
class Builds:
    wasm: bytes
    zvmc: bytes


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> dict[str, Builds]:
    out = {}
    for template in ("counter", "token", "ballot"):
        root = new_project("demo", template, tmp_path_factory.mktemp(template) / "demo")
        project = load_project(root)
        (wasm,) = build_project(project, target="wasm")
        (zvm,) = build_project(project, target="zvm")
        assert build_project(project, target="zvm")[0].sha256 == zvm.sha256  # reproducible
        assert (wasm.path.suffix, zvm.path.suffix) == (".wasm", ".zvmc")
        assert zvm.metadata == {**wasm.metadata, "target": "zvm",
                                "toolchain": {**wasm.metadata["toolchain"],
                                              "stack_bytes": d.ZVM_STACK_BYTES}}
        out[template] = Builds(wasm.path.read_bytes(), zvm.path.read_bytes())
    return out


def _outcome(sandbox: Sandbox, name: str, function: str, args: list, signer: int) -> tuple:
    try:
        r = sandbox.call(name, function, args, signer=sandbox.dev_keys[signer])
    except RevertError as exc:
        return ("revert", exc.reason)
    except ExecutionError as exc:
        return ("failed", exc.code)
    events = tuple((e.name, e.topics, e.data) for e in r.events)
    return ("ok", r.result, r.return_data, events, r.logs)


def _differential(tmp_path, builds: Builds, calls: list[tuple], ctor_args=()) -> list[tuple]:
    with Sandbox(tmp_path / "sandbox.db") as sandbox:
        wasm = sandbox.deploy(builds.wasm, ctor_args, name="on_wasm")
        zvm = sandbox.deploy(builds.zvmc, ctor_args, name="on_zvm")
        # The constructor ran in each deploy, identically on both engines.
        assert [(e.name, e.topics[1:], e.data) for e in wasm.events] == \
            [(e.name, e.topics[1:], e.data) for e in zvm.events]
        seen = []
        for function, args, signer in calls:
            args = [sandbox.accounts[a[1]] if isinstance(a, tuple) else a for a in args]
            on_wasm = _outcome(sandbox, "on_wasm", function, args, signer)
            on_zvm = _outcome(sandbox, "on_zvm", function, args, signer)
            assert on_zvm == on_wasm, (function, args)
            seen.append(on_wasm)
        storage = [sandbox.store.storage_items(sandbox.resolve(n)) for n in ("on_wasm", "on_zvm")]
        assert storage[0] == storage[1]
        assert storage[0], "the calls should have written something"
    return seen


def test_counter(tmp_path, templates):
    calls = [
        ("get", [], 0), ("increment", [], 0), ("increment", [], 1), ("add", [5], 2),
        ("get", [], 0), ("add", [U64_MAX], 0), ("add", [U64_MAX - 7], 3),
        ("increment", [], 0), ("get", [], 1), ("add", [0], 0),
    ]
    seen = _differential(tmp_path, templates["counter"], calls)
    assert [s[1] if s[0] == "ok" else s for s in seen] == [
        0, 1, 2, 7, 7, ("revert", "Overflow"), U64_MAX, ("revert", "Overflow"), U64_MAX,
        U64_MAX]
    assert seen[1][3][0][0] == "Incremented"


def test_token(tmp_path, templates):
    alice, bob = ("account", 1), ("account", 2)
    calls = [
        ("name", [], 0), ("owner", [], 0), ("total_supply", [], 0), ("owner", [], 3),
        ("transfer", [alice, 10], 0), ("transfer", [bob, 3], 1),
        ("transfer", [alice, 5000], 0), ("transfer", [bob, 1], 4),
        ("transfer", [alice, 7], 1),  # to oneself
        ("balance_of", [alice], 0), ("balance_of", [bob], 0), ("balance_of", [("account", 0)], 0),
        ("balance_of", [b"\xff" * 20], 0), ("total_supply", [], 2),
        ("transfer", [bob, 0], 5), ("transfer", [alice, 990], 0),
    ]
    seen = _differential(tmp_path, templates["token"], calls, [1000])
    reverts = [s for s in seen if s[0] == "revert"]
    assert reverts == [("revert", "InsufficientBalance"), ("revert", "InsufficientBalance")]
    assert seen[0][1] == "demo" and seen[2][1] == 1000
    assert seen[9][1] == 7 and seen[10][1] == 3


def test_lowered_code_refuses_its_constructor_after_the_deploy(tmp_path, templates):
    """However the constructor's selector reaches a deployed ZVM contract (a transaction
    is refused by the ABI before that; another contract's CALL is not), it reverts."""
    from ghost_cli.vm.types import CallContext

    with Sandbox(tmp_path / "sandbox.db") as sandbox:
        address = sandbox.deploy(templates["token"].zvmc, [1000], name="t").address
        ctx = CallContext(caller=sandbox.accounts[1], address=address,
                          input=(5).to_bytes(8, "little"), gas_limit=1_000_000,
                          world=sandbox.executor.world)
        with pytest.raises(RevertError, match="constructor already ran"):
            sandbox.engines.execute(templates["token"].zvmc, "init", ctx,
                                    lambda key: sandbox.store.storage_get(address, key))
        assert sandbox.query("t", "total_supply").result == 1000


def test_zvmc_holds_lowered_code_and_the_metadata(templates):
    z = decode_zvmc(templates["counter"].zvmc)
    assert z.target == 0 and b"\0asm" not in z.code
    assert b'"target":"zvm"' in z.abi


def test_ballot(tmp_path, templates):
    """Structs, a u64[3], an enum, optionals and a list through the ABI codec, stored in a
    Vec and a Map keyed by a tuple, with typed events."""
    alice = ("account", 1)
    calls = [
        ("count", [], 0), ("proposal", [0], 0), ("propose", ["Paint the shed ✓"], 0),
        ("propose", ["x" * 65], 0), ("propose", ["Mine"], 1), ("propose", ["Trees"], 0),
        ("vote", [0, "yes"], 0), ("vote", [0, "no"], 1), ("vote", [0, "yes"], 1),
        ("vote", [1, 2], 2), ("vote", [7, "yes"], 0), ("close", [0], 0), ("vote", [0, "no"], 3),
        ("proposal", [0], 0), ("tally", [0], 1), ("vote_of", [0, alice], 0),
        ("vote_of", [1, alice], 0), ("open_ids", [], 0), ("count", [], 0),
    ]
    seen = _differential(tmp_path, templates["ballot"], calls)
    assert [s[1] for s in seen if s[0] == "revert"] == [
        "BadTitle", "NotChair", "AlreadyVoted", "NoSuchProposal", "Closed"]
    assert seen[13][1]["title"] == "Paint the shed ✓" and seen[13][1]["open"] is False
    assert seen[14][1] == [1, 1, 0] and seen[15][1] == "no" and seen[16][1] is None
    assert seen[17][1] == [1] and seen[18][1] == 2
    assert seen[6][3][0][0] == "Voted"
