"""Every default and environment variable name, gathered in one place.

Other modules import these names rather than repeating literals, so a default changes in
one line and `ghost --help` and the docs can list the environment variables from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..formats import FORMATS

# ---- environment variables -------------------------------------------------------------

#: Where ghost keeps per-user state (keystores, caches). Default: ~/.ghost
ENV_HOME = "GHOST_HOME"
#: The network a command uses when --network is not given.
ENV_NETWORK = "GHOST_NETWORK"
#: Any of 1/true/yes makes every command print JSON, as --json does.
ENV_JSON = "GHOST_JSON"
#: Gas limit of a transaction when --gas-limit is not given.
ENV_GAS_LIMIT = "GHOST_GAS_LIMIT"
#: The keystore passphrase, for scripts and CI (else --password-file, else a prompt).
ENV_PASSPHRASE = "GHOST_PASSPHRASE"
#: The keystore key that signs when --key is not given.
ENV_KEY = "GHOST_KEY"
#: A file holding the key's passphrase, when --password-file is not given.
ENV_PASSWORD_FILE = "GHOST_PASSWORD_FILE"
#: The build target when --target is not given (default: each contract's `target`).
ENV_TARGET = "GHOST_TARGET"
#: The Zig optimize mode of `ghost build` when --optimize is not given, and of `ghost test`'s.
ENV_OPTIMIZE = "GHOST_OPTIMIZE"
#: Zig's own variable: where Zig keeps its global cache. Zig reads it; ghost never sets it.
ENV_ZIG_GLOBAL_CACHE = "ZIG_GLOBAL_CACHE_DIR"
#: quic or http: how deploy/call/query reach a node network (default: its url's scheme).
ENV_TRANSPORT = "GHOST_TRANSPORT"
#: The values of --transport (GHOST_TRANSPORT): HTTP/3 and HTTP/1.1
#: (client/transport.py serves each).
TRANSPORT_NAMES = ("quic", "http")

#: 1, 2 or 3: `ghost call`/`query`/`test` print a call trace, as -v, -vv, -vvv do.
ENV_VERBOSE = "GHOST_VERBOSE"

#: Name -> what it does, for help text and docs.
ENVIRONMENT: dict[str, str] = {
    ENV_HOME: "per-user ghost directory (default ~/.ghost)",
    ENV_NETWORK: "network used when --network is not given (default: the project's default)",
    ENV_JSON: "1/true/yes: print JSON, as --json does",
    ENV_GAS_LIMIT: "gas limit of a transaction when --gas-limit is not given",
    ENV_PASSPHRASE: "keystore passphrase when --password-file is not given (else a prompt)",
    ENV_KEY: "keystore key that signs when --key is not given",
    ENV_PASSWORD_FILE: "file holding the key's passphrase, as --password-file",
    ENV_TARGET: "wasm or zvm: what `ghost build` makes and `ghost deploy` sends when --target "
                "is not given (default: each contract's target); `ghost test` also takes both",
    ENV_OPTIMIZE: "Zig optimize mode of `ghost build` when --optimize is not given, and of "
                  "the build `ghost test` runs (default: build.optimize in ghost.toml)",
    ENV_ZIG_GLOBAL_CACHE: "Zig's global cache directory (read by Zig itself)",
    ENV_TRANSPORT: "quic or http: how deploy/call/query reach a node network",
    ENV_VERBOSE: "1, 2 or 3: call traces of ghost call/query/test, as -v/-vv/-vvv",
}

# ---- project layout ----------------------------------------------------------------------

CONFIG_FILE = "ghost.toml"
#: Per-project working state: the sandbox database and Zig's local caches.
STATE_DIR = ".ghost"
ZIG_CACHE_DIR = f"{STATE_DIR}/zig-cache"

# ---- ghost.toml defaults ------------------------------------------------------------------

DEFAULT_VERSION = "0.1.0"
DEFAULT_TARGET = "wasm"
#: What `ghost build` makes: WebAssembly, or ZVM bytecode lowered from it in a ZVMC container
#: (ghost_cli/formats.py describes each format once).
TARGETS = tuple(f.target for f in FORMATS)
#: The file each target writes, <out_dir>/<contract><suffix>.
ARTIFACT_SUFFIX = {f.target: f.suffix for f in FORMATS}

DEFAULT_OPTIMIZE = "ReleaseSafe"
#: Modes that keep Zig's runtime safety checks (overflow, bounds, unreachable stop the call).
SAFE_OPTIMIZE_MODES = ("Debug", "ReleaseSafe")
OPTIMIZE_MODES = ("Debug", "ReleaseSafe", "ReleaseFast", "ReleaseSmall")
DEFAULT_OUT_DIR = "build"
DEFAULT_SDK_DIR = "lib"

SANDBOX_NETWORK = "sandbox"
SANDBOX_CHAIN_ID = 1337
DEFAULT_NETWORK = SANDBOX_NETWORK
NETWORK_KINDS = ("sandbox", "node")
#: Gas limit of a transaction when none is given (the gas schedule, vm/gas.py, reads it here).
DEFAULT_GAS_LIMIT = 10_000_000

DEFAULT_GAS_TOLERANCE = 0.02
DEFAULT_SNAPSHOT_FILE = ".gas-snapshot.json"

# ---- toolchain ---------------------------------------------------------------------------

#: The Zig release series the contract SDK is written for (its std API changes between them).
SUPPORTED_ZIG_SERIES = "0.17"
WASM_TARGET = "wasm32-freestanding"
#: Zig's shadow stack for contracts lowered to ZVM (Zig's default is 1 MiB): ZVM charges
#: memory by its highest address, quadratically, and the stack sits below the data.
ZVM_STACK_BYTES = 32 * 1024
#: The instruction set contracts are built for: WebAssembly 1.0 (the VM meters every
#: instruction; bulk memory would move megabytes for one unit of fuel).
WASM_CPU = "mvp"
#: The SDK module name contracts import (`@import("ghost")`) and its file in sdk_dir.
SDK_MODULE = "ghost"
SDK_FILE = "ghost.zig"
#: Version of the JSON layout in the ghost.metadata custom section.
METADATA_FORMAT = 1

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when the variable is set to 1/true/yes/on (any case)."""
    env = os.environ if environ is None else environ
    return env.get(name, "").strip().lower() in _TRUE


def check_transport(name: str | None) -> None:
    """A `--transport` value (or GhostClient's `transport=`): None, or one of
    TRANSPORT_NAMES, else a UsageError."""
    if name is not None and name not in TRANSPORT_NAMES:
        from ..exceptions import UsageError

        raise UsageError(f"unknown transport {name!r}: use {' or '.join(TRANSPORT_NAMES)}")


def ghost_home(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user ghost directory: $GHOST_HOME, else ~/.ghost."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_HOME, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".ghost"
