"""Fuzzing contract functions with arguments drawn from their ABI types (the `fuzz`
fixture, docs/testing.md "Fuzzing").

Every example runs inside the sandbox's snapshot (`GhostEnv.isolated`), so each starts
from the state the test had built when it called `fuzz`. Hypothesis generates and
shrinks the examples, from a fixed seed: the same examples in every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..abi.types import is_int
from ..config.defaults import DEFAULT_TARGET
from .strategies import Dictionary, cli_value

DEFAULT_RUNS = 256
DEFAULT_SEED = 0


@dataclass(frozen=True)
class FuzzSettings:
    """`--fuzz-runs`, `--ghost-seed` (`ghost test --seed`), `--invariant-runs`,
    `--fuzz-depth` (or a test's `@pytest.mark.fuzz(...)`)."""

    runs: int = DEFAULT_RUNS
    seed: int = DEFAULT_SEED
    invariant_runs: int = 32
    depth: int = 50

    def hypothesis(self, examples: int, **more: Any):
        from hypothesis import HealthCheck, Verbosity, settings

        # report_multiple_bugs off: two distinct failures would come as one ExceptionGroup
        # ("Hypothesis found 2 distinct failures") whose replay lines name neither; this
        # way the failure with the smallest example is raised, and it ran last.
        return settings(max_examples=examples, database=None, deadline=None,
                        derandomize=False, print_blob=False, verbosity=Verbosity.quiet,
                        report_multiple_bugs=False,
                        suppress_health_check=list(HealthCheck), **more)


@dataclass(frozen=True)
class Step:
    """One call of a fuzz run, as `ghost call` replays it."""

    contract: str
    function: str
    types: tuple[str, ...]
    args: tuple
    sender: bytes | None = None  # None: the default sender
    result: Any = None  # the decoded result, once the call returned
    reverted: str | None = None  # the revert reason, when the call reverted
    abi: Any = field(default=None, repr=False, compare=False)  # names structs and enums

    def replay(self, env, *notes: str, gas_limit: int | None = None) -> str:
        args = [cli_value(t, a, self.abi) for t, a in zip(self.types, self.args, strict=True)]
        # a negative number would read as an option: `--` ends them, so options go first
        sep = ["--"] if any(a.startswith("-") for a in args) else []
        return " ".join(["ghost call", self.contract, self.function, *_gas(gas_limit), *sep,
                         *args]) + _comment(env, self.sender, *notes)


def _comment(env, sender, *notes: str) -> str:
    """A replay line's comment: the sender when it is not the sandbox's default one (the
    line sends from that), then `notes`."""
    if sender is not None and bytes(_address(sender)) != env.sandbox.default_sender:
        notes = (f"as {env.show(sender)}", *notes)
    return "   # " + "; ".join(notes) if notes else ""


def _gas(limit: int | None) -> list[str]:
    """The test's own gas limit: the default one may be too small, or, for a call kept
    because it ran out of gas, too large."""
    return [] if limit is None else ["--gas-limit", str(limit)]


def _address(who) -> bytes:
    return who.address if hasattr(who, "address") else who


def dictionary_of(env) -> Dictionary:
    """The literals of the project's sources (read once per session) and the addresses
    known now: development accounts, deployed contracts, labelled addresses."""
    if env.literals is None:
        env.literals = Dictionary.from_sources(env.sources)
    return Dictionary(env.literals.ints, env.literals.strings, list(env.labels))


def _refusals() -> tuple[type, ...]:
    from ..exceptions import OutOfGasError, RevertError

    return (RevertError, OutOfGasError)


#: Failed calls that are the contract refusing an input, not a bug in it: a revert, or
#: running out of gas (an input too costly for the gas limit). Nothing of them is kept.
REFUSALS = _refusals()


def refusal_reason(exc: BaseException) -> str:
    """A revert's reason, or "out of gas"."""
    return getattr(exc, "reason", None) or "out of gas"


class FuzzFailure(AssertionError):
    """A fuzz or invariant run found a failing input; the message holds its replay, and
    `error` the exception the shrunk input raised."""

    error: BaseException | None = None


def fail(message: str, error: BaseException) -> FuzzFailure:
    """The FuzzFailure to raise `from None`: hypothesis' and ghost's own frames say nothing
    the replay lines do not."""
    failure = FuzzFailure(message)
    failure.error = error
    return failure


#: The comment of a failed transaction kept in the replay lines.
FAILS_TOO = "fails as in the test: a later deploy's address counts its nonce"


def setup_lines(env) -> list[str]:
    """`ghost deploy` / `ghost call` lines recreating what the test did before fuzzing
    (deploys with their constructor arguments, calls that did not fail), leaving out what
    an `isolated()` block rolled back. A failed transaction still used its sender's nonce,
    from which a deploy's address comes: it is kept, failing again, when a later deploy
    from that sender needs it to land at the test's address."""
    done = [o for o in env.outcomes if o.kind != "query" and not o.rolled_back]
    lines = []
    for i, o in enumerate(done):
        notes = ()
        if o.failed:
            if not (o.used_nonce and _deploys_later(done[i + 1:], o.sender)):
                continue
            notes = (FAILS_TOO,)
        if o.kind == "deploy":
            ctor = _constructor_types(env, o.contract)
            args = "".join(f" --args {cli_value(t, a, env.abis.get(o.contract))}"
                           for t, a in zip(ctor, o.args, strict=False))
            lines.append(" ".join([f"ghost deploy {o.contract}{args}{_target(env, o.contract)}",
                                   *_gas(o.gas_limit)]) + _comment(env, o.sender, *notes))
        elif o.kind == "cheat":
            lines.append(_cheat_line(env, o))
        elif o.kind == "call":
            types = _function_types(env, o.contract, o.function)
            if types is not None:
                lines.append(Step(o.contract, o.function, types, o.args, o.sender,
                                  abi=env.abis.get(o.contract)).replay(
                                      env, *notes, gas_limit=o.gas_limit))
    return lines


def _deploys_later(outcomes: list, sender: bytes | None) -> bool:
    return any(o.kind == "deploy" and not o.failed and o.sender == sender for o in outcomes)


def _cheat_line(env, o) -> str:
    """A comment where the test used a cheatcode: no `ghost` command warps the clock,
    rolls the height or writes raw storage, so the lines alone may not fail the same way."""
    shown = ", ".join(env.labels.get(a, "0x" + a.hex()) if isinstance(a, bytes) and len(a) == 20
                      else repr(a) for a in o.args)
    return f"# ghost_env.{o.function}({shown}): a cheatcode; replay this case in a test"


def _target(env, name: str) -> str:
    """` --target T` when the test ran the contract on another engine than `ghost deploy`
    picks for it (its ghost.toml target), so the replay fails on the same engine."""
    if env.target is None or env.target == env.deploy_targets.get(name, DEFAULT_TARGET):
        return ""
    return f" --target {env.target}"


def _constructor_types(env, name: str) -> tuple[str, ...]:
    abi = env.abis.get(name)
    ctor = abi.constructor if abi is not None else None
    return tuple(p.type for p in ctor.inputs) if ctor is not None else ()


def _function_types(env, contract: str, function: str) -> tuple[str, ...] | None:
    abi = env.abis.get(contract)
    if abi is None:
        return None
    try:
        return tuple(p.type for p in abi.function(function).inputs)
    except Exception:  # noqa: BLE001 - a function the ABI no longer names: skip it
        return None


def failure_message(env, what: str, setup: list[str], steps: Sequence[Step],
                    error: BaseException) -> str:
    reason = str(error) or type(error).__name__
    lines = [f"{what}: {reason}"]
    where = raised_at(error)
    if where:
        lines.append(f"  raised at {where}")
    lines.append("replay (fresh sandbox):")
    lines += [f"  {line}" for line in setup]
    lines += [f"  {s.replay(env)}" for s in steps]
    return "\n".join(lines)


def raised_at(error: BaseException) -> str | None:
    """`file:line (in function)` of the innermost frame of the test's own code (a property,
    a Python check) in `error`'s traceback, which pytest no longer shows: the failure is
    raised from the `fuzz`/`invariants` call. None when no such frame is there."""
    import os
    import sysconfig
    import traceback
    from pathlib import Path

    skip = [Path(__file__).resolve().parents[1]] + [
        Path(sysconfig.get_paths()[k]).resolve() for k in ("stdlib", "purelib", "platlib")]
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename).resolve()
        if not any(path.is_relative_to(d) for d in skip):
            found = frame
    if found is None:
        return None
    name = found.filename
    try:
        name = os.path.relpath(name)
    except ValueError:  # another drive
        pass
    return f"{name}:{found.lineno} (in {found.name})"


