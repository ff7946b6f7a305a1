"""Integer instructions as ZVM sequences.

Values live on the ZVM stack in canonical form: an i32 as an unsigned word below 2^32,
an i64 below 2^64. Every sequence takes canonical operands and leaves a canonical
result, masking after anything that can carry past the type's width. Binary operators
see wasm's second operand on top (ZVM pops it first), hence the SWAP1 before SUB, DIV.
Signed comparisons flip the sign bit of both sides and compare unsigned; signed
division sign-extends to 256 bits (SIGNEXTEND) and masks the result back.

Traps are named by a `TRAP:<kind>` pseudo-line that the function compiler turns into a
conditional jump to the module's trap site for that kind.
"""

from __future__ import annotations

MASK = {32: (1 << 32) - 1, 64: (1 << 64) - 1}
SIGN = {32: 1 << 31, 64: 1 << 63}
TOP_BYTE = {32: 3, 64: 7}  # SIGNEXTEND byte index of the sign bit


DIV_ZERO = "integer divide by zero"
OVERFLOW = "integer overflow"


def _mask(w: int) -> list[str]:
    return [f"PUSH {MASK[w]}", "AND"]


def _flip(w: int) -> list[str]:
    """[a, b] -> [b', a'] with both sign bits flipped: signed order becomes unsigned."""
    return [f"PUSH {SIGN[w]}", "XOR", "SWAP1", f"PUSH {SIGN[w]}", "XOR"]


def _sext_pair(w: int) -> list[str]:
    """[a, b] -> [b, a] sign-extended to 256 bits, `a` on top."""
    b = TOP_BYTE[w]
    return [f"PUSH {b}", "SIGNEXTEND", "SWAP1", f"PUSH {b}", "SIGNEXTEND"]


def _trap_if_zero() -> list[str]:
    return ["DUP1", "ISZERO", f"TRAP:{DIV_ZERO}"]


def _rotate(w: int, first: str, second: str) -> list[str]:
    # [x, k] -> (x first k) | (x second (w - k)), k taken mod w
    return [f"PUSH {w - 1}", "AND", "DUP2", "DUP2", first, "SWAP2", "SWAP1", f"PUSH {w}",
            "SUB", second, "OR", *_mask(w)]


def _clz(w: int) -> list[str]:
    # binary search on the top bits, branch-free: [n, x], shift x left while its top
    # s bits are zero; finally +1 if x is still zero (x was 0: w in all)
    out = ["PUSH 0", "SWAP1"]
    s = w // 2
    while s:
        out += ["DUP1", f"PUSH {w - s}", "SHR", "ISZERO", f"PUSH {s}", "MUL",
                "SWAP1", "DUP2", "SHL", "SWAP2", "ADD", "SWAP1"]
        s //= 2
    return out + ["ISZERO", "ADD"]


def _ctz(w: int) -> list[str]:
    out = ["PUSH 0", "SWAP1"]
    s = w // 2
    while s:
        out += ["DUP1", f"PUSH {(1 << s) - 1}", "AND", "ISZERO", f"PUSH {s}", "MUL",
                "SWAP1", "DUP2", "SHR", "SWAP2", "ADD", "SWAP1"]
        s //= 2
    return out + ["ISZERO", "ADD"]


def _popcnt(w: int) -> list[str]:
    m1, m2, m4 = (int(p * (w // 8), 16) for p in ("55", "33", "0f"))
    h01 = int("01" * (w // 8), 16)
    return [
        "DUP1", "PUSH 1", "SHR", f"PUSH {m1}", "AND", "SWAP1", "SUB",
        "DUP1", f"PUSH {m2}", "AND", "SWAP1", "PUSH 2", "SHR", f"PUSH {m2}", "AND", "ADD",
        "DUP1", "PUSH 4", "SHR", "ADD", f"PUSH {m4}", "AND",
        f"PUSH {h01}", "MUL", *_mask(w), f"PUSH {w - 8}", "SHR",
    ]


def _div_s(w: int) -> list[str]:
    # trap on a zero divisor, then on MIN / -1, whose quotient does not fit
    return [*_trap_if_zero(), "DUP1", f"PUSH {MASK[w]}", "EQ", "DUP3", f"PUSH {SIGN[w]}", "EQ",
            "AND", f"TRAP:{OVERFLOW}", *_sext_pair(w), "SDIV", *_mask(w)]


def _ops(w: int) -> dict[str, list[str]]:
    m = _mask(w)
    return {
        "eqz": ["ISZERO"], "eq": ["EQ"], "ne": ["EQ", "ISZERO"],
        "lt_u": ["GT"], "gt_u": ["LT"], "le_u": ["LT", "ISZERO"], "ge_u": ["GT", "ISZERO"],
        "lt_s": [*_flip(w), "LT"], "gt_s": [*_flip(w), "GT"],
        "le_s": [*_flip(w), "GT", "ISZERO"], "ge_s": [*_flip(w), "LT", "ISZERO"],
        "clz": _clz(w), "ctz": _ctz(w), "popcnt": _popcnt(w),
        "add": ["ADD", *m], "sub": ["SWAP1", "SUB", *m], "mul": ["MUL", *m],
        "div_u": [*_trap_if_zero(), "SWAP1", "DIV"],
        "rem_u": [*_trap_if_zero(), "SWAP1", "MOD"],
        "div_s": _div_s(w),
        "rem_s": [*_trap_if_zero(), *_sext_pair(w), "SMOD", *m],
        "and": ["AND"], "or": ["OR"], "xor": ["XOR"],
        "shl": [f"PUSH {w - 1}", "AND", "SHL", *m],
        "shr_u": [f"PUSH {w - 1}", "AND", "SHR"],
        "shr_s": [f"PUSH {w - 1}", "AND", "SWAP1", f"PUSH {TOP_BYTE[w]}", "SIGNEXTEND",
                  "SWAP1", "SAR", *m],
        "rotl": _rotate(w, "SHL", "SHR"),
        "rotr": _rotate(w, "SHR", "SHL"),
        "extend8_s": ["PUSH 0", "SIGNEXTEND", *m],
        "extend16_s": ["PUSH 1", "SIGNEXTEND", *m],
    }


def _table() -> dict[str, tuple[tuple[str, ...], int]]:
    """wasm name -> (sequence, operands popped); every one pushes one result."""
    unary = {"eqz", "clz", "ctz", "popcnt", "extend8_s", "extend16_s"}
    out: dict[str, tuple[tuple[str, ...], int]] = {}
    for w in (32, 64):
        for name, seq in _ops(w).items():
            out[f"i{w}.{name}"] = (tuple(seq), 1 if name in unary else 2)
    out["i64.extend32_s"] = (("PUSH 3", "SIGNEXTEND", *_mask(64)), 1)
    out["i32.wrap_i64"] = (tuple(_mask(32)), 1)
    out["i64.extend_i32_u"] = ((), 1)
    out["i64.extend_i32_s"] = (("PUSH 3", "SIGNEXTEND", *_mask(64)), 1)
    return out


NUMERIC: dict[str, tuple[tuple[str, ...], int]] = _table()
