"""The cross-contract ZVM contracts (tests/vm/zvm/contracts/*.zasm) assembled, with their
ABIs and call-data builders: B (store.zasm) is a cell with set/set_then_fail/get; A
(caller.zasm) calls any address with any call data by CALL, STATICCALL or DELEGATECALL;
F (factory.zasm) runs CREATE/CREATE2 on init code built from constructor.zasm with B
appended as the runtime. Shared by the ZVM, trace and sandbox tests."""

from __future__ import annotations

from pathlib import Path

from ghost_cli.vm.zvm import assemble, encode_zvmc, metadata_json, selector

CONTRACTS = Path(__file__).resolve().parents[1] / "vm" / "zvm" / "contracts"


def _fn(name: str, inputs: list[str], output: str | None = None) -> dict:
    return {"name": name, "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(inputs)],
            "output": output}


STORE_ABI = {"version": 1, "functions": [
    _fn("set", ["u64"], "u64"), _fn("set_then_fail", ["u64"]), _fn("get", [], "u64")]}
CALLER_ABI = {"version": 1, "functions": [
    _fn(name, ["address", "bytes"], "bytes")
    for name in ("call", "call_then_revert", "static", "delegate")]}
FACTORY_ABI = {"version": 1, "functions": [
    _fn("make", ["bytes"], "address"), _fn("make2", ["u64", "bytes"], "address"),
    _fn("make_then_revert", ["bytes"], "address")]}


def code_of(name: str) -> bytes:
    return assemble((CONTRACTS / f"{name}.zasm").read_text())


def container(name: str, abi: dict) -> bytes:
    return encode_zvmc(code_of(name), metadata_json({"abi": abi}))


STORE = container("store", STORE_ABI)
#: Init code whose constructor stores 1 in slot 0 and deploys B, ABI and all.
INIT = code_of("constructor") + STORE


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def set_call(n: int, fn: str = "set(u64)") -> bytes:
    return selector(fn) + u64(n)


GET = selector("get()")
