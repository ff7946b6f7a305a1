"""The contract ABI: types, the call-data codec, and parsing of command-line arguments.

The byte encoding matches the Zig SDK (templates/sdk/ghost.zig) exactly and is specified
in docs/abi.md: integers little-endian at their declared width, bool one byte, address 20
bytes, bytes and string a u32 little-endian length followed by the data, arrays their
elements, slices a u32 count then the elements, optionals a 0/1 tag, structs and tuples
their fields in order, enums one byte. Call data is the arguments concatenated; return
data is the single result encoded the same way.

Modules: `types` (the type tree and parse_type), `model` (the ABI document), `codec`
(values, calls, results, events), `args` (command line and JSON), `storage_key` (the
SDK's storage keys), `strategies` (hypothesis strategies; needs hypothesis installed).
"""

from __future__ import annotations

from .args import (
    format_address,
    format_fields,
    parse_address,
    parse_arg,
    parse_args,
    raw_value,
    to_jsonable,
)
from .codec import (
    decode_call,
    decode_event,
    decode_exact,
    decode_result,
    decode_value,
    encode_call,
    encode_value,
    event_fields,
    topic_value,
)
from .model import ABI_VERSION, CONSTRUCTOR, Abi, EventField, EventSpec, Function, Param, TypeDecl
from .types import (
    ADDRESS_LEN,
    INT_TYPES,
    INT_WIDTHS,
    REASONS,
    TYPES,
    AbiType,
    parse_type,
)

_topic_value = topic_value  # the name version 1 used

__all__ = [
    "ABI_VERSION", "ADDRESS_LEN", "CONSTRUCTOR", "INT_TYPES", "INT_WIDTHS", "REASONS", "TYPES",
    "Abi", "AbiType", "EventField", "EventSpec", "Function", "Param", "TypeDecl",
    "decode_call", "decode_event", "decode_exact", "decode_result", "decode_value",
    "encode_call", "encode_value", "event_fields", "format_address", "format_fields",
    "parse_address", "parse_arg", "parse_args", "parse_type", "raw_value", "to_jsonable",
    "topic_value",
]
