"""What a client checks offline: hash rules, proof formats and verifiers. Pure, no I/O.

A light client imports this module alone: it needs a trusted root (from a checkpoint) and
a proof (from a node), never the node's database.

State tree: a sparse Merkle tree over 256-bit paths with shortcut leaves.

    path(address, key) = keccak256(address ‖ key)       address is 20 bytes, so unambiguous
    leaf               = keccak256(0x00 ‖ path ‖ keccak256(value))
    node               = keccak256(0x01 ‖ left ‖ right)
    empty subtree      = 32 zero bytes, at every depth

A subtree that holds one key *is* that key's leaf hash, wherever it sits; a subtree with
two or more keys is a node. So one set of keys has exactly one tree and one root, whatever
the order of writes, and a path is only as deep as it takes to separate its key from its
neighbours (about log2 n for n keys, 256 at most). The leaf binds the full path, so a leaf
lifted towards the root still proves which key it is. Empty subtrees need no per-depth
default hash: two empty halves never meet (their parent is itself empty).

A proof is the walk from the root along a key's path: the sibling hash at each level, and
what the walk ended at: the key's own leaf (present), another key's leaf whose path shares
the walked prefix (absent), or an empty subtree (absent).

Receipts: a binary Merkle tree over the transaction hashes of a checkpoint's range, in
order (RFC 6962 shape: an odd node at the end of a level moves up unchanged).

    leaf = keccak256(0x00 ‖ tx_hash),  node = keccak256(0x01 ‖ left ‖ right),  empty = zeros
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import CryptoError
from ..hexbytes import from_0x_hex
from .hashing import ADDRESS_LEN, keccak256

HASH_LEN = 32
PATH_BITS = 256
EMPTY = bytes(HASH_LEN)
LEAF_TAG = b"\x00"
NODE_TAG = b"\x01"
PROOF_VERSION = 1


def state_path(address: bytes, key: bytes) -> bytes:
    """Where (contract, storage key) lives in the tree."""
    if len(address) != ADDRESS_LEN:
        raise CryptoError(f"an address is {ADDRESS_LEN} bytes, got {len(address)}")
    return keccak256(address + key)


def leaf_hash(path: bytes, value_hash: bytes) -> bytes:
    return keccak256(LEAF_TAG + path + value_hash)


def node_hash(left: bytes, right: bytes) -> bytes:
    return keccak256(NODE_TAG + left + right)


def bit_at(path: bytes, depth: int) -> int:
    """Bit `depth` of the path, most significant first: 0 goes left, 1 goes right."""
    return (path[depth >> 3] >> (7 - (depth & 7))) & 1


def common_prefix_bits(a: bytes, b: bytes) -> int:
    """How many leading bits two paths share (256 when equal)."""
    return PATH_BITS - (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()


# --- state proofs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """A leaf as stored: its key's path and the keccak256 of its value."""

    path: bytes
    value_hash: bytes

    @property
    def hash(self) -> bytes:
        return leaf_hash(self.path, self.value_hash)


