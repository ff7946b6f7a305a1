"""Sub-calls and creations through a resolver: results, gas, depth, addresses, and the
journal that undoes a reverted or failed sub-frame's storage, transient storage, warm
slots, events, nonces and contracts."""

import pytest
from zvm_helpers import CALLER, zvmc

from ghost_cli.crypto.hashing import contract_address, keccak256
from ghost_cli.exceptions import TrapError
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm import assemble as asm
from ghost_cli.vm.zvm import encode_zvmc
from ghost_cli.vm.zvm.engine import ZvmEngine
from ghost_cli.vm.zvm.opcodes import BY_NAME

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

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
    from ghost_cli.crypto.hashing import keccak256
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
    hostcall = BY_NAME["HOSTCALL"].gas + HOST_PRICES["gas_left"].cost()
    assert int.from_bytes(r.return_data, "big") == child - hostcall


def test_execute_reports_other_contracts_writes_apart():
    chain = Chain(xaa="PUSH 1\nPUSH 1\nSSTORE\n" + call(B) + "POP", xbb=B_OK)
    ctx = CallContext(CALLER, A, b"", 10**6)
    out = chain.engine.execute(chain.code[A], "f()", ctx, {}.get)
    assert out.writes == {word(1): word(1)}
    assert out.other_writes == {B: {word(1): word(7)}}
    assert out.created == () and out.nonces == {}


def test_create_without_a_view_of_the_chain_pushes_0():
    from zvm_helpers import top

    # No world and no resolver: the engine cannot tell whether the address is free.
    assert top("PUSH 0\nPUSH 0\nPUSH 0\nCREATE") == 0
    assert top("PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nCREATE2") == 0


# ---- CREATE and CREATE2 -----------------------------------------------------------------


def put(data: bytes, at: int = 0) -> str:
    """Assembly writing `data` to memory at `at`, one 32-byte word at a time."""
    out = ""
    for i in range(0, len(data), 32):
        chunk = data[i:i + 32].ljust(32, b"\0")
        out += f"PUSH32 0x{chunk.hex()}\nPUSH {at + i}\nMSTORE\n"
    return out


def creating(init: bytes, op: str = "CREATE", salt: int = 0, value: int = 0) -> str:
    """Assembly running OP on `init` (written to memory 0), leaving the address on top."""
    salt_push = f"PUSH {salt}\n" if op == "CREATE2" else ""
    return put(init) + f"{salt_push}PUSH {len(init)}\nPUSH 0\nPUSH {value}\n{op}\n"


def constructor(runtime: bytes, prefix: str = "") -> bytes:
    """Init code returning `runtime` (appended after it), after running `prefix`."""
    return asm(prefix + "PUSH @end\nCODESIZE\nSUB\nDUP1\nPUSH @end\nPUSH 0\nCODECOPY\n"
                             "PUSH 0\nRETURN\nend:") + runtime


def test_create_runs_the_constructor_and_the_new_contract_can_be_called_at_once():
    runtime = asm("PUSH 0x42\nPUSH 0\nMSTORE\n" + RETURN_MEM0)
    init = constructor(runtime, "PUSH 9\nPUSH 3\nSSTORE\nCALLER\nPUSH 4\nSSTORE\n")
    a = (creating(init) + "PUSH 0\nMSTORE\n"  # mem[0] = the address
         "PUSH 32\nPUSH 64\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nMLOAD\nPUSH -1\nCALL\n"
         "PUSH 32\nMSTORE\n"  # mem[32] = the call's flag, mem[64] = its output
         "PUSH 0\nMLOAD\nEXTCODESIZE\nPUSH 96\nMSTORE\nPUSH 128\nPUSH 0\nRETURN")
    r = Chain(xaa=a).run()
    new = contract_address(A, 0)
    assert r.return_data[:32] == word(int.from_bytes(new, "big"))
    assert r.return_data[32:64] == word(1) and r.return_data[64:96] == word(0x42)
    assert r.return_data[96:] == word(len(runtime))  # EXTCODESIZE sees the code section
    (made,) = r.created
    assert made.address == new and made.deployer == A and made.metadata == {}
    assert made.code == encode_zvmc(runtime)  # raw code, stored in a container
    assert r.writes[new] == {word(3): word(9), word(4): word(int.from_bytes(A, "big"))}
    assert r.nonces == {A: 1}


