"""The proofs a real node serves, checked by a verifier written from docs/state.md alone
(its own path, leaf, node and fold) and by ghost's own: they agree on every proof, at the
latest and at past heights, and both refuse each tampered one. Then the bad requests of
docs/rpc.md's ghost_getProof."""

from __future__ import annotations

from pathlib import Path

import pytest
from node_helpers import Client, start_node

from ghost_cli.abi import encode_value
from ghost_cli.config.project import load_project
from ghost_cli.crypto.hashing import keccak256 as H
from ghost_cli.crypto.proof import Proof, verify_proof
from ghost_cli.scaffold import new_project
from ghost_cli.toolchain.build import build_project

pytestmark = pytest.mark.slow

ZERO = bytes(32)


@pytest.fixture(scope="module")
def storage_code(tmp_path_factory) -> bytes:
    """The storage template: keys 1..256 bytes, empty values kept as values."""
    root = new_project("kv", "storage", tmp_path_factory.mktemp("storage") / "kv")
    [result] = build_project(load_project(root))
    return Path(result.path).read_bytes()


# --- docs/state.md, "State proofs", step by step -----------------------------------------


def _bit(path: bytes, i: int) -> int:
    return (path[i // 8] >> (7 - i % 8)) & 1


def _hash32(text) -> bytes:
    if text is None:
        return ZERO
    assert isinstance(text, str) and text.startswith("0x") and len(text) == 66
    return bytes.fromhex(text[2:])


def doc_verify(root: bytes, address: bytes, key: bytes, value: bytes | None, doc) -> bool:
    siblings = [_hash32(s) for s in doc["siblings"]]
    leaf = doc["leaf"]
    if leaf is not None:
        leaf = (_hash32(leaf["path"]), _hash32(leaf["value_hash"]))
    p, d = H(address + key), len(siblings)
    if d > 256:
        return False
    if value is not None:
        if leaf is None or leaf != (p, H(value)):
            return False
    elif leaf is not None and (leaf[0] == p or any(_bit(leaf[0], i) != _bit(p, i)
                                                   for i in range(d))):
        return False
    h = ZERO if leaf is None else H(b"\x00" + leaf[0] + leaf[1])
    for i in range(d - 1, -1, -1):
        h = H(b"\x01" + h + siblings[i]) if _bit(p, i) == 0 else H(b"\x01" + siblings[i] + h)
    return h == root


def _tampered(doc):
    """Every field changed in turn: each sibling, the leaf, the depth."""
    sibs, leaf = doc["siblings"], doc["leaf"]
    flip = "0x" + "11" * 32
    for i, s in enumerate(sibs):
        yield {"siblings": sibs[:i] + [flip if s is None else None] + sibs[i + 1:], "leaf": leaf}
    if leaf is not None:
        yield {"siblings": sibs, "leaf": None}
        yield {"siblings": sibs, "leaf": {**leaf, "value_hash": flip}}
        yield {"siblings": sibs, "leaf": {**leaf, "path": flip}}
    else:
        yield {"siblings": sibs, "leaf": {"path": flip, "value_hash": flip}}
    if sibs:
        yield {"siblings": sibs[:-1], "leaf": leaf}
    yield {"siblings": sibs + [None], "leaf": leaf}
    yield {"siblings": sibs + [flip], "leaf": leaf}
    yield {"siblings": [None] + sibs, "leaf": leaf}


def _check(c: Client, address: str, key: bytes, height: int, expect: bytes | None) -> None:
    raw_address = bytes.fromhex(address[2:])
    root = bytes.fromhex(c.result("ghost_getStateRoot", height=height)["state_root"][2:])
    got = c.result("ghost_getProof", address=address, key="0x" + key.hex(), height=height)
    value = None if got["value"] is None else bytes.fromhex(got["value"][2:])
    assert value == expect and got["height"] == height
    doc = got["proof"]
    assert doc_verify(root, raw_address, key, value, doc)
    assert verify_proof(root, raw_address, key, value, Proof.from_json(doc))
    for bad in _tampered(doc):
        assert not doc_verify(root, raw_address, key, value, bad), bad
        assert not verify_proof(root, raw_address, key, value, Proof.from_json(bad)), bad
    other = b"\x00" if value is None else None  # the other answer about the same key
    assert not doc_verify(root, raw_address, key, other, doc)
    assert not verify_proof(root, raw_address, key, other, Proof.from_json(doc))


def test_served_proofs_verify_under_the_documented_algorithm_and_tampering_fails(
        tmp_path, key, storage_code):
    proc = start_node(tmp_path / "data", "--checkpoint-every", "3")
    try:
        with Client(proc.url, key) as c:
            address = c.result("ghost_sendTransaction", tx=c.tx(
                "deploy", code=storage_code, label="kv"))["address"]
            empty = c.result("ghost_getStateRoot", height=1)
            assert empty["state_root"] == "0x" + ZERO.hex()  # a deploy writes no storage
            keys = [b"a", b"ab", b"k" * 256, b"\x00", b"~" * 255]
            values = [b"", b"v", b"\x00" * 32, bytes(range(256)) * 8, b"x"]
            model: dict[int, dict[bytes, bytes]] = {1: {}}
            now: dict[bytes, bytes] = {}

            def send(function: str, *args: bytes) -> None:
                call = b"".join(encode_value("bytes" if i else "string",
                                             a if i else a.decode("ascii"))
                                for i, a in enumerate(args))
                r = c.result("ghost_sendTransaction", tx=c.call_tx(address, function, call))
                model[r["block_height"]] = dict(now)

            for k, v in zip(keys, values, strict=True):
                now[b"o:" + k] = key.address
                now[b"v:" + k] = v
                send("set", k, v)
            for k in keys[::2]:
                del now[b"o:" + k], now[b"v:" + k]
                send("remove", k)
            now[b"v:" + keys[1]] = b"again"
            send("set", keys[1], b"again")
            asked = {s for state in model.values() for s in state} | {b"v:never", b""}
            for height, state in model.items():
                for slot in sorted(asked):
                    _check(c, address, slot, height, state.get(slot))
            # a checkpoint commits to the root a proof is checked against
            cp = c.result("ghost_getCheckpoint")
            assert cp["state_root"] == c.result(
                "ghost_getStateRoot", height=cp["height"])["state_root"]
    finally:
        proc.stop()


def test_get_proof_requests_answer_as_rpc_md_says(tmp_path, key, counter_code):
    proc = start_node(tmp_path / "data")
    try:
        with Client(proc.url, key) as c:
            address = c.result("ghost_sendTransaction", tx=c.tx(
                "deploy", code=counter_code, label="c"))["address"]
            c.send(c.call_tx(address, "increment"))  # block 2
            root = bytes.fromhex(c.result("ghost_getStateRoot")["state_root"][2:])
            nobody = "0x" + "11" * 20  # no contract: its keys are proved absent
            for who, k in ((nobody, b"count"), (address, b""), (address, b"\x00" * 1025),
                           (address, b"\x01" * 64 * 1024)):
                got = c.result("ghost_getProof", address=who, key="0x" + k.hex())
                assert got["value"] is None and got["height"] == 2
                raw = bytes.fromhex(who[2:])
                assert doc_verify(root, raw, k, None, got["proof"])
                assert verify_proof(root, raw, k, None, Proof.from_json(got["proof"]))
            for bad in ("0x6", "6b", "0X6b", "0x6g", "0x 6b"):
                err = c.error("ghost_getProof", address=address, key=bad)
                assert (err["code"], err["data"]) == (-32602, {"code": "invalid_params"})
            err = c.error("ghost_getProof", address=address, key="0x" + "00" * (64 * 1024 + 1))
            assert err["code"] == -32001 and err["data"]["code"] == "too_large"
            err = c.error("ghost_getProof", address=address, key="0x00", height=3)
            assert err["code"] == -32044 and err["data"] == {"code": "height_unavailable",
                                                             "latest": 2}
            for bad in (-1, True, 1.0, "1"):
                err = c.error("ghost_getProof", address=address, key="0x00", height=bad)
                assert err["code"] == -32602
    finally:
        proc.stop()
