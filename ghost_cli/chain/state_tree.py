"""The authenticated state: a sparse Merkle tree with shortcut leaves (hash rules: proof.py).

Node layout. A node is named by its position (depth, prefix): the first `depth` bits of
the path, packed most significant first into ceil(depth/8) bytes, spare low bits zero.
Only non-empty subtrees have a row:

    leaf      kind 0   a = path        b = keccak256(value)   exactly one key below here
    internal  kind 1   a = left hash   b = right hash         two or more keys below here

A key's leaf sits at the shallowest depth where it is alone, so n keys take n leaf rows and
about 1.44 n internal rows (n/ln 2 for random paths: some nodes on the way down have an
empty side and still cost a row and a hash; the hash rules fix that). An internal row keeps
both children's hashes: a walk down reads one row per level and meets every sibling that a
re-hash or a proof needs. A leaf's hash does not depend on its depth, so a leaf moved up or
down leaves its parent's row valid.

An update reads and rewrites the rows on one path (about log2 n of them) and hashes once
per level: its cost grows with log(state size), never with the size.

`SparseMerkleTree` is the algorithm over a `NodeStore`: a dict (`MemoryNodes`) for tests
and baselines, or a table in the state database (store/sql.py's `SqlNodes`, on SQLite or
PostgreSQL), where tree rows commit or roll back together with the storage write in the
caller's transaction. An update gathers its
writes and applies them at the end, so the algorithm never reads back its own half-done
work from the database.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, Protocol

from ..crypto.hashing import keccak256
from ..crypto.proof import (
    EMPTY,
    PATH_BITS,
    Leaf,
    Proof,
    bit_at,
    common_prefix_bits,
    leaf_hash,
    node_hash,
    state_path,
)

LEAF, INTERNAL = 0, 1


class Node(NamedTuple):
    kind: int  # LEAF or INTERNAL
    a: bytes  # leaf: path; internal: left child's hash
    b: bytes  # leaf: value hash; internal: right child's hash


def prefix_of(path: bytes, depth: int) -> bytes:
    """The first `depth` bits of `path` as ceil(depth/8) bytes, spare low bits zeroed."""
    full, rem = divmod(depth, 8)
    if not rem:
        return path[:full]
    return path[:full] + bytes((path[full] & (0xFF00 >> rem) & 0xFF,))


def _sibling_prefix(path: bytes, depth: int) -> bytes:
    """The position beside `path`'s node at depth + 1: the same prefix, bit `depth` flipped."""
    own = bytearray(prefix_of(path, depth + 1))
    own[depth >> 3] ^= 0x80 >> (depth & 7)
    return bytes(own)


#: One update's writes: position -> its new node, or None to remove it.
Changes = dict[tuple[int, bytes], "Node | None"]


class NodeStore(Protocol):
    def get(self, depth: int, prefix: bytes) -> Node | None: ...

    def apply(self, changes: Changes) -> None: ...

    def sync(self) -> None:
        """Called before each walk: drop anything cached that may be out of date."""


