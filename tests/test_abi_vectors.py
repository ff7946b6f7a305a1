"""tests/vectors/abi.json, the byte-level contract with the Zig SDK: every vector round-trips
both ways, every malformed input is refused with its exact reason, a few encodings are
checked against bytes written out by hand, and the file is what the generator makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ghost_cli.abi import REASONS, decode_exact, encode_value, parse_type
from ghost_cli.exceptions import AbiError, ArgumentError

VECTORS = json.loads((Path(__file__).parent / "vectors" / "abi.json").read_text("utf-8"))


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: f"{v['type']}:{v['hex'][:16]}")
def test_vector_round_trips_both_ways(v: dict) -> None:
    ty = parse_type(v["type"], v["types"])
    raw = bytes.fromhex(v["hex"])
    assert encode_value(ty, ty.from_json(v["value"])) == raw
    assert ty.to_json(decode_exact(ty, raw)) == v["value"]
    assert parse_type(ty.name, v["types"]).name == v["type"]  # canonical spelling


@pytest.mark.parametrize("v", VECTORS["malformed"], ids=lambda v: f"{v['type']}:{v['why']}")
def test_malformed_is_refused_with_the_exact_reason(v: dict) -> None:
    assert v["error"] in REASONS
    with pytest.raises(AbiError) as info:
        decode_exact(parse_type(v["type"], v["types"]), bytes.fromhex(v["hex"]))
    assert info.value.reason == v["error"]
    assert info.value.message.startswith(v["error"]) and "\n" not in info.value.message
    assert info.value.exit_code == 2 and info.value.details["reason"] == v["error"]
    assert isinstance(info.value, ArgumentError)


def _find(ty: str, value: object) -> str:
    (hit,) = [v["hex"] for v in VECTORS["vectors"] if v["type"] == ty and v["value"] == value]
    return hit


# Written out by hand from docs/abi.md, not computed: a codec bug cannot hide here.
HAND = [
    ("bool", True, "01"),
    ("u16", 1, "0100"),
    ("i8", -128, "80"),
    ("i64", -1, "ff" * 8),
    ("u32", 0x12345678, "78563412"),
    ("i256", (1 << 255) - 1, "ff" * 31 + "7f"),
    ("bytes", "0x00ff10", "03000000" "00ff10"),
    ("string", "", "00000000"),
    # é = c3 a9, € = e2 82 ac, 𝄞 = f0 9d 84 9e: 14 bytes in all
    ("string", "héllo €𝄞", "0e000000" "68" "c3a9" "6c6c6f" "20" "e282ac" "f09d849e"),
    ("u64[]", [1, 2, 3], "03000000" "0100000000000000" "0200000000000000" "0300000000000000"),
    ("u8?", None, "00"),
    ("u8?", 5, "01" "05"),
    ("(u8,string)", [1, "hi"], "01" "02000000" "6869"),
    ("Pair[]", [{"a": 1, "b": False}, {"a": 18446744073709551615, "b": True}],
     "02000000" "0100000000000000" "00" "ffffffffffffffff" "01"),
    ("Color", "blue", "07"),
    ("u64[][2]", [[1], []], "01000000" "0100000000000000" "00000000"),
    ("Ballot", {"voter": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "choice": "green",
                "pairs": [{"a": 9, "b": True}], "memo": "ok", "tag": "0x01020304"},
     "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed" "01" "01000000" "0900000000000000" "01"
     "01" "02000000" "6f6b" "01020304"),
]


@pytest.mark.parametrize("ty, value, hexed", HAND, ids=[h[0] for h in HAND])
def test_vectors_match_bytes_written_by_hand(ty: str, value: object, hexed: str) -> None:
    assert _find(ty, value) == hexed


def test_every_type_form_and_reason_is_covered() -> None:
    types = {v["type"] for v in VECTORS["vectors"]}
    assert {f"{s}{w}" for s in "ui" for w in (8, 16, 32, 64, 128, 256)} <= types
    assert {"bool", "address", "bytes", "string", "bytes1", "bytes32"} <= types
    for suffix in ("[]", "?", "]"):
        assert any(t.endswith(suffix) for t in types)
    assert any(t.startswith("(") for t in types)
    assert {v["error"] for v in VECTORS["malformed"]} == set(REASONS)


def test_the_file_is_what_the_generator_makes() -> None:
    import importlib.util

    path = Path(__file__).parent / "vectors" / "make_abi_vectors.py"
    spec = importlib.util.spec_from_file_location("make_abi_vectors", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.build() == VECTORS


def test_the_worked_examples_of_docs_abi_md_are_the_codecs_bytes() -> None:
    import re

    from ghost_cli.abi import storage_key

    doc = (Path(__file__).resolve().parents[1] / "docs" / "abi.md").read_text("utf-8")
    block = doc.split("is 45 bytes:\n\n```\n", 1)[1].split("```", 1)[0]
    hexed = "".join(re.match(r"^((?:[0-9a-f]+ )*[0-9a-f]+)\s{2,}", line).group(1).replace(" ", "")
                    for line in block.splitlines())
    ballot = next(v for v in VECTORS["vectors"] if v["type"] == "Ballot" and v["value"]["memo"])
    assert hexed == ballot["hex"] and len(hexed) == 2 * 45
    key = re.search(r"key   ([0-9a-f ]+?)\s{2,}", doc).group(1).replace(" ", "")
    assert key == storage_key.map_key("bal", "address",
                                      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").hex()
    assert "`6c6f67006c656e`" in doc and storage_key.vec_len_key("log").hex() == "6c6f67006c656e"
    assert f"`{storage_key.vec_item_key('log', 2).hex()}`" in doc