class Fuzz:
    """The `fuzz` fixture: `fuzz(contract.fn)` calls `fn` with generated arguments;
    `@fuzz.given(contract.fn)` runs a property over them."""

    def __init__(self, env, settings: FuzzSettings) -> None:
        self.env = env
        self.settings = settings

    @property
    def dictionary(self) -> Dictionary:
        return dictionary_of(self.env)

    def __call__(self, function, *, reverts: bool | Sequence[str] = True,
                 runs: int | None = None) -> None:
        """Call `function` (a deployed contract's function) with arguments drawn from its
        ABI types, `runs` times (default --fuzz-runs), each from the state at this point.
        A panic or trap fails. A refusal (a revert, or running out of gas: the input costs
        more than the gas limit) fails only when `reverts` is False, or is a list of
        allowed reasons that does not hold it (out of gas is the reason "out of gas")."""
        __tracebackhide__ = True
        if isinstance(reverts, str):  # one reason; `in` a str would match a substring
            reverts = (reverts,)

        def call(*args: Any) -> None:
            try:
                function(*args)
            except REFUSALS as exc:
                if reverts is True or (not isinstance(reverts, bool)
                                       and refusal_reason(exc) in reverts):
                    return
                raise

        self._run([function], call, runs)

    def given(self, *functions, runs: int | None = None) -> Callable[[Callable], Callable]:
        """Decorator: run the decorated property now, `runs` times, with the arguments of
        `functions` (contract functions; their inputs concatenated) as parameters.
        The property calls what it likes; an exception (an assert, a revert) fails."""

        from ..exceptions import UsageError

        if not functions:
            raise UsageError("fuzz.given(...) takes the contract functions whose arguments "
                             "the property gets (fuzz.given(c.add))")

        def decorate(prop: Callable) -> Callable:
            __tracebackhide__ = True
            import inspect

            inputs = [p for f in functions for p in _abi_function(f).inputs]
            try:
                inspect.signature(prop).bind(*inputs)
            except TypeError:  # else every input "fails", with a replay of the first
                given = ", ".join(f"{p.name}: {p.type}" for p in inputs) or "none"
                raise UsageError(f"the property {prop.__name__}{inspect.signature(prop)} does "
                                 f"not take the {len(inputs)} argument(s) of the functions "
                                 f"given ({given})") from None
            except ValueError:  # no signature to read (a builtin): let it run
                pass
            self._run(list(functions), prop, runs)
            return prop

        return decorate

    def _run(self, functions: list, body: Callable, runs: int | None) -> None:
        from hypothesis import given, seed
        from hypothesis import strategies as st

        from .strategies import strategy_for

        __tracebackhide__ = True
        env = self.env
        dictionary = self.dictionary
        strategy = st.tuples(*(strategy_for(p.type, dictionary, f.contract._abi)
                               for f in functions for p in _abi_function(f).inputs))
        last: list[tuple] = []
        setup = setup_lines(env)
        sender = env.impersonating or env.sender  # of the fuzz calls, for their replay

        @seed(self.settings.seed)
        @self.settings.hypothesis(count("runs", runs) or self.settings.runs)
        @given(strategy)
        def example(args: tuple) -> None:
            last[:] = [args]
            with env.isolated(), fuzzing(env):
                body(*args)

        from hypothesis.errors import Unsatisfiable

        try:
            example()
        except Unsatisfiable as exc:  # no input was tried: there is none to replay
            raise fail("fuzzing tried no input: every one drawn was rejected by assume() or "
                       "a filter; loosen them, or draw the values another way", exc) from None
        except Exception as exc:  # the shrunk example ran last
            steps = _steps(functions, last[0] if last else (), sender)
            raise fail(failure_message(env, "fuzzing found a failing input", setup, steps,
                                       exc), exc) from None


