"""Regenerates abi.json from the Python codec: `python tests/vectors/make_abi_vectors.py`.

The vectors are the contract between the Python codec and the Zig SDK; test_abi_vectors.py
checks a handful of them against bytes written out by hand, so a codec bug cannot slip
into both the generator and the vectors unseen.
"""

from __future__ import annotations

import json
from pathlib import Path

from ghost_cli.abi import decode_exact, encode_value, parse_type
from ghost_cli.exceptions import AbiError

PAIR = {"kind": "struct", "name": "Pair", "fields": [{"name": "a", "type": "u64"},
                                                      {"name": "b", "type": "bool"}]}
COLOR = {"kind": "enum", "name": "Color", "variants": [
    {"name": "red", "value": 0}, {"name": "green", "value": 1}, {"name": "blue", "value": 7}]}
BALLOT = {"kind": "struct", "name": "Ballot", "fields": [
    {"name": "voter", "type": "address"}, {"name": "choice", "type": "Color"},
    {"name": "pairs", "type": "Pair[]"}, {"name": "memo", "type": "string?"},
    {"name": "tag", "type": "bytes4"}]}
ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

VALUES: list[tuple[str, list[dict], object]] = [
    ("bool", [], False), ("bool", [], True),
]
for s in "ui":
    for w in (8, 16, 32, 64, 128, 256):
        lo, hi = (0, (1 << w) - 1) if s == "u" else (-(1 << (w - 1)), (1 << (w - 1)) - 1)
        VALUES += [(f"{s}{w}", [], lo), (f"{s}{w}", [], hi), (f"{s}{w}", [], 1)]
VALUES += [
    ("i64", [], -1), ("u32", [], 0x12345678),
    ("address", [], ADDR), ("address", [], "0x" + "00" * 20),
    ("bytes1", [], "0xff"), ("bytes4", [], "0xdeadbeef"), ("bytes32", [], "0x" + "ab" * 32),
    ("bytes", [], "0x"), ("bytes", [], "0x00ff10"),
    ("string", [], ""), ("string", [], "hello"), ("string", [], "héllo €𝄞"),
    ("u8[33]", [], list(range(33))), ("u16[2]", [], [1, 65535]),
    ("u64[]", [], []), ("u64[]", [], [1, 2, 3]), ("bool[]", [], [True, False]),
    ("string[]", [], ["a", "", "ü"]), ("bytes[]", [], ["0x", "0x01"]),
    ("u8?", [], None), ("u8?", [], 5), ("string?", [], None), ("string?", [], "x"),
    ("address?", [], ADDR),
    ("(u8,string)", [], [1, "hi"]), ("(bool,(i8,u16),bytes2)", [], [True, [-2, 513], "0x0102"]),
    ("Pair", [PAIR], {"a": 7, "b": True}),
    ("Pair[]", [PAIR], [{"a": 1, "b": False}, {"a": 18446744073709551615, "b": True}]),
    ("Pair?", [PAIR], None), ("Pair?", [PAIR], {"a": 2, "b": False}),
    ("Color", [COLOR], "red"), ("Color", [COLOR], "blue"), ("Color[]", [COLOR], ["green", "blue"]),
    ("u64[][2]", [], [[1], []]), ("u8?[]", [], [None, 3]), ("u32[]?", [], [4]),
    ("Ballot", [BALLOT, COLOR, PAIR], {"voter": ADDR, "choice": "green",
                                         "pairs": [{"a": 9, "b": True}], "memo": "ok",
                                         "tag": "0x01020304"}),
    ("Ballot", [BALLOT, COLOR, PAIR], {"voter": ADDR, "choice": "red", "pairs": [],
                                         "memo": None, "tag": "0x00000000"}),
]

