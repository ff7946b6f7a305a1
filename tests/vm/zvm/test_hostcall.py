"""HOSTCALL (0xD0): the host ABI from ZVM bytecode, priced exactly as the wasm imports."""

import pytest
from zvm_helpers import CALLER, SELF, run, top

from ghost_cli.exceptions import RevertError, TrapError
from ghost_cli.vm.gas import HOST_PRICES
from ghost_cli.vm.host_table import HOST_FUNCTIONS
from ghost_cli.vm.types import Limits
from ghost_cli.vm.zvm.handlers import host
from ghost_cli.vm.zvm.opcodes import BY_NAME

pytestmark = pytest.mark.usefixtures("both_paths")  # stepped and compiled

P = HOST_PRICES
HC = BY_NAME["HOSTCALL"].gas  # HOSTCALL's base, charged before the host function's price
SETUP = 'PUSH "key"\nPUSH 0\nMSTORE\nPUSH "value!!!"\nPUSH 32\nMSTORE\n'  # key at 0, value at 32
SETUP_GAS = 4 * 3 + 2 * 3 + 3 * 2  # pushes, MSTOREs, two words of memory


def hc(name: str, *args: int) -> str:
    """Push args so the first is on top, then HOSTCALL name."""
    return "".join(f"PUSH {a}\n" for a in reversed(args)) + f"HOSTCALL {name}\n"


def test_every_host_function_has_a_service_in_table_order():
    assert [s.__name__ for s, _, _ in host._BY_INDEX] == [f.name for f in HOST_FUNCTIONS]


def test_storage_write_read_has_delete_price_by_bytes():
    r = run(SETUP + hc("storage_write", 0, 3, 32, 8))
    assert r.writes[SELF] == {b"key": b"value!!!"}
    assert r.gas_used == SETUP_GAS + 4 * 3 + HC + P["storage_write"].cost(3 + 8)

    stored = {b"key": b"value!!!"}
    # storage_read copies min(value, out_cap) bytes and returns the full length
    assert top(SETUP + hc("storage_read", 0, 3, 64, 4), storage=stored) == 8
    r = run(SETUP + hc("storage_read", 0, 3, 64, 4) + "PUSH 64\nMLOAD\n"
            "PUSH 0\nMSTORE\nPUSH 32\nPUSH 0\nRETURN", storage=stored)
    assert r.return_data[:5] == b"valu\0"
    gas = run(SETUP + hc("storage_read", 0, 3, 64, 4), storage=stored).gas_used
    assert gas == SETUP_GAS + 4 * 3 + 3 + HC + P["storage_read"].cost(3 + 4)  # +1 word
    # absent: -1 as a u32
    assert top(SETUP + hc("storage_read", 0, 3, 64, 4)) == 0xFFFF_FFFF
    assert run(SETUP + hc("storage_read", 0, 3, 64, 4)).gas_used == \
        SETUP_GAS + 12 + 3 + HC + P["storage_read"].cost(3)

    assert top(SETUP + hc("storage_has", 0, 3), storage=stored) == 1
    assert top(SETUP + hc("storage_has", 0, 3)) == 0
    r = run(SETUP + hc("storage_delete", 0, 3), storage=stored)
    assert r.writes[SELF] == {b"key": None}
    assert r.gas_used == SETUP_GAS + 6 + HC + P["storage_delete"].cost(3)


def test_host_and_native_storage_share_one_store():
    # SSTORE slot 1, then storage_read it with its 32-byte key
    src = ("PUSH 0xABCD\nPUSH 1\nSSTORE\nPUSH 1\nPUSH 0\nMSTORE\n"
           + hc("storage_read", 0, 32, 32, 32) + "POP\nPUSH 32\nMLOAD")
    assert top(src) == 0xABCD


def test_input_functions_see_the_arguments_after_the_selector():
    data = bytes.fromhex("d09de08a") + b"argument"
    assert top(hc("input_size"), data=data) == 8
    r = run(hc("input_copy", 0, 2, 6) + "PUSH 6\nPUSH 0\nRETURN", data=data)
    assert r.return_data == b"gument"
    assert run(hc("input_copy", 0, 2, 6), data=data).gas_used == \
        9 + 3 + HC + P["input_copy"].cost(6)
    with pytest.raises(TrapError, match="past the end of the call data"):
        run(hc("input_copy", 0, 4, 6), data=data)
    assert top(hc("input_size"), data=b"\1\2") == 0


def test_set_return_and_revert():
    r = run(SETUP + hc("set_return", 32, 5))
    assert r.return_data == b"value"
    assert r.gas_used == SETUP_GAS + 6 + HC + P["set_return"].cost(5)
    r = run(SETUP + hc("set_return", 32, 5) + hc("set_return", 0, 3))
    assert r.return_data == b"key"  # the last call wins
    with pytest.raises(RevertError) as info:
        run(SETUP + hc("revert", 32, 8) + "PUSH 1")
    assert info.value.reason == "value!!!"
    assert info.value.gas_used == SETUP_GAS + 6 + HC + P["revert"].cost(8)


def test_emit_event_and_debug_log():
    r = run(SETUP + hc("emit_event", 0, 2, 32, 5))
    (event,) = r.events
    assert event.name == "key" and event.address == SELF
    assert event.topics[1][:8] == b"value!!!" and event.data == b"value"
    # topics 64 bytes + 5 data bytes; topics end at 64: no new memory
    assert r.gas_used == SETUP_GAS + 12 + HC + P["emit_event"].cost(64 + 5)
    with pytest.raises(TrapError, match="at most 4"):
        run(hc("emit_event", 0, 5, 0, 0))
    with pytest.raises(TrapError, match="limit"):
        run(hc("emit_event", 0, 1, 0, 100), limits=Limits(max_event_data_bytes=99))
    r = run(SETUP + hc("debug_log", 32, 5))
    assert r.logs == ("value",) and r.gas_used == SETUP_GAS + 6 + HC + P["debug_log"].cost(5)


def test_context_functions():
    r = run(hc("caller", 0) + hc("self_address", 20) + "PUSH 40\nPUSH 0\nRETURN")
    assert r.return_data == CALLER + SELF
    assert r.gas_used == 6 + 3 * 2 + 2 * HC + P["caller"].cost() + P["self_address"].cost() + 6
    assert top(hc("block_height")) == 7
    assert top(hc("block_time")) == 1_700_000_000
    assert top(hc("chain_id")) == 1337
    assert run(hc("chain_id")).gas_used == HC + P["chain_id"].cost()
    assert top(hc("gas_left"), gas=100_000) == 100_000 - HC - P["gas_left"].cost()


def test_key_and_value_limits_match_the_wasm_engine():
    limits = Limits(max_key_bytes=2, max_value_bytes=4)
    with pytest.raises(TrapError, match="key of 3 bytes"):
        run(SETUP + hc("storage_read", 0, 3, 64, 4), limits=limits)
    with pytest.raises(TrapError, match="value of 8 bytes"):
        run(SETUP + hc("storage_write", 0, 2, 32, 8), limits=limits)


def test_host_memory_is_charged_as_expansion_and_bounded():
    from ghost_cli.exceptions import MemoryLimitError

    assert run(hc("caller", 1000)).gas_used == 3 + HC + P["caller"].cost() + 3 * 32 + 32 * 32 // 512
    with pytest.raises(MemoryLimitError):
        run(hc("debug_log", 2**40, 1), gas=2**62)
