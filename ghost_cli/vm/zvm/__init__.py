"""ZVM: the Zig-native contract VM's bytecode, run by a Python interpreter (docs/zvm.md).

The public surface: the opcode table (`opcodes`) and its JUMPDEST analysis (`jumpdests`),
the ZVMC container (`encode_zvmc`, `decode_zvmc`, `read_zvmc_metadata`, `metadata_json`),
the assembler (`assemble`, `disassemble`, `to_text`), `selector`, and the engine
(`ZvmEngine`, imported from `ghost_cli.vm.zvm.engine`).
"""

from .assembler import Instr, assemble, disassemble, to_text
from .container import (
    Zvmc,
    decode_zvmc,
    encode_zvmc,
    metadata_json,
    read_zvmc_metadata,
    selector,
)
from .opcodes import BY_NAME, OPCODES, Opcode, jumpdests

__all__ = [
    "BY_NAME", "OPCODES", "Instr", "Opcode", "Zvmc", "assemble", "decode_zvmc",
    "disassemble", "encode_zvmc", "jumpdests", "metadata_json", "read_zvmc_metadata", "selector",
    "to_text",
]
