"""`ghost asm`, `ghost disasm`: ZVM assembly to a ZVMC container and back (the `--trace`
option of `ghost call`/`ghost query` lives in tracing.py)."""


from pathlib import Path
from typing import Annotated, Any

import typer

from .output import Output, command


def register(app: typer.Typer) -> None:
    @app.command("asm")
    @command
    def asm(
        out: Output,
        file: Annotated[Path, typer.Argument(help="ZVM assembly source (.zasm).")],
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="The .zvmc to write (default: FILE.zvmc)."),
        ] = None,
        abi: Annotated[
            Path | None,
            typer.Option("--abi", help="Ghost ABI JSON ({\"version\": 1, \"functions\": "
                                       "[...]}) to put in the container's ABI section."),
        ] = None,
    ) -> None:
        """Assemble ZVM assembly into a ZVMC container."""
        result = assemble_file(file, output or file.with_suffix(".zvmc"), abi)
        out.emit(result, lambda: out.out.print(
            f"Assembled {result['path']}: {result['code_size']:,} bytes of code, "
            f"{len(result['functions'])} function(s)"))

    @app.command("disasm")
    @command
    def disasm(
        out: Output,
        file: Annotated[Path, typer.Argument(help="A .zvmc container, or raw ZVM bytecode.")],
        as_asm: Annotated[
            bool, typer.Option("--asm", help="Print assembly that assembles back to the code."),
        ] = False,
    ) -> None:
        """List the instructions of ZVM bytecode: offset, opcode, immediate, base gas."""
        from ..vm.zvm import to_text

        info, instrs = disassemble_file(file)
        if as_asm and not out.as_json:
            typer.echo(to_text(instrs), nl=False)
            return
        out.emit({**info, "instructions": [_instr_json(i) for i in instrs]},
                 lambda: _render_listing(instrs))


def _read(path: Path) -> bytes:
    from ..exceptions import NotFoundError

    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path} not found") from None
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}") from None


def assemble_file(source: Path, output: Path, abi_path: Path | None) -> dict[str, Any]:
    from ..abi import Abi
    from ..exceptions import CompileError, UsageError
    from ..fsutil import write_output
    from ..vm.zvm import assemble, encode_zvmc, metadata_json, selector

    try:
        code = assemble(_read(source))  # bytes: not UTF-8 is a compile error with its line
    except CompileError as exc:
        raise CompileError(f"{source}: {exc.message}", **exc.details) from None
    functions = []
    section = b""
    if abi_path is not None:
        import json

        try:
            doc = json.loads(_read(abi_path))
            metadata = doc if isinstance(doc, dict) and "abi" in doc else {"abi": doc}
            parsed = Abi.from_json(metadata["abi"])
        except ValueError as exc:  # not JSON, or the ABI reader's own one-line reason
            raise UsageError(f"{abi_path} is not a ghost ABI: {exc}") from None
        except (KeyError, TypeError, AttributeError):  # Python's words would not help
            raise UsageError(f"{abi_path} is not a ghost ABI: expected an object like "
                             '{"version": 1, "functions": [{"name": ..., "inputs": [...], '
                             '"output": ...}, ...]} or a metadata object with "abi"'
                             ) from None
        section = metadata_json(metadata)
        functions = [{"name": f.name, "signature": f.signature,
                      "selector": "0x" + selector(f.signature).hex()} for f in parsed.functions]
    blob = encode_zvmc(code, section)
    write_output(output, blob)
    from ..crypto.hashing import keccak256

    return {"path": str(output), "size": len(blob), "code_size": len(code),
            "code_hash": "0x" + keccak256(code).hex(), "functions": functions}


def disassemble_file(path: Path):
    from ..formats import ZVMC
    from ..vm.zvm import decode_zvmc, disassemble, read_zvmc_metadata

    data = _read(path)
    if data.startswith(b"\0asm"):  # else listed as if it were ZVM bytes, all nonsense
        from ..exceptions import UsageError

        raise UsageError(f"{path} is a WebAssembly module, not ZVM code: `ghost build "
                         "--target zvm` makes a .zvmc, `ghost inspect` shows a contract's ABI")
    if data.startswith(ZVMC.magic):
        container = decode_zvmc(data)
        info = {"path": str(path), "container": True, "target": container.target_name,
                "flags": container.flags, "code_size": len(container.code),
                "metadata": read_zvmc_metadata(data)}
        code = container.code
    else:
        info = {"path": str(path), "container": False, "code_size": len(data)}
        code = data
    return info, disassemble(code)


def _instr_json(i) -> dict[str, Any]:
    return {"offset": i.offset, "opcode": f"0x{i.opcode:02x}", "name": i.name,
            "immediate": i.operand_text or None, "gas": i.gas, "valid": i.valid,
            **({} if i.valid else {"bytes": "0x" + i.raw.hex()})}


def _render_listing(instrs) -> None:
    lines = [f"{'offset':>6}  {'op':<4}  {'name':<20} {'immediate':<24} {'gas':>5}"]
    for i in instrs:
        operand = i.operand_text if i.valid else f"(bytes 0x{i.raw.hex()})"
        lines.append(f"{i.offset:>6}  {i.opcode:02x}    {i.name:<20} {operand:<24} {i.gas:>5}")
    typer.echo("\n".join(lines))

