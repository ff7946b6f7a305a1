"""ghost_getProof at a height, ghost_getStateRoot and ghost_getCode, through the
dispatcher (sans-IO) over a real NodeCore."""

import hashlib

import pytest

from ghost_cli.crypto.proof import Proof, verify_proof


@pytest.fixture
def counter(rpc, counter_code) -> str:
    return rpc.deploy(counter_code)["address"]  # block 1


def _u64(n: int) -> str:
    return "0x" + n.to_bytes(8, "little").hex()


def test_proofs_at_past_heights_verify_against_their_roots(rpc, counter):
    address = bytes.fromhex(counter[2:])
    count = "0x" + b"count".hex()
    rpc.send_call(counter, "increment")  # block 2
    rpc.send_call(counter, "increment")  # block 3
    now = rpc.result("ghost_getStateRoot")
    assert now["height"] == now["latest"] == 3 and now["history_from"] == 0
    for height, value in ((1, None), (2, _u64(1)), (3, _u64(2))):
        root = rpc.result("ghost_getStateRoot", height=height)["state_root"]
        got = rpc.result("ghost_getProof", address=counter, key=count, height=height)
        assert (got["value"], got["height"], got["state_root"]) == (value, height, root)
        raw = None if value is None else bytes.fromhex(value[2:])
        assert verify_proof(bytes.fromhex(root[2:]), address, b"count", raw,
                            Proof.from_json(got["proof"]))
    assert rpc.result("ghost_getProof", address=counter, key=count)["state_root"] == (
        now["state_root"])


def test_a_height_past_the_latest_is_height_unavailable(rpc, counter):
    err = rpc.error("ghost_getProof", address=counter, key="0x00", height=9)
    assert err["code"] == -32044 and err["data"] == {"code": "height_unavailable",
                                                     "latest": 1}
    assert rpc.error("ghost_getStateRoot", height=9)["code"] == -32044


def test_code_by_hash(rpc, counter, counter_code):
    code_hash = rpc.result("ghost_getContract", address=counter)["code_hash"]
    got = rpc.result("ghost_getCode", code_hash=code_hash)
    assert got == {"code_hash": code_hash, "code": "0x" + counter_code.hex()}
    assert "0x" + hashlib.sha256(counter_code).hexdigest() == code_hash
    assert rpc.error("ghost_getCode", code_hash="0x" + "00" * 32)["code"] == -32040
    assert rpc.error("ghost_getCode", code_hash="0x00")["code"] == -32602