MALFORMED: list[tuple[str, list[dict], str, str, str]] = [
    # type, types, hex, error, why
    ("u64", [], "01020304050607", "ghost: call data too short", "truncated integer"),
    ("u64", [], "010203040506070809", "ghost: call data too long", "trailing byte"),
    ("bool", [], "", "ghost: call data too short", "empty input"),
    ("bool", [], "02", "ghost: invalid bool", "bool byte 2"),
    ("bool", [], "ff", "ghost: invalid bool", "bool byte 255"),
    ("address", [], "00" * 19, "ghost: call data too short", "19-byte address"),
    ("bytes4", [], "010203", "ghost: call data too short", "short bytes4"),
    ("bytes", [], "0300", "ghost: call data too short", "truncated length"),
    ("bytes", [], "030000000102", "ghost: call data too short", "length past the end"),
    ("bytes", [], "ffffffff", "ghost: call data too short", "oversize length"),
    ("string", [], "02000000c328", "ghost: invalid utf-8", "bad continuation byte"),
    ("string", [], "01000000ff", "ghost: invalid utf-8", "0xff is never UTF-8"),
    ("string", [], "02000000c0af", "ghost: invalid utf-8", "overlong encoding"),
    ("string", [], "03000000eda080", "ghost: invalid utf-8", "surrogate half"),
    ("string", [], "0100000061ff", "ghost: call data too long", "trailing byte"),
    ("u64[]", [], "ffffffff", "ghost: call data too short", "oversize count, nothing follows"),
    ("u64[]", [], "020000000100000000000000", "ghost: call data too short",
     "count 2, one element"),
    ("bytes?", [], "", "ghost: call data too short", "no tag"),
    ("u8?", [], "02", "ghost: invalid optional tag", "tag 2"),
    ("u8?", [], "0105ff", "ghost: call data too long", "trailing byte after the value"),
    ("u8?", [], "01", "ghost: call data too short", "tag 1, no value"),
    ("Color", [COLOR], "02", "ghost: invalid enum value", "2 is no variant"),
    ("Color", [COLOR], "ff", "ghost: invalid enum value", "255 is no variant"),
    ("Pair", [PAIR], "070000000000000002", "ghost: invalid bool", "bad bool in a struct"),
    ("Pair", [PAIR], "0700000000000000", "ghost: call data too short", "missing field"),
    ("(u8,u8)", [], "01", "ghost: call data too short", "short tuple"),
    ("u16[2]", [], "010002", "ghost: call data too short", "short fixed array"),
    ("string[]", [], "0100000001000000", "ghost: call data too short",
     "element length past the end"),
    # order: problems are met left to right; a slice's count is checked before its elements
    ("Pair[]", [PAIR], "02000000" "0100000000000000" "02", "ghost: call data too short",
     "count 2 cannot fit in 9 bytes: refused before the bad bool"),
    ("(bool,(i8,u16),bytes2)", [], "02", "ghost: invalid bool",
     "bad bool before the missing rest"),
    ("Ballot", [BALLOT, COLOR, PAIR], "00" * 20 + "09", "ghost: invalid enum value",
     "bad enum before the missing rest"),
    ("Ballot", [BALLOT, COLOR, PAIR], "00" * 20 + "00" "00000000" "01" "01000000" "ff",
     "ghost: invalid utf-8", "bad UTF-8 in the memo before the missing tag"),
]


def build() -> dict:
    vectors = []
    for ty, types, value in VALUES:
        t = parse_type(ty, types)
        raw = encode_value(t, t.from_json(value))
        assert t.to_json(decode_exact(t, raw)) == value, (ty, value)  # the JSON form
        vectors.append({"type": ty, "types": types, "value": value, "hex": raw.hex()})
    for ty, types, h, err, _ in MALFORMED:
        try:
            decode_exact(parse_type(ty, types), bytes.fromhex(h))
        except AbiError as exc:
            assert exc.reason == err, (ty, h, exc.message)
        else:
            raise AssertionError(f"{ty} {h} decoded")
    malformed = [{"type": ty, "types": types, "hex": h, "error": err, "why": why}
                 for ty, types, h, err, why in MALFORMED]
    return {"format": "ghost ABI v2 test vectors: hex is the encoding, lowercase, no 0x; "
                      "value is the JSON form (docs/abi.md)",
            "vectors": vectors, "malformed": malformed}


if __name__ == "__main__":
    out = Path(__file__).with_name("abi.json")
    doc = build()
    lines = ['{"format": ' + json.dumps(doc["format"]) + ',', ' "vectors": [']
    for key in ("vectors", "malformed"):
        items = [json.dumps(v, ensure_ascii=False) for v in doc[key]]
        lines += ["  " + i + "," for i in items[:-1]] + ["  " + items[-1]]
        lines.append(" ],\n \"malformed\": [" if key == "vectors" else " ]}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out)
