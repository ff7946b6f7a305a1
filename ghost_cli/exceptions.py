"""Every error ghost raises, in one tree.

    GhostError                      exit 1   anything not listed below
    ├── UsageError                  exit 2   bad command-line input
    │   ├── ArgumentError           exit 2   call arguments that do not fit the contract's ABI
    │   │   └── AbiError            exit 2   bytes that do not decode as their ABI type
    │   └── RequestError            exit 2   a JSON-RPC request a node refuses (docs/rpc.md)
    │       ├── ParseError                   the body is not JSON
    │       ├── MethodNotFoundError          no such method
    │       ├── InvalidParamsError           params missing, unknown or of the wrong type
    │       └── RequestTooLargeError         body or batch over the node's limit
    ├── ConfigError                 exit 3   ghost.toml missing or invalid, not in a project
    ├── ToolchainError              exit 4   Zig missing or failing
    │   ├── CompileError            exit 4   the contract does not compile (file:line in message)
    │   └── UnknownImportError      exit 4   the module imports something the host lacks
    ├── InvalidModuleError          exit 5   corrupt, oversized or unlinkable WebAssembly
    ├── ExecutionError              exit 6   ran and failed; kept: nonce and receipt
    │   ├── OutOfGasError
    │   ├── MemoryLimitError
    │   ├── StackOverflowError
    │   ├── HostMemoryError         a host call was given a pointer/length outside memory
    │   ├── TimeoutError_           the wall-clock backstop fired
    │   ├── StorageLimitError       wrote more storage keys than one transaction may
    │   ├── TrapError               any other WebAssembly trap
    │   │   └── PanicError          a Zig panic or failed safety check, with its message
    │   ├── RevertError             the contract reverted, with its reason
    │   ├── InvalidOpcodeError      ZVM: a byte that is no opcode here
    │   │   └── TruncatedImmediateError  ZVM: a PUSH/HOSTCALL immediate runs past the code
    │   ├── StackUnderflowError     ZVM: an opcode needs more stack items than there are
    │   ├── InvalidJumpError        ZVM: JUMP/JUMPI to a byte that is not a JUMPDEST
    │   └── StaticCallViolationError  ZVM: a state change inside STATICCALL
    ├── NotFoundError               exit 7   unknown contract, function, network or artifact
    │   └── HeightUnavailableError  exit 7   no state kept for that height (past the latest,
    │                                        or before the store's state history starts)
    ├── StateError                  exit 8   the state database is unusable
    │   └── StoreUnavailableError   exit 8   the state database is unreachable; retry
    ├── GasCheckError               exit 9   `ghost test --check`: gas moved beyond tolerance
    ├── CryptoError                 exit 11  malformed key or signature, unknown scheme
    │   ├── KeystoreError           exit 11  keystore file missing, corrupt or unwritable
    │   │   └── KeystorePermissionError  a key file or the keys directory open to other users
    │   └── WrongPassphraseError    exit 12  the passphrase does not open the keystore
    ├── TransactionError            exit 13  rejected before it ran; nothing changed
    │   ├── BadSignatureError       signature missing, invalid, of a non-member or below threshold
    │   ├── WrongChainError         signed for another chain id
    │   ├── NonceError              replayed or out-of-order nonce
    │   ├── ExpiredError            past its expiry
    │   └── GasLimitTooHighError    asks for more gas than one transaction may use
    ├── NodeUnavailableError        exit 14  no answer from the node: refused, timed out, lost
    │   ├── RequestNotSentError     the request never reached the node: safe to send again
    │   │   └── NodeBusyError       the node's execution queue is full; nothing ran
    │   └── AnswerLostError         it may have reached the node: a transaction may be applied
    ├── TestsFailedError            exit 10  `ghost test`: a test failed or errored
    ├── CoverageBelowMinimumError   exit 16  `ghost test --coverage-min`: too few lines ran
    └── InterruptedError_           exit 130 Ctrl-C (at a prompt or while a command runs);
                                    129 SIGHUP, 143 SIGTERM (128 + the signal's number)

Exit codes are part of the CLI's contract (docs/cli.md) and never change meaning.
Third-party errors (wasmtime, sqlite3, subprocess) are translated at the boundary.
"""

from __future__ import annotations


class GhostError(Exception):
    """Base of every ghost error. `code` is a stable machine-readable name."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def one_line(text: str) -> str:
    """`text` as one line of printable text: each character `str.isprintable` refuses (a
    line break, U+2028, a control character, a lone surrogate) written as its escape,
    `\\n`, `\\u2028`. An error's message is one line wherever it is shown, but some carry
    what a contract chose (a revert reason, a panic message) or a request sent."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class UsageError(GhostError):
    exit_code = 2
    code = "usage"


class ArgumentError(UsageError):
    code = "bad_arguments"


