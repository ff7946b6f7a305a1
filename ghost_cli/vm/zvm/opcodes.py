"""The ZVM opcode map as data: one row per opcode, ZVM v1.0.0's byte values and base gas.

Every consumer reads this table: the interpreter builds its dispatch from it (static gas
and stack bounds are checked by the dispatcher from `gas`, `pops` and `pushes`; the
handler named by `family`.`handler` does the rest), the assembler and disassembler take
names and immediate sizes from it, and JUMPDEST analysis skips `immediate` bytes.

Bytes not in the table (E0..EC Hedera syscalls, F1 PQ_VERIFY_FALCON, F3 PQ_KEYGEN and
every unassigned value) are invalid opcodes: executing one is an InvalidOpcodeError.
0xD0 HOSTCALL is a ghost extension (docs/zvm.md): its 1-byte immediate indexes
ghost_cli.vm.host_table.HOST_FUNCTIONS.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from types import MappingProxyType

STACK_LIMIT = 1024
WORD_BYTES = 32


#: Every instruction that does not end execution costs at least this much: a loop of
#: free instructions would otherwise run for as long as its gas limit allows work.
MIN_GAS = 1
#: The instructions that end execution, which may cost less.
ENDS_EXECUTION = frozenset({"HALT", "RETURN", "REVERT"})


@dataclass(frozen=True)
class Opcode:
    value: int
    name: str
    gas: int  # base gas, charged by the dispatcher before the handler runs
    family: str  # module under ghost_cli.vm.zvm.handlers
    handler: str  # function in that module
    pops: int  # stack items the opcode needs (checked by the dispatcher)
    pushes: int  # stack items it leaves in their place
    immediate: int = 0  # bytes of immediate operand after the opcode byte
    arg: int | None = None  # parameter for families of similar opcodes (DUPn, LOGn, ...)


def _op(value: int, name: str, gas: int, family: str, pops: int, pushes: int,
        handler: str | None = None, immediate: int = 0, arg: int | None = None) -> Opcode:
    if handler is None:  # RETURN -> return_, AND -> and_: Python keywords get a trailing _
        handler = name.lower() + ("_" if keyword.iskeyword(name.lower()) else "")
    return Opcode(value, name, gas, family, handler, pops, pushes, immediate, arg)


_ROWS: tuple[Opcode, ...] = (
    # control and stack
    _op(0x00, "HALT", 0, "control", 0, 0),
    _op(0x01, "NOP", 1, "control", 0, 0),
    _op(0x10, "POP", 2, "stack", 1, 0),
    *(_op(0x11 + i, f"PUSH{n}", 3, "stack", 0, 1, "push", immediate=n, arg=n)
      for i, n in enumerate((1, 2, 4, 8, 16, 32))),
    *(_op(0x17 + i, f"DUP{i + 1}", 3, "stack", i + 1, i + 2, "dup", arg=i + 1)
      for i in range(4)),
    *(_op(0x1B + i, f"SWAP{i + 1}", 3, "stack", i + 2, i + 2, "swap", arg=i + 1)
      for i in range(4)),
    # arithmetic
    _op(0x30, "ADD", 3, "arithmetic", 2, 1),
    _op(0x31, "SUB", 3, "arithmetic", 2, 1),
    _op(0x32, "MUL", 5, "arithmetic", 2, 1),
    _op(0x33, "DIV", 5, "arithmetic", 2, 1),
    _op(0x34, "SDIV", 5, "arithmetic", 2, 1),
    _op(0x35, "MOD", 5, "arithmetic", 2, 1),
    _op(0x36, "SMOD", 5, "arithmetic", 2, 1),
    _op(0x37, "ADDMOD", 8, "arithmetic", 3, 1),
    _op(0x38, "MULMOD", 8, "arithmetic", 3, 1),
    _op(0x39, "EXP", 10, "arithmetic", 2, 1),
    _op(0x3A, "SIGNEXTEND", 5, "arithmetic", 2, 1),
    # comparison and bitwise
    _op(0x50, "LT", 3, "logic", 2, 1),
    _op(0x51, "GT", 3, "logic", 2, 1),
    _op(0x52, "SLT", 3, "logic", 2, 1),
    _op(0x53, "SGT", 3, "logic", 2, 1),
    _op(0x54, "EQ", 3, "logic", 2, 1),
    _op(0x55, "ISZERO", 3, "logic", 1, 1),
    _op(0x56, "AND", 3, "logic", 2, 1),
    _op(0x57, "OR", 3, "logic", 2, 1),
    _op(0x58, "XOR", 3, "logic", 2, 1),
    _op(0x59, "NOT", 3, "logic", 1, 1),
    _op(0x5A, "BYTE", 3, "logic", 2, 1),
    _op(0x5B, "SHL", 8, "logic", 2, 1),
    _op(0x5C, "SHR", 8, "logic", 2, 1),
    _op(0x5D, "SAR", 8, "logic", 2, 1),
    # hashing
    _op(0x70, "KECCAK256", 30, "hashing", 2, 1),
    _op(0x71, "SHA256", 60, "hashing", 2, 1),
    _op(0x72, "RIPEMD160", 600, "hashing", 2, 1),
    _op(0x73, "BLAKE2B", 30, "hashing", 2, 1),
    # memory
    _op(0x80, "MLOAD", 3, "memory", 1, 1),
    _op(0x81, "MSTORE", 3, "memory", 2, 0),
    _op(0x82, "MSTORE8", 3, "memory", 2, 0),
    _op(0x83, "MSIZE", 3, "memory", 0, 1),
    # storage
    _op(0x90, "SLOAD", 100, "storage", 1, 1),
    _op(0x91, "SSTORE", 100, "storage", 2, 0),
    _op(0x92, "TLOAD", 100, "storage", 1, 1),
    _op(0x93, "TSTORE", 100, "storage", 2, 0),
    # flow and calls
    _op(0xA0, "JUMP", 8, "control", 1, 0),
    _op(0xA1, "JUMPI", 10, "control", 2, 0),
    _op(0xA2, "PC", 3, "control", 0, 1),
    _op(0xA3, "JUMPDEST", 1, "control", 0, 0),
    _op(0xA4, "CALL", 100, "calls", 7, 1),
    _op(0xA5, "CALLCODE", 100, "calls", 7, 1),
    _op(0xA6, "DELEGATECALL", 100, "calls", 6, 1),
    _op(0xA7, "STATICCALL", 100, "calls", 6, 1),
    _op(0xA8, "RETURN", 0, "control", 2, 0),
    _op(0xA9, "REVERT", 0, "control", 2, 0),
    _op(0xAA, "SELFDESTRUCT", 5000, "control", 1, 0),
    _op(0xAB, "CREATE", 32000, "calls", 3, 1),
    _op(0xAC, "CREATE2", 32000, "calls", 4, 1),
    # context
    _op(0xB0, "ADDRESS", 2, "context", 0, 1),
    _op(0xB1, "BALANCE", 2, "context", 1, 1),
    _op(0xB2, "ORIGIN", 2, "context", 0, 1),
    _op(0xB3, "CALLER", 2, "context", 0, 1),
    _op(0xB4, "CALLVALUE", 2, "context", 0, 1),
    _op(0xB5, "CALLDATALOAD", 3, "context", 1, 1),
    _op(0xB6, "CALLDATASIZE", 2, "context", 0, 1),
    _op(0xB7, "CALLDATACOPY", 3, "context", 3, 0),
    _op(0xB8, "CODESIZE", 2, "context", 0, 1),
    _op(0xB9, "CODECOPY", 3, "context", 3, 0),
    _op(0xBA, "GASPRICE", 2, "context", 0, 1),
    _op(0xBB, "EXTCODESIZE", 100, "context", 1, 1),
    _op(0xBC, "EXTCODECOPY", 3, "context", 4, 0),
    _op(0xBD, "RETURNDATASIZE", 2, "context", 0, 1),
    _op(0xBE, "RETURNDATACOPY", 3, "context", 3, 0),
    _op(0xBF, "EXTCODEHASH", 100, "context", 1, 1),
    # block
    _op(0xC0, "BLOCKHASH", 20, "block", 1, 1),
    _op(0xC1, "COINBASE", 2, "block", 0, 1),
    _op(0xC2, "TIMESTAMP", 2, "block", 0, 1),
    _op(0xC3, "NUMBER", 2, "block", 0, 1),
    _op(0xC4, "DIFFICULTY", 2, "block", 0, 1),
    _op(0xC5, "PREVRANDAO", 2, "block", 0, 1),
    _op(0xC6, "GASLIMIT", 2, "block", 0, 1),
    _op(0xC7, "CHAINID", 2, "block", 0, 1),
    _op(0xC8, "SELFBALANCE", 2, "block", 0, 1),
    _op(0xC9, "BASEFEE", 2, "block", 0, 1),
    # ghost: the host ABI as one opcode; pops and pushes depend on the function called,
    # so the handler checks the stack itself. Its base gas is charged before the host
    # function's own price (vm/gas.py).
    _op(0xD0, "HOSTCALL", 1, "host", 0, 0, immediate=1),
    _op(0xD2, "TABLEHASH", 30, "hashing", 2, 1),
    # post-quantum signature verification (F1 FALCON and F3 KEYGEN stay invalid)
    _op(0xF0, "PQ_VERIFY_DILITHIUM", 1000, "pq", 7, 1, "verify_ml_dsa"),
    _op(0xF2, "PQ_VERIFY_SPHINCS", 2000, "pq", 7, 1, "verify_slh_dsa"),
    # logs
    *(_op(0xF8 + n, f"LOG{n}", 375 * (n + 1), "logs", 2 + n, 0, "log", arg=n)
      for n in range(5)),
)

#: Opcode rows by byte value; absent bytes are invalid.
OPCODES: MappingProxyType[int, Opcode] = MappingProxyType({op.value: op for op in _ROWS})
#: Opcode rows by mnemonic (upper case).
BY_NAME: MappingProxyType[str, Opcode] = MappingProxyType({op.name: op for op in _ROWS})
#: PUSH opcodes by immediate size in bytes.
PUSH_BY_SIZE: MappingProxyType[int, Opcode] = MappingProxyType(
    {op.immediate: op for op in _ROWS if op.handler == "push"})
PUSH_SIZES: tuple[int, ...] = tuple(sorted(PUSH_BY_SIZE))

#: Bytes ZVM v1.0.0 names but ghost deliberately leaves invalid, with the reason.
RESERVED: MappingProxyType[int, str] = MappingProxyType({
    **{b: "a Hedera syscall, not part of the Ghost stack" for b in range(0xE0, 0xED)},
    0xF1: "PQ_VERIFY_FALCON: no FALCON verifier in ghost yet",
    0xF3: "PQ_KEYGEN: key generation has no place in deterministic contract code",
})


def jumpdests(code: bytes) -> frozenset[int]:
    """Offsets of JUMPDEST bytes that are real instructions, not immediate data."""
    out = []
    pc, n = 0, len(code)
    jumpdest = BY_NAME["JUMPDEST"].value
    while pc < n:
        byte = code[pc]
        if byte == jumpdest:
            out.append(pc)
            pc += 1
            continue
        op = OPCODES.get(byte)
        pc += 1 + (op.immediate if op is not None else 0)
    return frozenset(out)
