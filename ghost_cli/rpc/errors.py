"""JSON-RPC error codes as data: the protocol's five, and one number per ghost error code.

A response's `error.code` is the number; `error.data.code` is the ghost code string
(ghost_cli.exceptions), so a client can raise the same typed error the node raised.
Numbers never change meaning; new ghost codes take new numbers (docs/rpc.md lists them).
An exception whose own code has no row takes its nearest ancestor's, so a new subclass
is never unmapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import exceptions as exc_module
from ..exceptions import ExecutionError, GhostError, one_line


@dataclass(frozen=True)
class ErrorCode:
    number: int
    code: str  # the ghost code string, `data.code` in a response
    meaning: str


#: JSON-RPC 2.0's reserved codes.
PROTOCOL_ERRORS: tuple[ErrorCode, ...] = (
    ErrorCode(-32700, "parse_error",
              "the body is not valid JSON, or an object in it names a member twice, or it "
              "holds an integer of more than 4,300 digits, or nests arrays and objects more "
              "than about 1,000 deep"),
    ErrorCode(-32600, "invalid_request",
              "not a JSON-RPC 2.0 request object (or batch); `params` that is neither "
              "an object nor an array included"),
    ErrorCode(-32601, "method_not_found", "no such method"),
    ErrorCode(-32602, "invalid_params", "params missing, unknown or of the wrong type"),
    ErrorCode(-32603, "internal_error", "the node failed unexpectedly; details are in its log"),
)

#: Ghost errors, in -32000..-32099. Grouped by tens: requests, transactions, execution,
#: lookups and modules, node state.
APPLICATION_ERRORS: tuple[ErrorCode, ...] = (
    ErrorCode(-32000, "error", "any other ghost error"),
    ErrorCode(-32001, "too_large", "body or batch over the node's limit"),
    ErrorCode(-32010, "tx_rejected", "transaction malformed or refused before it ran"),
    ErrorCode(-32011, "bad_signature", "signature missing, invalid, or below the threshold"),
    ErrorCode(-32012, "wrong_chain", "signed for another chain id"),
    ErrorCode(-32013, "bad_nonce", "nonce already used or ahead of the account"),
    ErrorCode(-32014, "expired", "past the transaction's expiry"),
    ErrorCode(-32015, "gas_limit_too_high", "gas limit above the per-transaction cap"),
    ErrorCode(-32016, "name_taken", "a deploy's label names another account's contract"),
    ErrorCode(-32020, "execution_failed",
              "the contract ran and failed; only its nonce, gas and failed receipt are recorded"),
    ErrorCode(-32021, "reverted", "the contract reverted (data.reason)"),
    ErrorCode(-32022, "out_of_gas", "the gas limit ran out"),
    ErrorCode(-32023, "trap", "a WebAssembly trap"),
    ErrorCode(-32024, "memory_limit", "linear memory over the limit"),
    ErrorCode(-32025, "stack_overflow", "call stack over the limit"),
    ErrorCode(-32026, "host_memory_out_of_bounds", "a host call got a range outside memory"),
    ErrorCode(-32027, "timeout", "the wall-clock backstop fired"),
    ErrorCode(-32028, "invalid_opcode", "ZVM: a byte that is no opcode"),
    ErrorCode(-32029, "truncated_immediate", "ZVM: an immediate runs past the code"),
    ErrorCode(-32030, "stack_underflow", "ZVM: too few stack items"),
    ErrorCode(-32031, "invalid_jump", "ZVM: a jump to a non-JUMPDEST"),
    ErrorCode(-32032, "static_call_violation", "ZVM: a state change inside STATICCALL"),
    ErrorCode(-32033, "panic", "a Zig panic or failed safety check (data.panic, data.frames)"),
    ErrorCode(-32034, "storage_limit",
              "the call wrote more storage keys than one transaction may (data.limit)"),
    ErrorCode(-32040, "not_found", "no such contract, function, receipt or checkpoint"),
    ErrorCode(-32041, "invalid_module", "the deployed code is corrupt, oversized or unlinkable"),
    ErrorCode(-32042, "bad_arguments",
              "a deploy's `args` for a module without a constructor (docs/transactions.md); "
              "clients use it for arguments that do not fit the ABI, checked before sending"),
    ErrorCode(-32043, "usage", "a request the node cannot serve as asked"),
    ErrorCode(-32044, "height_unavailable",
              "no state kept for that height: past the latest block, or before the node's "
              "state history starts (data.history_from)"),
    ErrorCode(-32050, "state", "the node's state database failed"),
    ErrorCode(-32051, "crypto", "malformed key or signature, unknown scheme"),
    ErrorCode(-32052, "busy", "the node's execution queue is full; nothing ran, retry later"),
    ErrorCode(-32053, "node_unavailable", "the node is stopping; nothing ran"),
    ErrorCode(-32054, "store_unavailable",
              "the state database is unreachable; retry (a write may or may not be recorded)"),
)

ALL_ERRORS: tuple[ErrorCode, ...] = PROTOCOL_ERRORS + APPLICATION_ERRORS
BY_CODE: dict[str, ErrorCode] = {e.code: e for e in ALL_ERRORS}
BY_NUMBER: dict[int, ErrorCode] = {e.number: e for e in ALL_ERRORS}
INTERNAL = BY_CODE["internal_error"]


def internal_error() -> dict[str, Any]:
    """The `error` member for an unexpected failure (a bug), on every transport alike:
    -32603 and nothing of the exception (the node's log has it: `internal_error`)."""
    return {"code": INTERNAL.number, "message": "internal error",
            "data": {"code": INTERNAL.code}}


def error_code_for(exc: GhostError) -> ErrorCode:
    """The row for `exc`: its own code's, else its nearest ancestor's (GhostError: -32000)."""
    for cls in type(exc).__mro__:
        code = getattr(cls, "code", None)
        if code in BY_CODE:
            return BY_CODE[code]
    return BY_CODE["error"]


#: The longest message (and string detail) an error object carries: messages may quote
#: what the caller sent (a method or function name), and a reply never echoes unbounded
#: input. Longer text is cut and ends with "...".
MAX_MESSAGE = 512


def error_object(exc: GhostError) -> dict[str, Any]:
    """The JSON-RPC `error` member for a ghost error: number, one-line message, data."""
    row = error_code_for(exc)
    data: dict[str, Any] = {"code": exc.code}
    data.update({k: _jsonable(v) for k, v in exc.details.items()})
    if isinstance(exc, ExecutionError):
        data["gas_used"] = exc.gas_used
    # one line whatever the error carries (a contract's revert reason may hold line
    # breaks): `data` keeps such text exact
    return {"code": row.number, "message": truncate(one_line(exc.message)), "data": data}


def truncate(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def exception_from(error: Any) -> GhostError:
    """Rebuild the typed error a node reported: for clients, the inverse of error_object.
    Total: whatever shape the object has (a hostile or broken peer), a GhostError."""
    if not isinstance(error, dict):
        error = {}
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    named, number = data.get("code"), error.get("code")
    if isinstance(named, str) and named:
        code = named
    else:
        code = BY_NUMBER.get(number if type(number) is int else None, BY_CODE["error"]).code
    cls = _classes_by_code().get(code, GhostError)
    if cls is exc_module.NodeUnavailableError:  # a node says so only when nothing ran
        cls = exc_module.RequestNotSentError
    message = str(error.get("message", "error"))
    gas = data.get("gas_used")
    gas_used = gas if type(gas) is int and gas >= 0 else 0
    details = {k: v for k, v in data.items() if k not in ("code", "gas_used")}
    # Built from the message alone, details added after: a peer's `data` may name any
    # field, including a constructor's own parameters.
    if issubclass(cls, exc_module.RevertError):
        reason = details.get("reason", message)
        exc: GhostError = cls(reason if isinstance(reason, str) else message,
                              gas_used=gas_used)
        exc.message = message
    elif issubclass(cls, ExecutionError):
        exc = cls(message, gas_used=gas_used)
    else:
        exc = cls(message)
        if cls is GhostError and code != GhostError.code:
            exc.code = code  # an unknown code (a newer node) is kept, not lost
    exc.details.update(details)  # e.g. tx_hash of the failed transaction's receipt
    return exc


def malformed_error(error: Any) -> str | None:
    """What makes `error` not an error object as a node sends one (docs/rpc.md), or None.
    exception_from reads anything; a client treats such an answer as one it cannot read."""
    if not isinstance(error, dict):
        return "not an object"
    if type(error.get("code")) is not int:
        return "its code is not an integer"
    if not isinstance(error.get("message"), str):
        return "its message is not a string"
    data = error.get("data")
    if data is None:
        return None
    if not isinstance(data, dict):
        return "its data is not an object"
    for field, ok in (("code", lambda v: isinstance(v, str)),
                      ("reason", lambda v: isinstance(v, str)),
                      ("gas_used", lambda v: type(v) is int and v >= 0)):
        if field in data and not ok(data[field]):
            return f"its data.{field} is of the wrong type"
    return None


def _classes_by_code() -> dict[str, type[GhostError]]:
    found: dict[str, type[GhostError]] = {}
    stack: list[type[GhostError]] = [GhostError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.code, cls)
        stack.extend(cls.__subclasses__())
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return truncate("0x" + bytes(value).hex())
    if isinstance(value, str):
        return truncate(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
