"""Sub-calls through a resolver: results, gas, depth, and the journal that undoes a
reverted or failed sub-frame's storage, transient storage, warm slots and events."""

import pytest
from zvm_helpers import CALLER, zvmc

from ghost_cli.exceptions import ExecutionError
from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm.engine import ZvmEngine

A = bytes.fromhex("aa" * 20)
B = bytes.fromhex("bb" * 20)
C = bytes.fromhex("cc" * 20)
W = 2**256 - 1


def word(x: int) -> bytes:
    return x.to_bytes(32, "big")


class Chain:
    """Contracts by address with their committed storage, and an engine resolving them."""

    def __init__(self, **contracts: str) -> None:
        self.code = {bytes.fromhex(k[1:] * 20): zvmc(v)  # xaa → 0xaaaa…aa
                     for k, v in contracts.items()}
        self.storage: dict[bytes, dict[bytes, bytes]] = {a: {} for a in self.code}
        self.engine = ZvmEngine(resolver=self.resolve)

    def resolve(self, address: bytes):
        if address not in self.code:
            return None
        return self.code[address], self.storage[address].get

    def run(self, address: bytes = A, data: bytes = b"", gas: int = 10_000_000):
        contract = self.engine.load(self.code[address])
        ctx = CallContext(CALLER, address, b"", gas)
        return self.engine.run_message(contract, self.code[address], data, ctx,
                                       self.storage[address].get)


def call(target: bytes, op: str = "CALL", ret_size: int = 32, gas: str = "PUSH -1") -> str:
    """Assembly for OP target with no arguments, returning into memory [0, ret_size)."""
    value = "PUSH 0\n" if op in ("CALL", "CALLCODE") else ""
    return (f"PUSH {ret_size}\nPUSH 0\nPUSH 0\nPUSH 0\n{value}"
            f"PUSH 0x{target.hex()}\n{gas}\n{op}\n")


RETURN_MEM0 = "PUSH 32\nPUSH 0\nRETURN\n"
# B writes slot 1 = 7, TSTOREs, logs, then returns 32 bytes holding 0x42
B_OK = ("PUSH 7\nPUSH 1\nSSTORE\nPUSH 9\nPUSH 1\nTSTORE\nPUSH 0xB0\nPUSH 0\nPUSH 0\nLOG1\n"
        "PUSH 0x42\nPUSH 0\nMSTORE\n" + RETURN_MEM0)
# B does the same, then reverts with "no"
B_REVERT = ("PUSH 7\nPUSH 1\nSSTORE\nPUSH 9\nPUSH 1\nTSTORE\nPUSH 0xB0\nPUSH 0\nPUSH 0\nLOG1\n"
            'PUSH "no"\nPUSH 0\nMSTORE\nPUSH 2\nPUSH 0\nREVERT\n')
B_INVALID = "PUSH 7\nPUSH 1\nSSTORE\n.byte 0xEE\n"


def test_call_success_returns_data_and_keeps_changes():
    chain = Chain(xaa=call(B) + "RETURNDATASIZE\nPUSH 32\nMSTORE\n"
                  "PUSH 64\nPUSH 0\nRETURN", xbb=B_OK)
    r = chain.run()
    assert r.return_data[:32] == word(0x42)  # B's output copied to [0, 32)
    assert r.return_data[32:] == word(32)  # RETURNDATASIZE
    assert r.writes[B] == {word(1): word(7)}
    assert [e.address for e in r.events] == [B]


def test_call_pushes_1_on_success_and_0_on_revert():
    for callee, expected in ((B_OK, 1), (B_REVERT, 0), (B_INVALID, 0)):
        chain = Chain(xaa=call(B) + "PUSH 0\nMSTORE\n" + RETURN_MEM0, xbb=callee)
        assert chain.run().return_data == word(expected)