class AbiError(ArgumentError):
    """Bytes that do not decode as their ABI type. `reason` (also `details["reason"]`) is
    the exact revert reason a contract gives for the same bytes, e.g.
    `ghost: call data too short` (docs/abi.md, "Refusals"). Its code stays `bad_arguments`
    (exit 2, JSON-RPC -32042): a refinement, not a new kind of failure."""

    def __init__(self, reason: str, detail: str = "", **details: object) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason, reason=reason, **details)
        self.reason = reason


class RequestError(UsageError):
    """A JSON-RPC request that is not a valid request object (or batch) for a node."""

    code = "invalid_request"


class ParseError(RequestError):
    code = "parse_error"


class MethodNotFoundError(RequestError):
    code = "method_not_found"


class InvalidParamsError(RequestError):
    code = "invalid_params"


class RequestTooLargeError(RequestError):
    code = "too_large"


class DoqProtocolError(RequestError):
    """A DNS-over-QUIC query that breaks RFC 9250 itself, not only DNS: the node closes its
    connection with DOQ_PROTOCOL_ERROR instead of answering (docs/names.md). Never a
    JSON-RPC answer, so it keeps its parent's code."""


class ConfigError(GhostError):
    exit_code = 3
    code = "config"


class ToolchainError(GhostError):
    exit_code = 4
    code = "toolchain"


class CompileError(ToolchainError):
    code = "compile_error"


class UnknownImportError(ToolchainError):
    code = "unknown_import"


class InvalidModuleError(GhostError):
    exit_code = 5
    code = "invalid_module"


class ExecutionError(GhostError):
    """The contract ran and failed. Nothing it did is kept; `gas_used` is still charged and,
    for a signed transaction, its nonce used and a failed receipt recorded (`tx_hash` in
    `details`)."""

    exit_code = 6
    code = "execution_failed"

    def __init__(self, message: str, *, gas_used: int = 0, **details: object) -> None:
        super().__init__(message, **details)
        self.gas_used = gas_used

    def to_json(self) -> dict[str, object]:
        out = super().to_json()
        out["gas_used"] = self.gas_used
        return out


class OutOfGasError(ExecutionError):
    code = "out_of_gas"
    #: The limit the message states, once `burn` has put it there; `why` says where the
    #: gas ran out, kept apart so that the figures can be told again for another limit.
    limit: int | None = None
    why: str = ""

    @classmethod
    def burnt(cls, limit: int, why: str = "") -> OutOfGasError:
        error = cls("")
        error.why = why
        return error.burn(limit)

    def burn(self, limit: int) -> OutOfGasError:
        """The whole `limit` used, as out of gas always does: first the engine's limit for
        its run, then (the executor) the transaction's, its base included."""
        self.limit = self.gas_used = limit
        self.message = f"out of gas: used {limit} of limit {limit}"
        if self.why:
            self.message += f" ({self.why})"
        self.args = (self.message,)
        return self


class MemoryLimitError(ExecutionError):
    code = "memory_limit"


class StackOverflowError(ExecutionError):
    code = "stack_overflow"


class HostMemoryError(ExecutionError):
    code = "host_memory_out_of_bounds"


class TimeoutError_(ExecutionError):  # noqa: N801 - the builtin name is taken
    code = "timeout"


class StorageLimitError(ExecutionError):
    code = "storage_limit"


class TrapError(ExecutionError):
    code = "trap"


class PanicError(TrapError):
    """A Zig panic or failed safety check (overflow, bounds, unreachable): the SDK's panic
    handler hands the message to the host, then traps. `details["panic"]` is the message;
    `details["frames"]`, when the engine has them, the raw backtrace for symbolization."""

    code = "panic"


class RevertError(ExecutionError):
    code = "reverted"

    def __init__(self, reason: str, *, gas_used: int = 0) -> None:
        super().__init__(f"reverted: {reason}", gas_used=gas_used, reason=reason)
        self.reason = reason


class InvalidOpcodeError(ExecutionError):
    code = "invalid_opcode"


class TruncatedImmediateError(InvalidOpcodeError):
    code = "truncated_immediate"


class StackUnderflowError(ExecutionError):
    code = "stack_underflow"


class InvalidJumpError(ExecutionError):
    code = "invalid_jump"


class StaticCallViolationError(ExecutionError):
    code = "static_call_violation"


class NotFoundError(GhostError):
    exit_code = 7
    code = "not_found"


class HeightUnavailableError(NotFoundError):
    """State at a height the store cannot show: past its latest block, or before its
    state history starts (`history_from`, docs/state.md)."""

    code = "height_unavailable"


class StateError(GhostError):
    exit_code = 8
    code = "state"


class StoreUnavailableError(StateError):
    """The state database is unreachable (connection lost, server restarting): retry."""

    code = "store_unavailable"


class GasCheckError(GhostError):
    exit_code = 9
    code = "gas_check_failed"


