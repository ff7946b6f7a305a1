"""ZVMC, the ZVM contract container: a 16-byte header, the code, then the ABI section.

    0..3  magic "ZVMC"     4  version (1)    5  target (0 zvm_native, 1 evm_compat,
    2 wasm_bridge)         6  flags          7  zero
    8..11 code size, u32 LE                  12..15 ABI size, u32 LE

ghost stores its metadata JSON object in the ABI section, the same object a WebAssembly
contract carries in its `ghost.metadata` custom section ({"abi": {...}, ...}).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ghost_cli.abi import Abi
from ghost_cli.crypto.hashing import keccak256
from ghost_cli.exceptions import GhostError, InvalidModuleError
from ghost_cli.formats import ZVMC
from ghost_cli.vm.metadata_json import parse_metadata

VERSION = 1
HEADER_BYTES = 16
TARGETS = {0: "zvm_native", 1: "evm_compat", 2: "wasm_bridge"}
TARGET_ZVM_NATIVE = 0
_U32_MAX = 0xFFFF_FFFF


@dataclass(frozen=True)
class Zvmc:
    code: bytes
    abi: bytes  # the raw ABI section (JSON text, may be empty)
    version: int = VERSION
    target: int = TARGET_ZVM_NATIVE
    flags: int = 0

    @property
    def target_name(self) -> str:
        return TARGETS.get(self.target, f"unknown({self.target})")

    @property
    def code_hash(self) -> bytes:
        return keccak256(self.code)


def encode_zvmc(code: bytes, abi_json: bytes = b"", target: int = TARGET_ZVM_NATIVE,
                flags: int = 0) -> bytes:
    """Wrap `code` and its ABI section (JSON bytes, may be empty) in a ZVMC container."""
    if target not in TARGETS:
        raise InvalidModuleError(f"unknown ZVMC target {target} (0, 1 or 2)")
    if not 0 <= flags <= 0xFF:
        raise InvalidModuleError(f"ZVMC flags must fit one byte, got {flags}")
    if len(code) > _U32_MAX or len(abi_json) > _U32_MAX:
        raise InvalidModuleError("ZVMC sections are limited to 4 GiB each")
    header = (ZVMC.magic + bytes((VERSION, target, flags, 0))
              + len(code).to_bytes(4, "little") + len(abi_json).to_bytes(4, "little"))
    return header + bytes(code) + bytes(abi_json)


def decode_zvmc(data: bytes) -> Zvmc:
    """Parse a ZVMC container; InvalidModuleError when the header or sizes are wrong."""
    data = bytes(data)
    if len(data) < HEADER_BYTES:
        raise InvalidModuleError(
            f"invalid ZVMC container: {len(data)} bytes, shorter than the {HEADER_BYTES}-byte "
            "header")
    if data[:4] != ZVMC.magic:
        raise InvalidModuleError(
            f"invalid ZVMC container: magic is {data[:4]!r}, not {ZVMC.magic!r}")
    version, target, flags, reserved = data[4], data[5], data[6], data[7]
    if version != VERSION:
        raise InvalidModuleError(
            f"invalid ZVMC container: version {version}, this ghost reads version {VERSION}")
    if target not in TARGETS:
        raise InvalidModuleError(f"invalid ZVMC container: unknown target {target}")
    if reserved != 0:
        raise InvalidModuleError(f"invalid ZVMC container: reserved byte 7 is {reserved}, not 0")
    code_size = int.from_bytes(data[8:12], "little")
    abi_size = int.from_bytes(data[12:16], "little")
    if HEADER_BYTES + code_size + abi_size != len(data):
        raise InvalidModuleError(
            f"invalid ZVMC container: header declares {code_size} code + {abi_size} ABI bytes, "
            f"the body has {len(data) - HEADER_BYTES}")
    code = data[HEADER_BYTES:HEADER_BYTES + code_size]
    abi = data[HEADER_BYTES + code_size:]
    return Zvmc(code, abi, version, target, flags)


def read_zvmc_metadata(data: bytes) -> dict[str, Any] | None:
    """ghost's metadata object from the ABI section, or None when the section is empty."""
    abi = decode_zvmc(data).abi
    if not abi.strip():
        return None
    return parse_metadata(abi, "ZVMC ABI section")


def zvmc_abi(metadata: dict[str, Any] | None) -> Abi | None:
    """The ghost ABI in a container's metadata (None without one), checked as a deploy
    checks it (vm/deploy_checks.py): names, types, versions. InvalidModuleError otherwise,
    so a malformed ABI fails when the container is loaded, never when it is called."""
    if metadata is None or "abi" not in metadata:
        return None
    from ghost_cli.vm.deploy_checks import abi_from_metadata

    try:
        return abi_from_metadata(metadata)
    except InvalidModuleError:
        raise
    except (GhostError, KeyError, TypeError, ValueError, AttributeError,
            RecursionError) as exc:  # a shape the checks let through and the parser not
        raise InvalidModuleError(f"invalid ghost ABI in the ZVMC container: {exc}") from None


def metadata_json(metadata: dict[str, Any]) -> bytes:
    """The ABI section ghost writes: compact, key-sorted JSON, so builds are reproducible.
    Its ABI must be one the engine loads (zvmc_abi): ghost writes no container it would
    refuse to run."""
    zvmc_abi(metadata)
    return json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()


def selector(signature: str) -> bytes:
    """Function selector: the first 4 bytes of keccak256 of the signature, e.g. `add(u64)`."""
    return keccak256(signature.encode())[:4]