class MemoryNodes:
    """Nodes in a dict: for tests, baselines and building a root without a database."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, bytes], Node] = {}

    def get(self, depth: int, prefix: bytes) -> Node | None:
        return self.rows.get((depth, prefix))

    def apply(self, changes: Changes) -> None:
        for pos, node in changes.items():
            if node is None:
                self.rows.pop(pos, None)
            else:
                self.rows[pos] = node

    def sync(self) -> None:
        pass


class DbNodes(NodeStore, Protocol):
    """Nodes kept in a database table (store/sql.py's SqlNodes, on every backend)."""

    def forget(self) -> None: ...

    def put_many(self, rows: Sequence[tuple[int, bytes, int, bytes, bytes]]) -> None: ...

    def clear(self) -> None: ...

    def count(self) -> int: ...


class SparseMerkleTree:
    """Root, update and prove over any NodeStore. `hashes` counts keccak calls made by
    updates and roots (the benchmark's cost measure)."""

    def __init__(self, nodes: NodeStore) -> None:
        self.nodes = nodes
        self.hashes = 0

    # --- by contract address and storage key ---------------------------------------------

    def update(self, address: bytes, key: bytes, value: bytes | None) -> None:
        """Set storage `key` of `address` to `value`; None deletes it."""
        self.update_path(state_path(address, key), None if value is None else keccak256(value))

    def prove(self, address: bytes, key: bytes) -> Proof:
        """Inclusion proof when the key is set, absence proof when it is not."""
        return self.prove_path(state_path(address, key))

    # --- by path ----------------------------------------------------------------------

    def root(self) -> bytes:
        self.nodes.sync()
        top = self.nodes.get(0, b"")
        if top is None:
            return EMPTY
        self.hashes += 1
        return leaf_hash(top.a, top.b) if top.kind == LEAF else node_hash(top.a, top.b)

    def _walk(self, path: bytes) -> tuple[list[tuple[int, bytes, Node]], int, bytes, Node | None]:
        """Down from the root to where `path` leaves the stored tree: the internal nodes
        passed (depth, prefix, node) and the depth, prefix and leaf (or None) it ends at."""
        trail: list[tuple[int, bytes, Node]] = []
        depth = 0
        self.nodes.sync()
        get = self.nodes.get
        while True:
            prefix = prefix_of(path, depth)
            node = get(depth, prefix)
            if node is None or node.kind == LEAF:
                return trail, depth, prefix, node
            trail.append((depth, prefix, node))
            depth += 1

    def value_hash(self, path: bytes) -> bytes | None:
        _, _, _, end = self._walk(path)
        return end.b if end is not None and end.a == path else None

    def prove_path(self, path: bytes) -> Proof:
        trail, _, _, end = self._walk(path)
        siblings = tuple(n.a if bit_at(path, d) else n.b for d, _, n in trail)
        return Proof(siblings, None if end is None else Leaf(end.a, end.b))

    def update_path(self, path: bytes, value_hash: bytes | None) -> None:
        trail, depth, prefix, end = self._walk(path)
        out: Changes = {}  # written in one go at the end
        # First the subtree at `depth` where the walk ended. `h` is its new hash; `lone` is
        # its leaf when it holds exactly one key (such a subtree may have to move up).
        if value_hash is None:
            if end is None or end.a != path:
                return  # already absent
            out[depth, prefix] = None
            h, lone = EMPTY, None
        elif end is not None and end.a != path:
            own_hash = trail[-1][2][bit_at(path, depth - 1) + 1] if trail else None
            h, lone = self._split(out, depth, end, own_hash, path, value_hash), None
        else:
            new = Node(LEAF, path, value_hash)
            if new == end:
                return  # same value: nothing changes
            out[depth, prefix] = new
            self.hashes += 1
            h, lone = leaf_hash(path, value_hash), new
        # Then every internal node on the way back up, with the shortcut rule: a node left
        # holding a single leaf becomes that leaf, an empty one disappears.
        for d, pfx, parent in reversed(trail):
            right = bit_at(path, d)
            sib = parent.a if right else parent.b
            if h == EMPTY and sib == EMPTY:
                out[d, pfx] = None
                continue
            if h == EMPTY:
                sib_pos = (d + 1, _sibling_prefix(path, d))
                sib_node = out[sib_pos] if sib_pos in out else self.nodes.get(*sib_pos)
                if sib_node is not None and sib_node.kind == LEAF:
                    out[sib_pos] = None
                    out[d, pfx] = sib_node
                    h, lone = sib, sib_node
                    continue
            elif lone is not None and sib == EMPTY:
                out[d + 1, prefix_of(path, d + 1)] = None
                out[d, pfx] = lone
                continue
            left, rgt = (sib, h) if right else (h, sib)
            out[d, pfx] = Node(INTERNAL, left, rgt)
            self.hashes += 1
            h, lone = node_hash(left, rgt), None
        self.nodes.apply(out)

    def _split(
        self, out: Changes, depth: int, other: Node, other_hash: bytes | None, path: bytes,
        value_hash: bytes,
    ) -> bytes:
        """Insert `path` where `other`'s leaf sits alone at `depth`: both leaves go one
        level below their first differing bit, with single-child nodes above that."""
        k = common_prefix_bits(path, other.a)  # >= depth: both walked the same prefix
        if other_hash is None:
            self.hashes += 1
            other_hash = leaf_hash(other.a, other.b)
        self.hashes += 1
        mine = leaf_hash(path, value_hash)
        out[k + 1, prefix_of(path, k + 1)] = Node(LEAF, path, value_hash)
        out[k + 1, prefix_of(other.a, k + 1)] = other
        left, right = (other_hash, mine) if bit_at(path, k) else (mine, other_hash)
        out[k, prefix_of(path, k)] = Node(INTERNAL, left, right)  # replaces other's old row
        self.hashes += 1
        h = node_hash(left, right)
        for d in range(k - 1, depth - 1, -1):  # the shared prefix: one child each
            left, right = (EMPTY, h) if bit_at(path, d) else (h, EMPTY)
            out[d, prefix_of(path, d)] = Node(INTERNAL, left, right)
            self.hashes += 1
            h = node_hash(left, right)
        return h


class StateTree(SparseMerkleTree):
    """The tree kept in the state database's `state_nodes` table, whatever the backend."""

    def __init__(self, nodes: DbNodes) -> None:
        super().__init__(nodes)
        self.nodes: DbNodes

    def rebuild(self, leaves: Mapping[bytes, bytes]) -> bytes:
        """Replace every node with the tree of `leaves` (path -> value hash) in one O(n)
        pass: for opening a database whose storage was written without the tree."""
        self.nodes.clear()
        batch: list[tuple[int, bytes, int, bytes, bytes]] = []

        def emit(depth: int, prefix: bytes, node: Node) -> None:
            batch.append((depth, prefix, *node))
            if len(batch) >= 50_000:
                self.nodes.put_many(batch)
                batch.clear()

        root = build(leaves, emit)
        self.nodes.put_many(batch)
        return root


def build(
    leaves: Mapping[bytes, bytes],
    emit: Callable[[int, bytes, Node], None] | None = None,
) -> bytes:
    """The root of the tree holding `leaves` (path -> value hash), built bottom-up in one
    pass over the sorted paths; `emit` receives every node it would store."""
    if not leaves:
        return EMPTY
    items = sorted(leaves.items())
    keys = [int.from_bytes(p, "big") for p, _ in items]

    def sub(lo: int, hi: int, depth: int) -> bytes:
        if hi - lo == 1:
            path, vh = items[lo]
            if emit is not None:
                emit(depth, prefix_of(path, depth), Node(LEAF, path, vh))
            return leaf_hash(path, vh)
        # items[lo:hi] share `depth` leading bits; the first with bit `depth` set goes right
        shift = PATH_BITS - 1 - depth
        mid = bisect_left(keys, ((keys[lo] >> shift) | 1) << shift, lo, hi)
        left = sub(lo, mid, depth + 1) if mid > lo else EMPTY
        right = sub(mid, hi, depth + 1) if hi > mid else EMPTY
        if emit is not None:
            emit(depth, prefix_of(items[lo][0], depth), Node(INTERNAL, left, right))
        return node_hash(left, right)

    return sub(0, len(items), 0)


def root_of(storage: Mapping[tuple[bytes, bytes], bytes]) -> bytes:
    """The state root of {(address, key): value}, built from scratch (O(n))."""
    return build({state_path(a, k): keccak256(v) for (a, k), v in storage.items()})
