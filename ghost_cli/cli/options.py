"""Options shared by several commands; each names its environment variable."""


from pathlib import Path
from typing import Annotated

import typer

from ..config import defaults

Json = Annotated[
    bool,
    typer.Option("--json", envvar=defaults.ENV_JSON,
                 help="Print one JSON document on stdout; diagnostics stay on stderr."),
]
Network = Annotated[
    str | None,
    typer.Option("--network", "-n", envvar=defaults.ENV_NETWORK,
                 help="Network from ghost.toml [networks]; default: the project's default."),
]
GasLimit = Annotated[
    int | None,
    typer.Option("--gas-limit", envvar=defaults.ENV_GAS_LIMIT, min=1,
                 help="Gas limit for the transaction."),
]
Key = Annotated[
    str | None,
    typer.Option("--key", "-k", envvar=defaults.ENV_KEY,
                 help="Keystore key that signs (`ghost keys list`); default: the network's "
                      "development key (sandbox only)."),
]
Target = Annotated[
    str | None,
    typer.Option("--target", envvar=defaults.ENV_TARGET,
                 help="wasm (WebAssembly) or zvm (ZVM bytecode in a .zvmc); default: each "
                      "contract's `target` in ghost.toml."),
]
#: --target of the commands that read a build's ABI (bindings, inspect): without it they
#: read the newer of the contract's two artifacts (docs/bindings.md).
ReadTarget = Annotated[
    str | None,
    typer.Option("--target", envvar=defaults.ENV_TARGET,
                 help="wasm (build/NAME.wasm) or zvm (build/NAME.zvmc); default: the newer "
                      "of the two."),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", envvar=defaults.ENV_PASSWORD_FILE,
                 help="Read the key's passphrase from this file (else GHOST_PASSPHRASE, "
                      "else a prompt)."),
]
Transport = Annotated[
    str | None,
    typer.Option("--transport", envvar=defaults.ENV_TRANSPORT,
                 help="How to reach a node network: quic (HTTP/3) or http (HTTP/1.1, the "
                      "network's http_url); default: its url's scheme. The sandbox has none, "
                      "but refuses any other value."),
]
Verbose = Annotated[
    int,
    typer.Option("--verbose", "-v", count=True, envvar=defaults.ENV_VERBOSE, min=0, max=3,
                 clamp=True,
                 help="Print the call trace to stderr (sandbox): -v frames, gas, storage, "
                      "events, logs and sub-calls; -vv every host call; -vvv ZVM opcodes "
                      "too. With --json, add it as \"call_trace\"."),
]
#: Not in config.defaults: only `--trace` reads it.
ENV_TRACE = "GHOST_TRACE"
Trace = Annotated[
    bool,
    typer.Option("--trace", envvar=ENV_TRACE,
                 help="Print every ZVM instruction run (depth, pc, opcode, gas left, stack "
                      "top) to stderr; with --json, add them as \"trace\". ZVM contracts only."),
]
CtorArgs = Annotated[
    list[str] | None,
    typer.Option("--args", help="An argument of the contract's constructor (`pub fn init`), "
                                "parsed as its ABI declares; repeat once per argument, in "
                                "order. The constructor runs inside the deploy transaction."),
]
ForkHeight = Annotated[
    int | None,
    typer.Option("--fork-height", min=0, metavar="H",
                 help="With --fork: the state after block H (default: the node's latest)."),
]
ForkRoot = Annotated[
    str | None,
    typer.Option("--fork-root", metavar="ROOT",
                 help="With --fork: the state root (0x…, e.g. a published checkpoint's) the "
                      "node must report at the fork's height, else exit 11."),
]
