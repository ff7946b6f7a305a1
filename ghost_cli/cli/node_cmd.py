"""`ghost node start`: run a node (JSON-RPC over HTTP/1.1 and HTTP/3, gRPC if asked) on a
data directory."""


import sys
from pathlib import Path
from typing import Annotated

import typer

from ..node import config as c  # names and defaults only (light); the service loads lazily
from .options import ForkHeight, ForkRoot
from .output import Output, command

_SUBAPP = dict(no_args_is_help=True, rich_markup_mode=None,
               context_settings={"help_option_names": ["-h", "--help"]})


def register(app: typer.Typer) -> None:
    node = typer.Typer(help="Run a ghost node.", **_SUBAPP)
    app.add_typer(node, name="node")

    @node.command("start")
    @command
    def start(
        out: Output,
        data_dir: Annotated[Path, typer.Option(
            "--data-dir", "-d", envvar=c.ENV_DATA_DIR, file_okay=False,
            help="Where the node keeps its state (created if missing).")],
        http: Annotated[str, typer.Option(
            "--http", envvar=c.ENV_HTTP,
            help="HOST:PORT for JSON-RPC over HTTP/1.1 and /metrics (port 0: any free).")
        ] = c.DEFAULT_HTTP,
        no_http: Annotated[bool, typer.Option("--no-http", help="Serve no HTTP/1.1.")] = False,
        quic: Annotated[str, typer.Option(
            "--quic", envvar=c.ENV_QUIC,
            help="UDP HOST:PORT for JSON-RPC over HTTP/3 (port 0: any free).")
        ] = c.DEFAULT_QUIC,
        no_quic: Annotated[bool, typer.Option("--no-quic", help="Serve no HTTP/3.")] = False,
        grpc: Annotated[str | None, typer.Option(
            "--grpc", envvar=c.ENV_GRPC,
            help="TCP HOST:PORT for gRPC, the ghost.v1 services (.proto files: proto/, "
                 "installed as ghost_cli.proto; port 0: any free; default: off).")] = None,
        chain_id: Annotated[int | None, typer.Option(
            "--chain-id", envvar=c.ENV_CHAIN_ID, min=0,
            help=f"Chain id of a new data directory (default {c.DEFAULT_CHAIN_ID}); an "
                 "existing one must match.")] = None,
        checkpoint_every: Annotated[int, typer.Option(
            "--checkpoint-every", envvar=c.ENV_CHECKPOINT_EVERY, min=0,
            help="Checkpoint after this many transactions (0: never by count).")
        ] = c.DEFAULT_CHECKPOINT_EVERY,
        checkpoint_ms: Annotated[int, typer.Option(
            "--checkpoint-ms", envvar=c.ENV_CHECKPOINT_MS, min=0,
            help="Checkpoint when this many ms have passed with new transactions (0: never "
                 "by time).")] = c.DEFAULT_CHECKPOINT_MS,
        store: Annotated[str | None, typer.Option(
            "--store", envvar=c.ENV_STORE,
            help="Where the chain's state lives: a SQLite path or sqlite:///PATH, or "
                 "postgresql://USER@HOST/DB shared by several nodes (password from "
                 "PGPASSFILE, ~/.pgpass or PGPASSWORD, never the command line). Default: "
                 "[node] store in the ghost.toml of the project it runs in, else "
                 "state.db in the data directory.")] = None,
        log_file: Annotated[Path | None, typer.Option(
            "--log-file", envvar=c.ENV_LOG_FILE, dir_okay=False,
            help="Append JSON-lines logs here (default: stderr).")] = None,
        workers: Annotated[int, typer.Option(
            "--workers", envvar=c.ENV_WORKERS, min=1,
            help="Executions (JSON-RPC bodies, gRPC calls) run at once.")
        ] = c.PoolLimits.workers,
        queue: Annotated[int, typer.Option(
            "--queue", envvar=c.ENV_QUEUE, min=1,
            help="Executions that may wait for a worker; past it requests are refused "
                 "as busy.")] = c.PoolLimits.queue,
        max_connections: Annotated[int, typer.Option(
            "--max-connections", envvar=c.ENV_MAX_CONNECTIONS, min=1,
            help="HTTP/1.1 connections open at once.")] = c.HttpLimits.max_connections,
        handshakes: Annotated[int, typer.Option(
            "--handshakes-per-address", envvar=c.ENV_HANDSHAKES, min=1, metavar="N",
            help="QUIC handshakes a second one address (an IPv6 /64) may start, in bursts "
                 "of twice as many; past it a client goes through a Retry first (raise it "
                 "when many clients share one address).")
        ] = int(c.HandshakeLimits.per_address_rate),
        state_history: Annotated[bool, typer.Option(
            "--state-history/--no-state-history", envvar=c.ENV_STATE_HISTORY,
            help="Keep the state after every block, so proofs (and forks) can ask for a "
                 "past height; costs a little per write. Every node of a shared store "
                 "must agree.")] = True,
        state_history_blocks: Annotated[int, typer.Option(
            "--state-history-blocks", envvar=c.ENV_STATE_HISTORY_BLOCKS, min=0, metavar="N",
            help="Keep the state of the latest N blocks; older ones are pruned as blocks "
                 "are written (0: every block, without bound).")
        ] = c.DEFAULT_STATE_HISTORY_BLOCKS,
        fork: Annotated[str | None, typer.Option(
            "--fork", metavar="NETWORK",
            help="Serve a local copy-on-write fork of this node network (or node URL): "
                 "its state read lazily and proven, transactions kept here.")] = None,
        fork_height: ForkHeight = None,
        fork_root: ForkRoot = None,
    ) -> None:
        """Serve JSON-RPC until SIGINT, SIGTERM or SIGHUP. Prints the bound addresses once ready
        (one JSON line on stdout with --json)."""
        import json

        from ..node.config import Endpoint, HttpLimits, NodeConfig
        from ..node.handshakes import HandshakeLimits
        from ..node.pool import PoolLimits
        from ..node.service import run_node

        forked = None
        if fork is not None:
            from ..client.fork_reader import fork_network, parse_root

            if store is not None:
                from ..exceptions import UsageError

                raise UsageError("--fork keeps its state in memory; it takes no --store")
            forked = fork_network(fork, _project_networks())
            root = parse_root(fork_root)
        elif fork_height is not None or fork_root is not None:
            from ..exceptions import UsageError

            raise UsageError("--fork-height and --fork-root need --fork NETWORK")
        config = NodeConfig(
            fork=forked,
            fork_height=fork_height,
            state_history=state_history,
            state_history_blocks=state_history_blocks or None,
            fork_root=root if fork is not None else None,
            data_dir=data_dir,
            store=store if store is not None else _project_store(),
            http=None if no_http else Endpoint.parse(http, "--http"),
            quic=None if no_quic else Endpoint.parse(quic, "--quic"),
            grpc=Endpoint.parse(grpc, "--grpc") if grpc else None,
            chain_id=chain_id,
            checkpoint_every=checkpoint_every or None,
            checkpoint_ms=checkpoint_ms or None,
            log_file=log_file,
            pool=PoolLimits(workers=workers, queue=queue),
            http_limits=HttpLimits(max_connections=max_connections),
            handshakes=HandshakeLimits(per_address_rate=handshakes,
                                       per_address_burst=2 * handshakes),
        )

        def ready(bound: dict) -> None:
            if out.as_json:
                sys.stdout.write(json.dumps({"ok": True, **bound}) + "\n")
                sys.stdout.flush()
            else:
                where = ", ".join(f"{k.upper()} on {bound[k]}" for k in ("http", "quic", "grpc")
                                  if k in bound)
                out.info(f"ghost node: chain {bound['chain_id']}, {where}; "
                         f"data in {bound['data_dir']}, state in {bound['store']}")

        run_node(config, ready)

    @node.command("migrate")
    @command
    def migrate(
        out: Output,
        source: Annotated[str, typer.Option(
            "--from", help="The store to copy: a SQLite path (e.g. n0/state.db), "
                           "sqlite:///PATH or postgresql://USER@HOST/DB.")],
        target: Annotated[str, typer.Option(
            "--to", help="The empty store to copy it into (same forms as --from).")],
    ) -> None:
        """Copy a chain between stores (SQLite <-> PostgreSQL) and verify the copy: the
        same rows in every table and the same state root. The source is read in one
        snapshot, so a running node's chain copies as a backup; stop the nodes to move one."""
        from ..chain.store.migrate import migrate as copy_chain

        report = copy_chain(source, target)
        out.emit(
            {"from": report.source, "to": report.target, "height": report.height,
             "state_root": "0x" + report.state_root.hex(), "rows": report.rows},
            lambda: out.out.print(
                f"copied chain at height {report.height} from {report.source} to "
                f"{report.target}: state root 0x{report.state_root.hex()} verified, "
                f"{sum(report.rows.values())} rows"))


def _project_networks() -> dict | None:
    """The networks of the ghost.toml found from here upward; None outside a project."""
    from ..config.project import find_config, load_project
    from ..exceptions import ConfigError

    try:
        find_config()
    except ConfigError:
        return None
    return load_project().networks


def _project_store() -> str | None:
    """`[node] store` of the ghost.toml found from here upward; None outside a project."""
    from ..config.project import find_config, load_project
    from ..exceptions import ConfigError

    try:
        find_config()
    except ConfigError:  # not in a project: the data directory's state.db
        return None
    return load_project().node_store