@dataclass(frozen=True)
class Proof:
    """The walk along one path. `siblings[i]` is the hash beside the path one level below
    depth i (EMPTY for an empty subtree); `leaf` is where the walk ended, or None when it
    ended in an empty subtree."""

    siblings: tuple[bytes, ...]
    leaf: Leaf | None

    @property
    def depth(self) -> int:
        return len(self.siblings)

    def proves_present(self, path: bytes) -> bool:
        """Whether this proof (if it verifies) says `path` is in the tree."""
        return self.leaf is not None and self.leaf.path == path

    # Byte form: version u8 · depth u16 · bitmap of non-empty siblings (MSB first,
    # ceil(depth/8) bytes) · the non-empty siblings · 0x00 | 0x01 ‖ path ‖ value_hash.
    # Empty siblings cost one bit; one proof has exactly one encoding.

    def to_bytes(self) -> bytes:
        depth = len(self.siblings)
        bitmap = bytearray((depth + 7) // 8)
        for i, sib in enumerate(self.siblings):
            if sib != EMPTY:
                bitmap[i >> 3] |= 0x80 >> (i & 7)
        out = bytearray((PROOF_VERSION,))
        out += depth.to_bytes(2, "big") + bitmap
        out += b"".join(s for s in self.siblings if s != EMPTY)
        if self.leaf is None:
            out.append(0)
        else:
            out += b"\x01" + self.leaf.path + self.leaf.value_hash
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Proof:
        def bad(why: str) -> CryptoError:
            return CryptoError(f"malformed state proof: {why}")

        if len(data) < 4 or data[0] != PROOF_VERSION:
            raise bad("unknown version or too short")
        depth = int.from_bytes(data[1:3], "big")
        if depth > PATH_BITS:
            raise bad(f"depth {depth} exceeds {PATH_BITS}")
        at = 3 + (depth + 7) // 8
        bitmap = data[3:at]
        if len(bitmap) != (depth + 7) // 8 or (depth % 8 and bitmap[-1] & (0xFF >> (depth % 8))):
            raise bad("bitmap truncated or with stray bits")
        siblings = []
        for i in range(depth):
            if bitmap[i >> 3] & (0x80 >> (i & 7)):
                sib = data[at : at + HASH_LEN]
                if len(sib) != HASH_LEN or sib == EMPTY:
                    raise bad("sibling truncated or an explicit empty hash")
                siblings.append(sib)
                at += HASH_LEN
            else:
                siblings.append(EMPTY)
        tail = data[at:]
        if tail == b"\x00":
            return cls(tuple(siblings), None)
        if len(tail) == 1 + 2 * HASH_LEN and tail[0] == 1:
            return cls(tuple(siblings), Leaf(tail[1:33], tail[33:65]))
        raise bad("bad leaf section")

    def to_json(self) -> dict[str, Any]:
        """Readable form: siblings as 0x-hex, null for an empty subtree."""
        return {
            "siblings": [None if s == EMPTY else "0x" + s.hex() for s in self.siblings],
            "leaf": None if self.leaf is None else {
                "path": "0x" + self.leaf.path.hex(),
                "value_hash": "0x" + self.leaf.value_hash.hex(),
            },
        }

    @classmethod
    def from_json(cls, obj: Any) -> Proof:
        """The to_json form: an object whose `siblings` is an array (of hashes or null) and
        whose `leaf` is null or an object. Any other JSON is malformed: iterating a string
        or an object as if it were the array would turn `""` into no siblings and an
        object's member names into hashes."""
        try:
            if not isinstance(obj, dict) or not isinstance(obj["siblings"], list):
                raise TypeError("a state proof is an object whose siblings are an array")
            siblings = tuple(EMPTY if s is None else _hash32(s) for s in obj["siblings"])
            leaf = obj["leaf"]
            if leaf is not None and not isinstance(leaf, dict):
                raise TypeError("a proof's leaf is null or an object")
            parsed = None if leaf is None else Leaf(
                _hash32(leaf["path"]), _hash32(leaf["value_hash"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CryptoError(f"malformed state proof: {exc}") from exc
        if len(siblings) > PATH_BITS:
            raise CryptoError(f"malformed state proof: more than {PATH_BITS} siblings")
        return cls(siblings, parsed)


def _hash32(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"expected a 0x-prefixed hash, got {text!r}")
    raw = from_0x_hex(text, HASH_LEN)  # strict: bytes.fromhex alone skips whitespace
    if raw is None:
        raise ValueError(f"{text[:70]!r} is not 0x and {HASH_LEN} bytes of hex")
    return raw


def fold(path: bytes, bottom: bytes, siblings: Sequence[bytes]) -> bytes:
    """The root implied by `bottom` sitting at depth len(siblings) on `path`."""
    h = bottom
    for depth in range(len(siblings) - 1, -1, -1):
        sib = siblings[depth]
        h = node_hash(h, sib) if bit_at(path, depth) == 0 else node_hash(sib, h)
    return h


def verify_path_proof(root: bytes, path: bytes, value_hash: bytes | None, proof: Proof) -> bool:
    """`path` holds a value hashing to `value_hash` (None: holds nothing) under `root`.
    Total: a Proof built by hand with fields of the wrong types is False, not an error."""
    siblings = proof.siblings
    if not (isinstance(path, bytes) and len(path) == HASH_LEN
            and isinstance(siblings, tuple | list) and len(siblings) <= PATH_BITS
            and all(isinstance(s, bytes) and len(s) == HASH_LEN for s in siblings)):
        return False
    leaf = proof.leaf
    if leaf is not None and not (
            isinstance(leaf, Leaf) and isinstance(leaf.path, bytes) and len(leaf.path) == HASH_LEN
            and isinstance(leaf.value_hash, bytes) and len(leaf.value_hash) == HASH_LEN):
        return False
    if value_hash is not None:  # inclusion: the walk must end at this key's own leaf
        if leaf is None or leaf.path != path or leaf.value_hash != value_hash:
            return False
        bottom = leaf.hash
    elif leaf is None:  # absence: the walk ends in an empty subtree
        bottom = EMPTY
    else:  # absence: another key's leaf occupies the only place this key could be
        if leaf.path == path or common_prefix_bits(leaf.path, path) < len(siblings):
            return False
        bottom = leaf.hash
    return fold(path, bottom, siblings) == root


def verify_proof(
    root: bytes, address: bytes, key: bytes, value: bytes | None, proof: Proof
) -> bool:
    """True when `proof` shows that, under `root`, storage key `key` of contract `address`
    holds `value` (or, for None, holds nothing). Total: bad input is False, never raises."""
    if not (isinstance(proof, Proof) and isinstance(address, bytes) and isinstance(key, bytes)
            and len(address) == ADDRESS_LEN and (value is None or isinstance(value, bytes))):
        return False
    value_hash = None if value is None else keccak256(value)
    return verify_path_proof(root, state_path(address, key), value_hash, proof)


# --- receipts: a binary Merkle tree over a list ---------------------------------------


def list_leaf(item: bytes) -> bytes:
    return keccak256(LEAF_TAG + item)


def list_levels(items: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the list tree, leaves first, root level last."""
    level = [list_leaf(x) for x in items]
    levels = [level]
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # the odd one out moves up unchanged
        levels.append(nxt)
        level = nxt
    return levels


def list_root(items: Sequence[bytes]) -> bytes:
    return list_levels(items)[-1][0] if items else EMPTY


@dataclass(frozen=True)
class ListProof:
    """Inclusion of item `index` in a list of `size` items (e.g. one receipt of a range).
    As in RFC 6962 the root does not commit to the size: take it from a trusted source
    (checkpoint.verify_receipt checks it against the checkpoint's tx_count)."""

    index: int
    size: int
    siblings: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "size": self.size,
                "siblings": ["0x" + s.hex() for s in self.siblings]}

    @classmethod
    def from_json(cls, obj: Any) -> ListProof:
        try:  # JSON true is no index: Python's bool is an int, and would pass as 1
            index, size = obj["index"], obj["size"]
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                       for n in (index, size)):
                raise TypeError("index and size are non-negative integers")
            if not isinstance(obj["siblings"], list):
                raise TypeError("siblings are an array")
            return cls(index, size, tuple(_hash32(s) for s in obj["siblings"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CryptoError(f"malformed list proof: {exc}") from exc


def list_prove(items: Sequence[bytes], index: int) -> ListProof:
    if not 0 <= index < len(items):
        raise CryptoError(f"no item {index} in a list of {len(items)}")
    siblings = []
    i = index
    for level in list_levels(items)[:-1]:
        if i % 2:
            siblings.append(level[i - 1])
        elif i + 1 < len(level):
            siblings.append(level[i + 1])
        i //= 2
    return ListProof(index, len(items), tuple(siblings))


def verify_list_proof(root: bytes, item: bytes, proof: ListProof) -> bool:
    """`item` is entry `proof.index` of the `proof.size`-item list whose root is `root`."""
    if not 0 <= proof.index < proof.size:
        return False
    h, i, n = list_leaf(item), proof.index, proof.size
    siblings = iter(proof.siblings)
    try:
        while n > 1:
            if i % 2:
                h = node_hash(next(siblings), h)
            elif i + 1 < n:
                h = node_hash(h, next(siblings))
            i, n = i // 2, (n + 1) // 2
    except StopIteration:
        return False
    return next(siblings, None) is None and h == root