class TestsFailedError(GhostError):
    __test__ = False  # not a pytest test class
    exit_code = 10
    code = "tests_failed"


class CryptoError(GhostError):
    exit_code = 11
    code = "crypto"


class KeystoreError(CryptoError):
    code = "keystore"


class KeystorePermissionError(KeystoreError):
    """Refused like ssh refuses a private key others can read; the message names the chmod."""

    code = "insecure_permissions"


class WrongPassphraseError(CryptoError):
    exit_code = 12
    code = "wrong_passphrase"


class TransactionError(GhostError):
    exit_code = 13
    code = "tx_rejected"


class BadSignatureError(TransactionError):
    code = "bad_signature"


class WrongChainError(TransactionError):
    code = "wrong_chain"


class NonceError(TransactionError):
    code = "bad_nonce"


class ExpiredError(TransactionError):
    code = "expired"


class NameTakenError(TransactionError):
    """A deploy's label names another account's contract: a name belongs to the account
    that first deployed under it."""

    code = "name_taken"


class GasLimitTooHighError(TransactionError):
    """A transaction or query asked for more than the per-transaction gas cap."""

    code = "gas_limit_too_high"


class NodeUnavailableError(GhostError):
    """The node could not be reached, or the connection broke before it answered."""

    exit_code = 14
    code = "node_unavailable"


class RequestNotSentError(NodeUnavailableError):
    """Nothing reached the node (connection refused, no handshake, bad certificate, the node
    reset the request unread): sending again cannot apply anything twice."""


class AnswerLostError(NodeUnavailableError):
    """The request left, then the connection broke or the answer did not come in time: the
    node may have applied a transaction (its receipt tells)."""


class NodeBusyError(RequestNotSentError):
    """The node refused a request unrun: its execution queue is full. Safe to retry."""

    code = "busy"


class FormatCheckError(GhostError):
    """`ghost fmt --check`: some Zig sources are not formatted (`details.files` lists them)."""

    exit_code = 15
    code = "format_check_failed"


class CoverageBelowMinimumError(GhostError):
    """`ghost test --coverage-min PCT`: the tests passed, but ran fewer of the contracts'
    lines than PCT percent."""

    exit_code = 16
    code = "coverage_below_minimum"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread by the handler `ghost` installs
    (cli/main.py) so that a command unwinds as on Ctrl-C: a KeyboardInterrupt, so every
    `finally`, context manager and Ctrl-C handler runs (subprocess.run kills its child).
    Not a GhostError: like KeyboardInterrupt it is caught only where Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


class InterruptedError_(GhostError):  # noqa: N801 - the builtin name is taken
    """Ctrl-C: at a passphrase or confirmation prompt, or while a command runs. Exit 130,
    the shell's own code for a command ended by SIGINT; for SIGTERM or SIGHUP (`of`)
    128 + its number, 143 or 129, as the shell reports a command ended by it."""

    exit_code = 130
    code = "interrupted"

    @classmethod
    def of(cls, stop: BaseException | None,
           message: str = "interrupted") -> InterruptedError_:
        """The error for `stop`, a KeyboardInterrupt: Ctrl-C's, or a Terminated's with
        the signal named in the message and `details.signal`, and its exit code."""
        if not isinstance(stop, Terminated):
            return cls(message)
        error = cls(f"{message} ({stop.name})", signal=stop.name)
        error.exit_code = 128 + stop.signum
        return error


#: Exit codes as data, for docs/cli.md and `ghost --help`.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "unexpected error, or output the system refuses (stdout on a full disk)",
    2: "usage: bad options or call arguments",
    3: "configuration: ghost.toml missing or invalid",
    4: ("toolchain: Zig missing, of another version or failing (a build or format it "
        "cannot write), a compile error, or an import the host does not provide"),
    5: "invalid module: corrupt, oversized or unlinkable WebAssembly",
    6: "execution failed: revert, out of gas, trap, limit; state unchanged, but a "
       "transaction's nonce is used and a failed receipt recorded",
    7: "not found: contract, function, network or build artifact",
    8: "state database unusable",
    9: "gas check failed: gas moved beyond the snapshot tolerance",
    10: "tests failed",
    11: "crypto: malformed key or signature, unknown scheme, keystore unreadable",
    12: "wrong passphrase",
    13: ("transaction rejected: signature, chain id, nonce, expiry, gas cap, or (on a node) a "
         "deploy's name taken by another account; state unchanged"),
    14: "node unavailable: connection refused, timed out or lost",
    15: "format check failed: `ghost fmt --check` found Zig sources to reformat",
    16: "coverage below minimum: `ghost test --coverage-min` (tests passed, too few lines ran)",
    129: "interrupted: SIGHUP while the command ran (`interrupted`, a terminal closed)",
    130: "interrupted: Ctrl-C at a prompt or while the command ran (`interrupted`)",
    143: "interrupted: SIGTERM while the command ran (`interrupted`)",
}