def test_reverted_sub_frame_is_undone_and_its_data_kept():
    a = (
        "PUSH 1\nPUSH 5\nSSTORE\n"  # A's own write before the call: kept
        + call(B, ret_size=0) + "POP\n"
        + "PUSH 1\nTLOAD\nPUSH 0\nMSTORE\n"  # B's transient write must be gone
        + "RETURNDATASIZE\nPUSH 32\nMSTORE\n"
        + "PUSH 2\nPUSH 0\nPUSH 64\nRETURNDATACOPY\n"  # "no" at 64
        + "PUSH 96\nPUSH 0\nRETURN"
    )
    chain = Chain(xaa=a, xbb=B_REVERT)
    r = chain.run()
    assert r.return_data[:32] == word(0)
    assert r.return_data[32:64] == word(2)
    assert r.return_data[64:66] == b"no"
    assert r.writes == {A: {word(5): word(1)}}
    assert r.events == ()


def test_failed_sub_frame_burns_its_gas_and_is_undone():
    ok = Chain(xaa=call(B, gas="PUSH 50000") + "POP", xbb="PUSH 7\nPUSH 1\nSSTORE")
    bad = Chain(xaa=call(B, gas="PUSH 50000") + "POP", xbb=B_INVALID)
    r_bad = bad.run()
    assert r_bad.writes.get(B, {}) == {}
    # 7 pushes, CALL, a word of memory for the return range, POP, and all of B's gas
    assert r_bad.gas_used == 7 * 3 + 100 + 3 + 2 + 50000
    assert ok.run().gas_used < r_bad.gas_used


def test_nested_revert_only_undoes_the_inner_frame():
    c = 'PUSH 3\nPUSH 3\nSSTORE\nPUSH 0xC0\nPUSH 0\nPUSH 0\nLOG1\nPUSH 0\nPUSH 0\nREVERT'
    b = "PUSH 2\nPUSH 2\nSSTORE\n" + call(C) + "POP\nPUSH 0xB0\nPUSH 0\nPUSH 0\nLOG1"
    a = "PUSH 1\nPUSH 1\nSSTORE\n" + call(B) + "POP"
    r = Chain(xaa=a, xbb=b, xcc=c).run()
    assert r.writes == {A: {word(1): word(1)}, B: {word(2): word(2)}}
    assert [e.topics[0] for e in r.events] == [word(0xB0)]


def test_warm_slots_are_rolled_back_with_the_frame():
    # B (run via DELEGATECALL in A's storage) touches slot 5 and reverts: slot 5 is cold
    # again for A, so A's SLOAD pays 2100 extra.
    a_touch = call(B, "DELEGATECALL", ret_size=0) + "POP\nPUSH 5\nSLOAD\nPOP"
    cold = Chain(xaa=a_touch, xbb="PUSH 5\nSLOAD\nPOP\nPUSH 0\nPUSH 0\nREVERT").run()
    warm = Chain(xaa=a_touch, xbb="PUSH 5\nSLOAD\nPOP").run()
    # A's SLOAD: cold (2200) instead of warm (200); B's revert path: two more PUSHes.
    assert cold.gas_used - warm.gas_used == 2000 + 2 * 3


def test_delegatecall_and_callcode_run_in_the_callers_storage():
    b = "PUSH 7\nPUSH 1\nSSTORE\nCALLER\nPUSH 0\nMSTORE\n" + RETURN_MEM0
    for op, caller in (("DELEGATECALL", CALLER), ("CALLCODE", A)):
        r = Chain(xaa=call(B, op) + "POP\n" + RETURN_MEM0, xbb=b).run()
        assert r.writes == {A: {word(1): word(7)}}
        assert r.return_data == word(int.from_bytes(caller, "big"))


def test_staticcall_sees_the_callee_as_itself():
    b = "ADDRESS\nPUSH 0\nMSTORE\nPUSH 1\nSLOAD\nPUSH 32\nMSTORE\nPUSH 64\nPUSH 0\nRETURN"
    chain = Chain(xaa=call(B, "STATICCALL", ret_size=64) + "POP\nPUSH 64\nPUSH 0\nRETURN",
                  xbb=b)
    chain.storage[B][word(1)] = word(77)
    r = chain.run()
    assert r.return_data == word(int.from_bytes(B, "big")) + word(77)


