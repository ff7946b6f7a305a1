"""`ghost verify`: rebuild a contract from source and check it is what is deployed."""


from typing import Annotated

import typer

from .artifacts import check_target
from .options import Network, Target, Transport
from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command("verify")
    @command
    def verify(
        out: Output,
        contract: Annotated[str, typer.Argument(help="Contract name from ghost.toml.")],
        address: Annotated[str | None, typer.Option(
            "--address", help="Deployed address (default: the network's entry for the name).")
        ] = None,
        network: Network = None,
        target: Target = None,
        transport: Transport = None,
    ) -> None:
        """Rebuild CONTRACT from source (reproducible builds) and compare its hash with the
        code hash deployed on the network. Exit 0 on a match, 11 on a mismatch."""
        import hashlib

        from ..abi import format_address
        from ..config.project import load_project
        from ..exceptions import CryptoError
        from ..networks import open_network
        from ..toolchain.build import build_project

        check_target(target)
        project = load_project()
        project.contract(contract)  # NotFoundError naming the contracts there are
        with out.status(f"Rebuilding {contract}") as say:
            [built] = build_project(project, [contract], progress=say, target=target,
                                     force=True)  # a real compile, never a reused artifact
        local = hashlib.sha256(built.path.read_bytes()).digest()
        with open_network(project, network, transport=transport) as net:
            deployed_at = net.resolve(address or contract)
            deployed = net.code_hash(deployed_at)
        data = {"contract": contract, "address": format_address(deployed_at),
                "source_hash": built.metadata.get("source_hash"),
                "local_code_hash": "0x" + local.hex(),
                "deployed_code_hash": "0x" + deployed.hex(), "match": local == deployed}
        if local != deployed:
            raise CryptoError(
                f"{contract} at {format_address(deployed_at)} does not match this source: "
                f"deployed code 0x{deployed.hex()[:16]}…, rebuilt 0x{local.hex()[:16]}… "
                f"(the code records a hash of {_sources(project, contract)}: one of them, or "
                "the build settings, differ from what was deployed)", **data)
        out.emit(data, lambda: out.out.print(
            f"verified: {contract} at {format_address(deployed_at)} is this source "
            f"(code sha256 0x{local.hex()})"))


def _sources(project, contract: str) -> str:
    """What the contract's `source_hash` covers, for the mismatch message."""
    root = project.contract(contract).source.as_posix()
    sdk = project.sdk_dir
    sdk = f"{sdk.relative_to(project.root).as_posix()}/" if sdk.is_relative_to(
        project.root) else f"{sdk}/"
    return f"{root}, the files it imports or embeds, and the SDK's Zig files in {sdk}"
