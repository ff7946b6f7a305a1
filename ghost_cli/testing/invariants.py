"""Invariant testing (the `invariants` fixture, docs/testing.md "Invariants"): random
sequences of calls to contracts' functions, from several senders, with the invariants
checked after every call. Hypothesis' stateful testing (a RuleBasedStateMachine with one
rule per contract function) drives the sequences and shrinks a failing one to the shortest.
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
        from hypothesis import seed
        from hypothesis import strategies as st
        from hypothesis.stateful import (
            RuleBasedStateMachine,
            get_state_machine_test,
            invariant,
            rule,
        )

        from .env import ContractFunction
        from .strategies import strategy_for

        env = self.env
        contracts = list(targets) if isinstance(targets, (list, tuple)) else [targets]
        senders = list(senders or env.accounts[:3])
        if not checks:
            from ..exceptions import UsageError

            raise UsageError("invariants(...) needs at least one check after the targets")
        log = self.calls
        log.clear()
        setup = setup_lines(env)
        dictionary = self.dictionary

        class ContractSequences(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                log.clear()
                self._scope = ExitStack()
                self._scope.enter_context(env.isolated())
                self._scope.enter_context(fuzzing(env))

            def teardown(self) -> None:
                self._scope.close()

            @invariant()
            def hold(self) -> None:
                for check in checks:
                    _check(check)

        callable_ = [(contract, fn) for contract in contracts for fn in contract._abi.functions
                     if fn.name not in exclude and f"{contract._name}.{fn.name}" not in exclude]
        if not callable_:
            from ..exceptions import UsageError

            raise UsageError("invariants(...): no function left to call in the targets")
        # One rule drawing (function, arguments) with every function equally likely: one
        # rule per function would let hypothesis switch rules off for whole sequences
        # ("swarm testing"), which hides bugs needing several functions in turn.
        calls = st.one_of(*(
            st.tuples(st.just(i), st.tuples(*(strategy_for(p.type, dictionary, c._abi)
                                              for p in fn.inputs)))
            for i, (c, fn) in enumerate(callable_)))
        handles = [(ContractFunction(c, fn.name), tuple(p.type for p in fn.inputs))
                   for c, fn in callable_]

        @rule(call=calls, sender=st.sampled_from(senders))
        def step(self, call: tuple, sender: bytes) -> None:
            (handle, types), args = handles[call[0]], call[1]
            done = Step(handle.contract._name, handle.name, types, args, sender,
                        abi=handle.contract._abi)
            log.append(done)  # before the call: a panic's replay ends with it
            error = None
            with env.as_caller(sender):
                try:
                    done = replace(done, result=handle(*args))
                except REFUSALS as exc:  # a refused call is part of the sequence
                    done = replace(done, reverted=refusal_reason(exc))
                except Exception as exc:  # noqa: BLE001 - raised below, without context
                    error = exc
            log[-1] = done
            if error is not None:
                # Raised outside the except block, from one place, with no __context__:
                # hypothesis tells failures apart by where they (and their contexts)
                # were raised, and would not take a shorter sequence whose panic came
                # through another path in the engine for the same failure.
                raise CallFailed(error)

        ContractSequences.step = step
        settings = self.settings.hypothesis(runs or self.settings.invariant_runs,
                                            stateful_step_count=depth or self.settings.depth)
        run = seed(self.settings.seed)(get_state_machine_test(ContractSequences,
                                                               settings=settings))
        try:
            run()
        except Exception as exc:  # the shortest failing sequence ran last
            what = (f"invariant broken after {len(log)} call(s)"
                    if isinstance(exc, AssertionError) else
                    f"call {len(log)} of the sequence failed")
            exc = exc.error if isinstance(exc, CallFailed) else exc
            raise fail(failure_message(env, what, setup, list(log), exc), exc) from None


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
