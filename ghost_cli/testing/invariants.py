"""Invariant testing (the `invariants` fixture, docs/testing.md "Invariants"): random
sequences of calls to contracts' functions, from several senders, with the invariants
checked after every call. Hypothesis' stateful testing (a RuleBasedStateMachine with one
rule drawing a function and its arguments) generates the sequences; a failing one is then
shrunk here, by replaying it without calls, with simpler arguments and from the first
sender while it still fails the same way. Hypothesis' own shrinker is not used for
sequences: it left most of the calls of a long sequence in place (turned into the
simplest call rather than deleted) and took minutes doing so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from .fuzz import (
    REFUSALS,
    FuzzSettings,
    Step,
    count,
    dictionary_of,
    fail,
    failure_message,
    fuzzing,
    refusal_reason,
    setup_lines,
)
from .strategies import Dictionary


class CallFailed(Exception):
    """A call of a sequence panicked or trapped: `error` is what it raised."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class InvariantBroken(AssertionError):
    """An invariant returned False or a view function used as one reverted."""


class Invariants:
    """The `invariants` fixture: `invariants(token, check_supply, token.solvent)`."""

    def __init__(self, env, settings: FuzzSettings) -> None:
        self.env = env
        self.settings = settings
        #: The calls of the running sequence so far (Step: contract, function, args,
        #: sender, result, reverted), for invariants that follow what was done.
        self.calls: list[Step] = []

    @property
    def dictionary(self) -> Dictionary:
        return dictionary_of(self.env)

    def __call__(self, targets: Any, *checks: Callable | Any,
                 exclude: Sequence[str] = (), senders: Sequence[bytes] | None = None,
                 runs: int | None = None, depth: int | None = None) -> None:
        """Run sequences of calls to `targets` (a contract or a list of them; every ABI
        function except those named in `exclude`, as "fn" or "contract.fn") and check every
        one of `checks` before the first call and after each: a Python callable that
        asserts or returns False, or a view function of a contract that must return true
        (or anything but False) and not revert. Calls come from `senders` (default: the
        first three development accounts); a call that reverts or runs out of gas is part
        of the sequence, a panic or trap fails it. `runs` sequences (--invariant-runs) of
        up to `depth` calls (--fuzz-depth)."""
        __tracebackhide__ = True
        from hypothesis import Phase, seed
        from hypothesis import strategies as st
        from hypothesis.stateful import (
            RuleBasedStateMachine,
            get_state_machine_test,
            invariant,
            rule,
        )

        from .env import Contract, ContractFunction
        from .strategies import strategy_for

        env = self.env
        contracts = list(targets) if isinstance(targets, (list, tuple)) else [targets]
        for target in contracts:
            if not isinstance(target, Contract):
                from ..exceptions import UsageError

                raise UsageError(f"invariants(...) targets deployed contracts (what deploy() "
                                 f"returns), not {target!r}")
        senders = list(senders or env.accounts[:3])
        if not checks:
            from ..exceptions import UsageError

            raise UsageError("invariants(...) needs at least one check after the targets")
        for check in checks:
            if not callable(check):  # else "invariant broken after 0 call(s)"
                from ..exceptions import UsageError

                raise UsageError(f"an invariant check is a function or a contract's view "
                                 f"function (vault.solvent), not {check!r}")
        for sender in senders:  # a sender with no key: now, not as a broken invariant
            with env.as_caller(sender):
                pass
        log = self.calls
        log.clear()
        setup = setup_lines(env)
        dictionary = self.dictionary
        exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
        known = {n for c in contracts for fn in c._abi.functions
                 for n in (fn.name, f"{c._name}.{fn.name}")}
        unknown = [name for name in exclude if name not in known]
        if unknown:  # a misspelt name would leave its function in the sequences
            from ..exceptions import UsageError

            raise UsageError(f"invariants(..., exclude=...): no function {unknown[0]!r} in "
                             f"the targets (they have: {', '.join(sorted(known))})")
        callable_ = [(contract, fn) for contract in contracts for fn in contract._abi.functions
                     if fn.name not in exclude and f"{contract._name}.{fn.name}" not in exclude]
        if not callable_:
            from ..exceptions import UsageError

            raise UsageError("invariants(...): no function left to call in the targets")
        runner = _Runner(log, checks, [
            (ContractFunction(c, fn.name), tuple(p.type for p in fn.inputs))
            for c, fn in callable_])

        class ContractSequences(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                log.clear()
                runner.drawn.clear()
                self._scope = ExitStack()
                self._scope.enter_context(env.isolated())
                self._scope.enter_context(fuzzing(env))

            def teardown(self) -> None:
                self._scope.close()

            @invariant()
            def hold(self) -> None:
                runner.check_all()

        # One rule drawing (function, arguments) with every function equally likely: one
        # rule per function would let hypothesis switch rules off for whole sequences
        # ("swarm testing"), which hides bugs needing several functions in turn.
        calls = st.one_of(*(
            st.tuples(st.just(i), st.tuples(*(strategy_for(p.type, dictionary, c._abi)
                                              for p in fn.inputs)))
            for i, (c, fn) in enumerate(callable_)))

        @rule(call=calls, sender=st.sampled_from(senders))
        def step(self, call: tuple, sender: bytes) -> None:
            runner.call(call[0], call[1], sender)

        ContractSequences.step = step
        settings = self.settings.hypothesis(
            count("runs", runs) or self.settings.invariant_runs,
            stateful_step_count=count("depth", depth) or self.settings.depth,
            phases=[Phase.explicit, Phase.reuse, Phase.generate])
        run = seed(self.settings.seed)(get_state_machine_test(ContractSequences,
                                                               settings=settings))
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - the failing sequence ran last
            exc = _shrink(env, runner, list(runner.drawn), exc, senders[0])
            # a call failed, or else a check did, whatever it raised
            what = (f"call {len(log)} of the sequence failed" if isinstance(exc, CallFailed)
                    else f"invariant broken after {len(log)} call(s)")
            exc = exc.error if isinstance(exc, CallFailed) else exc
            raise fail(failure_message(env, what, setup, list(log), exc), exc) from None


#: One call of a sequence as drawn: (index of the function, arguments, sender).
Drawn = tuple[int, tuple, bytes]


class _Runner:
    """Sends a sequence's calls and runs its checks, for hypothesis and for the replays
    that shrink a failing sequence: `log` holds the Steps done, `drawn` the calls."""

    def __init__(self, log: list[Step], checks: Sequence[Any], handles: list) -> None:
        self.log, self.checks, self.handles = log, checks, handles
        self.drawn: list[Drawn] = []
        self.failed_check: int | None = None  # the check that raised, when one did

    def call(self, index: int, args: tuple, sender: bytes) -> None:
        handle, types = self.handles[index]
        self.drawn.append((index, args, sender))
        done = Step(handle.contract._name, handle.name, types, args, sender,
                    abi=handle.contract._abi)
        self.log.append(done)  # before the call: a panic's replay ends with it
        error = None
        with handle.contract._env.as_caller(sender):
            try:
                done = replace(done, result=handle(*args))
            except REFUSALS as exc:  # a refused call is part of the sequence
                done = replace(done, reverted=refusal_reason(exc))
            except Exception as exc:  # noqa: BLE001 - raised below, without context
                error = exc
        self.log[-1] = done
        if error is not None:
            # Raised outside the except block, from one place, with no __context__:
            # hypothesis tells failures apart by where they (and their contexts) were
            # raised, and would take a panic that came through another path in the engine
            # for another failure.
            raise CallFailed(error)

    def check_all(self) -> None:
        for i, check in enumerate(self.checks):
            self.failed_check = i
            _check(check)
        self.failed_check = None

    def replay(self, env, calls: list[Drawn]) -> BaseException | None:
        """Run `calls` from the state the test built (rolled back after), checking as the
        sequences do; the failure, or None. `log` and `drawn` then hold what ran."""
        self.log.clear()
        self.drawn.clear()
        with env.isolated(), fuzzing(env):
            try:
                self.check_all()
                for index, args, sender in calls:
                    self.call(index, args, sender)
                    self.check_all()
            except Exception as exc:  # noqa: BLE001 - any failure is what we look for
                return exc
        return None

    def signature(self, exc: BaseException) -> tuple:
        """What makes two failures the same: the same call error (its type and first
        line: message and Zig location), or the same check failing the same way."""
        if isinstance(exc, CallFailed):
            return ("call", type(exc.error), str(exc.error).split("\n", 1)[0])
        return ("check", self.failed_check, type(exc))


def _shrink(env, runner: _Runner, calls: list[Drawn], failure: BaseException,
            first_sender: bytes) -> BaseException:
    """Make the failing sequence `calls` as small as it goes while it still fails the same
    way: drop runs of calls (halving their length down to single calls, until none can go),
    then try every call from the first sender, then call by call each argument at its
    type's simplest value and the sender as the first one. Leaves the last replay's Steps
    in `runner.log` and returns its failure (the original one, with the sequence as
    found, when a replay does not fail the same way: a flaky check)."""
    from .strategies import simplest

    kept = list(calls)
    wanted = runner.signature(failure)
    last = runner.replay(env, kept)
    if last is None or runner.signature(last) != wanted:  # not reproducible: as found
        runner.replay(env, calls)
        return failure

    def still_fails(candidate: list[Drawn]) -> bool:
        nonlocal kept, last
        got = runner.replay(env, candidate)
        if got is None or runner.signature(got) != wanted:
            return False
        kept, last = list(runner.drawn), got  # the calls up to the failure
        return True

    size = max(1, len(kept) // 2)
    while True:  # drop runs of `size` calls, from the end; halve; single calls till none go
        removed, i = False, len(kept) - size
        while i >= 0:
            removed |= still_fails(kept[:i] + kept[i + size:])
            i = min(i - size, len(kept) - size)
        if size == 1 and not removed:
            break
        size = max(1, size // 2)
    still_fails([(index, args, first_sender) for index, args, _ in kept])  # one sender
    n = 0
    while n < len(kept):  # simpler arguments, then the first sender, call by call
        index, args, sender = kept[n]
        handle, types = runner.handles[index]
        for a, ty in enumerate(types):
            simple = simplest(ty, handle.contract._abi)
            changed = args[:a] + (simple,) + args[a + 1:]
            if args[a] != simple and still_fails(kept[:n] + [(index, changed, sender)]
                                                 + kept[n + 1:]):
                args = changed
        if sender != first_sender:
            still_fails(kept[:n] + [(index, args, first_sender)] + kept[n + 1:])
        n += 1
    # the Steps (results, reverts) of the sequence printed, and its failure
    return runner.replay(env, kept) or last


def _check(check: Callable | Any) -> None:
    from ..exceptions import RevertError

    name = getattr(check, "__name__", None) or getattr(check, "name", repr(check))
    if hasattr(check, "query") and hasattr(check, "contract"):  # a view function
        name = f"{check.contract._name}.{check.name}"
        try:
            result = check.query()
        except RevertError as exc:
            raise InvariantBroken(f"{name}() reverted: {exc.reason}") from None
    else:
        result = check()
    if result is False:
        raise InvariantBroken(f"{name} returned False")