def count(name: str, value: Any) -> int | None:
    """A `runs=`/`depth=` given to fuzz or invariants: None (the option's value) or a whole
    number >= 1; 0 would otherwise read as "not given" and run the default."""
    if value is not None and (not is_int(value) or value < 1):
        from ..exceptions import UsageError

        raise UsageError(f"{name} must be a whole number >= 1, not {value!r}")
    return value


def _abi_function(function):
    """The ABI entry of a ContractFunction."""
    try:
        return function.contract._abi.function(function.name)
    except AttributeError:
        from ..exceptions import UsageError

        raise UsageError(f"fuzz takes a deployed contract's function (c.add), not "
                         f"{function!r}") from None


def _steps(functions: list, args: tuple, sender: bytes) -> list[Step]:
    steps, pos = [], 0
    for f in functions:
        spec = _abi_function(f)
        n = len(spec.inputs)
        steps.append(Step(f.contract._name, f.name, tuple(p.type for p in spec.inputs),
                          tuple(args[pos:pos + n]), sender, abi=f.contract._abi))
        pos += n
    return steps


@contextmanager
def fuzzing(env) -> Iterator[None]:
    """Mark the calls made inside as fuzz calls: out of gas snapshots unless --fuzz-gas,
    and out of the `--target both` comparison's record (each target draws its own)."""
    previous, env.fuzzing = env.fuzzing, True
    kept = len(env.outcomes)
    try:
        yield
    finally:
        env.fuzzing = previous
        del env.outcomes[kept:]
