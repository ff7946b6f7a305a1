"""WebAssembly instructions as data, and a decoder for one function body.

Every opcode of WebAssembly 1.0 plus the sign-extension, saturating-truncation and
bulk-memory encodings is named here, so a refusal can name what it refuses. The decoder
reads immediates by kind; what the lowering supports is decided elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from .wasm_module import ByteReader

# Immediate kinds.
NONE = ""
BLOCKTYPE = "blocktype"
LABEL = "label"
TABLE = "br_table"
INDEX = "index"  # function, local or global index
CALL_INDIRECT = "call_indirect"
MEMARG = "memarg"
ZERO = "zero"  # a reserved memory index byte
I32 = "i32"
I64 = "i64"
F32 = "f32"
F64 = "f64"
SELECT_T = "select_t"
REFTYPE = "reftype"


@dataclass(frozen=True)
class OpInfo:
    name: str
    imm: str = NONE


def _table() -> dict[int, OpInfo]:
    t: dict[int, OpInfo] = {
        0x00: OpInfo("unreachable"), 0x01: OpInfo("nop"),
        0x02: OpInfo("block", BLOCKTYPE), 0x03: OpInfo("loop", BLOCKTYPE),
        0x04: OpInfo("if", BLOCKTYPE), 0x05: OpInfo("else"), 0x0B: OpInfo("end"),
        0x0C: OpInfo("br", LABEL), 0x0D: OpInfo("br_if", LABEL),
        0x0E: OpInfo("br_table", TABLE), 0x0F: OpInfo("return"),
        0x10: OpInfo("call", INDEX), 0x11: OpInfo("call_indirect", CALL_INDIRECT),
        0x1A: OpInfo("drop"), 0x1B: OpInfo("select"), 0x1C: OpInfo("select", SELECT_T),
        0x20: OpInfo("local.get", INDEX), 0x21: OpInfo("local.set", INDEX),
        0x22: OpInfo("local.tee", INDEX), 0x23: OpInfo("global.get", INDEX),
        0x24: OpInfo("global.set", INDEX),
        0x25: OpInfo("table.get", INDEX), 0x26: OpInfo("table.set", INDEX),
        0x3F: OpInfo("memory.size", ZERO), 0x40: OpInfo("memory.grow", ZERO),
        0x41: OpInfo("i32.const", I32), 0x42: OpInfo("i64.const", I64),
        0x43: OpInfo("f32.const", F32), 0x44: OpInfo("f64.const", F64),
        0xD0: OpInfo("ref.null", REFTYPE), 0xD1: OpInfo("ref.is_null"),
        0xD2: OpInfo("ref.func", INDEX),
    }
    memory = (
        "i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s "
        "i32.load16_u i64.load8_s i64.load8_u i64.load16_s i64.load16_u i64.load32_s "
        "i64.load32_u i32.store i64.store f32.store f64.store i32.store8 i32.store16 "
        "i64.store8 i64.store16 i64.store32"
    ).split()
    for i, name in enumerate(memory):
        t[0x28 + i] = OpInfo(name, MEMARG)
    plain = (
        "i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u "
        "i32.ge_s i32.ge_u i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u "
        "i64.le_s i64.le_u i64.ge_s i64.ge_u f32.eq f32.ne f32.lt f32.gt f32.le f32.ge "
        "f64.eq f64.ne f64.lt f64.gt f64.le f64.ge i32.clz i32.ctz i32.popcnt i32.add "
        "i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u i32.and i32.or i32.xor "
        "i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr i64.clz i64.ctz i64.popcnt i64.add "
        "i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor "
        "i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr f32.abs f32.neg f32.ceil f32.floor "
        "f32.trunc f32.nearest f32.sqrt f32.add f32.sub f32.mul f32.div f32.min f32.max "
        "f32.copysign f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt "
        "f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign i32.wrap_i64 "
        "i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u i64.extend_i32_s "
        "i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u "
        "f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u "
        "f32.demote_f64 f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s "
        "f64.convert_i64_u f64.promote_f32 i32.reinterpret_f32 i64.reinterpret_f64 "
        "f32.reinterpret_i32 f64.reinterpret_i64 i32.extend8_s i32.extend16_s "
        "i64.extend8_s i64.extend16_s i64.extend32_s"
    ).split()
    for i, name in enumerate(plain):
        t[0x45 + i] = OpInfo(name)
    return t


OPCODES: dict[int, OpInfo] = _table()

#: The 0xFC prefix: saturating truncation, bulk memory and table instructions.
PREFIXED_FC: dict[int, str] = {
    0: "i32.trunc_sat_f32_s", 1: "i32.trunc_sat_f32_u", 2: "i32.trunc_sat_f64_s",
    3: "i32.trunc_sat_f64_u", 4: "i64.trunc_sat_f32_s", 5: "i64.trunc_sat_f32_u",
    6: "i64.trunc_sat_f64_s", 7: "i64.trunc_sat_f64_u", 8: "memory.init", 9: "data.drop",
    10: "memory.copy", 11: "memory.fill", 12: "table.init", 13: "elem.drop",
    14: "table.copy", 15: "table.grow", 16: "table.size", 17: "table.fill",
}


@dataclass(frozen=True)
class Instr:
    op: int  # the opcode byte (0xFC / 0xFD for prefixed instructions)
    name: str
    imm: object = None  # int, (align, offset), (targets, default), (type, table) or None
    offset: int = 0  # where the instruction starts in the module


class UnsupportedEncoding(Exception):
    """An instruction this decoder cannot even frame (SIMD, unknown bytes): the caller
    names the function and turns it into a CompileError."""

    def __init__(self, name: str, offset: int) -> None:
        super().__init__(name)
        self.name = name
        self.offset = offset


class CodeReader(ByteReader):
    """The module reader's cursor, with signed and wide LEB128 for instruction immediates
    and end-of-body messages."""

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of function body")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def _leb(self, bits: int) -> tuple[int, int, int]:
        """LEB128's groups of 7 bits as read: (value unsigned, bits read, last byte)."""
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result, shift, b
            if shift >= bits + 7:
                raise self.fail("integer encoding too long")

    def uleb(self, bits: int = 32) -> int:
        result, _, _ = self._leb(bits)
        if result >= 1 << bits:
            raise self.fail(f"integer too large for u{bits}")
        return result

    def sleb(self, bits: int) -> int:
        result, shift, b = self._leb(bits)
        if b & 0x40:
            result -= 1 << shift
        if not -(1 << (bits - 1)) <= result < 1 << (bits - 1):
            raise self.fail(f"integer out of range for s{bits}")
        return result

    def take(self, n: int) -> bytes:
        if self.pos + n > self.end:
            raise self.fail(f"{n} bytes run past the end of the function body")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def read_instr(r: CodeReader) -> Instr:
    """Decode the instruction at the reader's position."""
    start = r.pos
    op = r.byte()
    if op == 0xFC:
        sub = r.uleb()
        name = PREFIXED_FC.get(sub)
        if name is None:
            raise UnsupportedEncoding(f"unknown instruction 0xfc {sub}", start)
        raise UnsupportedEncoding(name, start)
    if op == 0xFD:
        raise UnsupportedEncoding(f"SIMD instruction 0xfd {r.uleb()}", start)
    info = OPCODES.get(op)
    if info is None:
        raise UnsupportedEncoding(f"unknown opcode 0x{op:02x}", start)
    kind = info.imm
    imm: object = None
    if kind == BLOCKTYPE:
        imm = read_blocktype(r)
    elif kind in (LABEL, INDEX):
        imm = r.uleb()
    elif kind == TABLE:
        targets = tuple(r.uleb() for _ in range(r.uleb()))
        imm = (targets, r.uleb())
    elif kind == CALL_INDIRECT:
        imm = (r.uleb(), r.uleb())
    elif kind == MEMARG:
        imm = (r.uleb(), r.uleb())  # (alignment exponent, offset)
    elif kind == ZERO:
        if r.byte() != 0:
            raise r.fail(f"{info.name} names a memory other than 0")
    elif kind == I32:
        imm = r.sleb(32)
    elif kind == I64:
        imm = r.sleb(64)
    elif kind == F32:
        imm = r.take(4)
    elif kind == F64:
        imm = r.take(8)
    elif kind == SELECT_T:
        imm = tuple(r.byte() for _ in range(r.uleb()))
    elif kind == REFTYPE:
        imm = r.byte()
    return Instr(op, info.name, imm, start)


_BLOCK_VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
                   0x70: "funcref", 0x6F: "externref"}


def read_blocktype(r: CodeReader) -> object:
    """None for no result, a value type name, or ("type", index) for a multi-value type."""
    b = r.data[r.pos] if r.pos < r.end else None
    if b == 0x40:
        r.pos += 1
        return None
    if b in _BLOCK_VALTYPES:
        r.pos += 1
        return _BLOCK_VALTYPES[b]
    index = r.sleb(33)
    if index < 0:
        raise r.fail(f"bad block type {index}")
    return ("type", index)