def test_create_gas_is_32000_plus_200_per_deployed_byte():
    def gas(n: int) -> int:
        init = asm(f"PUSH {n}\nPUSH 0\nRETURN")  # n zero bytes of code
        return Chain(xaa=creating(init) + "POP").run().gas_used

    # put: PUSH32, PUSH, MSTORE and a word of memory; three PUSHes; CREATE; POP; the
    # constructor: two PUSHes and a word of memory; the deposit.
    assert gas(10) == 12 + 9 + 32000 + 2 + 9 + 200 * 10
    assert gas(20) - gas(10) == 200 * 10


def test_create_short_of_the_deposit_fails_and_burns_the_constructors_gas():
    init = asm("PUSH 1\nPUSH 3\nSSTORE\nPUSH 1000\nPUSH 0\nRETURN")  # 200,000 gas to deposit
    r = Chain(xaa=creating(init) + "PUSH 0\nMSTORE\n" + RETURN_MEM0).run(gas=150_000)
    assert r.return_data == word(0) and r.created == () and r.writes == {}
    assert r.nonces == {A: 1}  # the nonce was spent before the constructor ran
    left = 150_000 - (12 + 9 + 32000)
    assert r.gas_used == 150_000 - left // 64 + 3 + 3 + 3 + 3  # all but 1/64 gone


def test_create_fails_cleanly_on_value_and_too_much_init_code():
    r = Chain(xaa=creating(b"", value=1) + "PUSH 0\nMSTORE\n" + RETURN_MEM0).run()
    assert r.return_data == word(0) and r.nonces == {}  # nothing can pay: nonce untouched
    with pytest.raises(TrapError, match="49153 bytes exceeds 49152"):
        Chain(xaa="PUSH 49153\nPUSH 0\nPUSH 0\nCREATE").run()


def test_a_reverting_constructor_leaves_its_revert_data():
    init = asm('PUSH 1\nPUSH 3\nSSTORE\nPUSH "no"\nPUSH 0\nMSTORE\nPUSH 2\nPUSH 0\nREVERT')
    a = (creating(init) + "PUSH 0\nMSTORE\nRETURNDATASIZE\nPUSH 32\nMSTORE\n"
         "PUSH 64\nPUSH 0\nRETURN")
    r = Chain(xaa=a).run()
    assert r.return_data == word(0) + word(2)
    assert r.created == () and r.writes == {} and r.nonces == {A: 1}


def test_create2_address_and_an_in_transaction_collision():
    init = constructor(asm("HALT"))
    a = (creating(init, "CREATE2", salt=5) + "PUSH 64\nMSTORE\n"  # init is at 0..64
         + creating(init, "CREATE2", salt=5) + "PUSH 96\nMSTORE\nPUSH 64\nPUSH 64\nRETURN")
    r = Chain(xaa=a).run()
    expected = keccak256(b"\xff" + A + word(5) + keccak256(init))[-20:]
    assert r.return_data == word(int.from_bytes(expected, "big")) + word(0)
    assert [c.address for c in r.created] == [expected]
    assert r.nonces == {A: 2}  # the failed attempt spent a nonce too


def test_a_creation_inside_a_reverted_frame_is_undone():
    b = creating(constructor(asm("HALT"))) + "POP\nPUSH 0\nPUSH 0\nREVERT"
    r = Chain(xaa=call(B) + "POP", xbb=b).run()
    assert r.created == () and r.nonces == {} and r.writes == {}