def test_calls_to_addresses_without_code_succeed_and_value_transfers_fail():
    a = call(C) + "PUSH 0\nMSTORE\n" + RETURN_MEM0
    assert Chain(xaa=a).run().return_data == word(1)
    with_value = ("PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH 1\nPUSH 0x" + B.hex()
                  + "\nPUSH -1\nCALL\nPUSH 0\nMSTORE\n" + RETURN_MEM0)
    r = Chain(xaa=with_value, xbb=B_OK).run()
    assert r.return_data == word(0)  # no balances in ghost: nothing can pay
    assert r.gas_used == 7 * 3 + 100 + 9000 + 3 + 3 + 3 + 3 + 3  # value surcharge kept


def test_without_a_resolver_other_contracts_cannot_be_called():
    from zvm_helpers import top

    assert top(call(B)) == 0
    assert top(f"PUSH 0x{B.hex()}\nEXTCODESIZE") == 0


def test_extcode_reads_the_other_contracts_code():
    from ghost_cli.chain.hashing import keccak256
    from ghost_cli.vm.zvm import assemble

    b_code = assemble(B_OK)
    a = (f"PUSH 0x{B.hex()}\nEXTCODESIZE\nPUSH 0\nMSTORE\n"
         f"PUSH 0x{B.hex()}\nEXTCODEHASH\nPUSH 32\nMSTORE\n"
         f"PUSH 4\nPUSH 0\nPUSH 64\nPUSH 0x{B.hex()}\nEXTCODECOPY\n"
         f"PUSH 0x{C.hex()}\nEXTCODEHASH\nPUSH 96\nMSTORE\n"
         "PUSH 128\nPUSH 0\nRETURN")
    r = Chain(xaa=a, xbb=B_OK).run()
    assert r.return_data[:32] == word(len(b_code))
    assert r.return_data[32:64] == keccak256(b_code)
    assert r.return_data[64:68] == b_code[:4]
    assert r.return_data[96:] == word(0)


def test_call_depth_is_limited_to_1024():
    # Every frame counts itself in transient storage, then calls itself with all its gas.
    a = ("PUSH 0\nTLOAD\nPUSH 1\nADD\nPUSH 0\nTSTORE\n" + call(A, ret_size=0)
         + "POP\nPUSH 0\nTLOAD\nPUSH 0\nMSTORE\n" + RETURN_MEM0)
    r = Chain(xaa=a).run(gas=2**62)
    assert r.return_data == word(1025)  # depths 0..1024; the call from 1024 fails


def test_the_callee_gets_at_most_63_64ths_of_the_gas():
    # B reports its gas_left through the host ABI.
    b = "HOSTCALL gas_left\nPUSH 0\nMSTORE\n" + RETURN_MEM0
    r = Chain(xaa=call(B) + "POP\n" + RETURN_MEM0, xbb=b).run(gas=1_000_000)
    available = 1_000_000 - 7 * 3 - 100 - 3  # 7 pushes, CALL, memory for the return range
    child = available - available // 64
    assert int.from_bytes(r.return_data, "big") == child - 10


def test_execute_refuses_writes_it_cannot_record():
    chain = Chain(xaa=call(B) + "POP", xbb=B_OK)
    ctx = CallContext(CALLER, A, b"", 10**6)
    with pytest.raises(ExecutionError, match="other contract"):
        chain.engine.execute(chain.code[A], "f()", ctx, {}.get)


def test_create_is_not_supported_yet():
    from zvm_helpers import top

    assert top("PUSH 0\nPUSH 0\nPUSH 0\nCREATE") == 0
    assert top("PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nCREATE2") == 0