def test_selfdestruct_deletes_a_contract_created_in_the_same_transaction_only():
    init = constructor(asm("PUSH 0\nSELFDESTRUCT"), "PUSH 1\nPUSH 3\nSSTORE\n")
    a = (creating(init) + "PUSH 0\nMSTORE\n"
         "PUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nPUSH 0\nMLOAD\nPUSH -1\nCALL\nPOP\n"
         + call(B, ret_size=0) + "POP")
    chain = Chain(xaa=a, xbb="PUSH 2\nPUSH 2\nSSTORE\nPUSH 0\nSELFDESTRUCT")
    r = chain.run()
    assert r.created == ()  # EIP-6780: created and destroyed here, so gone
    assert contract_address(A, 0) not in r.writes and r.nonces == {A: 1}
    assert r.writes == {B: {word(2): word(2)}}  # B existed before: SELFDESTRUCT just halts


def test_naming_the_same_contract_again_does_not_hash_its_code_again(monkeypatch):
    """CALL, EXTCODESIZE, EXTCODECOPY and EXTCODEHASH cost 100 gas or less whatever the
    size of the contract they name (up to Limits.module_bytes): the code is hashed and
    copied once per run, not once per instruction, or a loop naming two big contracts in
    turn would buy milliseconds of hashing per 100 gas."""
    from ghost_cli.crypto import hashing
    from ghost_cli.vm.zvm import engine as zvm_engine

    hashed: list[int] = []

    def counting(data: bytes) -> bytes:
        hashed.append(len(data))
        return keccak256(data)

    monkeypatch.setattr(hashing, "keccak256", counting)  # EXTCODEHASH's
    monkeypatch.setattr(zvm_engine, "keccak256", counting)  # the engine's code cache key
    padding = 64 * 1024  # big enough to tell its hashes from anything else's
    b_code = asm("PUSH 0\nPUSH 0\nRETURN\n") + b"\x00" * padding
    c_code = asm("PUSH 0\nPUSH 0\nRETURN\n") + b"\x01" * padding
    rounds = 20
    body = (call(B, "STATICCALL", ret_size=0) + "POP\n" + call(C, "STATICCALL", ret_size=0)
            + "POP\n" + f"PUSH 0x{B.hex()}\nEXTCODEHASH\nPOP\n"
            + f"PUSH 0x{C.hex()}\nEXTCODESIZE\nPOP\n")
    a = (f"PUSH {rounds}\nloop:\nJUMPDEST\nDUP1\nISZERO\nPUSH @end\nJUMPI\n{body}"
         "PUSH 1\nSWAP1\nSUB\nPUSH @loop\nJUMP\nend:\nJUMPDEST\nHALT\n")
    chain = Chain(xaa=a)
    chain.code[B], chain.code[C] = encode_zvmc(b_code), encode_zvmc(c_code)
    chain.storage[B], chain.storage[C] = {}, {}
    hashed.clear()
    chain.run(gas=10_000_000)
    big = [n for n in hashed if n >= padding]
    # B and C: one key for the engine's cache each, and B's code once for EXTCODEHASH
    assert len(big) == 3, big


def test_one_init_code_created_again_is_analysed_once(monkeypatch):
    """A loop of CREATEs of one 48 KiB init code scanned its JUMPDESTs every time."""
    from ghost_cli.vm.zvm import interpreter
    from ghost_cli.vm.zvm.handlers import calls

    calls._init_code.cache_clear()
    scans: list[int] = []
    real = interpreter.jumpdests
    monkeypatch.setattr(interpreter, "jumpdests", lambda code: (scans.append(len(code)),
                                                                 real(code))[1])
    init = constructor(asm("HALT"), "JUMPDEST\n" * 40)
    twice = creating(init, "CREATE2", salt=1) + "POP\n" + creating(init, "CREATE2", salt=2)
    r = Chain(xaa=twice + "PUSH 0\nMSTORE\n" + RETURN_MEM0).run()
    assert r.return_data != word(0) and len(r.created) == 2
    assert scans.count(len(init)) == 1
