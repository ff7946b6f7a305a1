"""`ghost test --watch`: run the tests, then again whenever a source changes.

Changes come from the `watchfiles` library (imported only here, when watching). Only the
files a run depends on count: Zig sources, Python tests and ghost.toml, outside the
build output and ghost's state directory, so what a run writes (artifacts, the sandbox,
a gas snapshot) never starts another run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

#: File suffixes whose change starts a new run.
WATCHED_SUFFIXES = (".zig", ".py", ".toml")


def relevant(root: Path, ignored: list[Path]) -> Callable[[object, str], bool]:
    """A watchfiles filter: a watched suffix, outside `ignored` directories and caches."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()
    ignored = [p.resolve() for p in ignored]

    def keep(change: object, path: str) -> bool:
        p = Path(path)
        if p.suffix not in WATCHED_SUFFIXES or not default(change, path):
            return False
        return not any(p.is_relative_to(d) for d in ignored)

    return keep


def watch_and_rerun(root: Path, run: Callable[[], int], *, ignored: list[Path],
                    say: Callable[[str], None]) -> int:
    """Call `run` now and after every batch of relevant changes under `root`, until
    interrupted (Ctrl-C); return the last run's status."""
    import logging

    from watchfiles import watch

    # raise_interrupt=False makes watchfiles log "KeyboardInterrupt caught, stopping
    # watch", which Python's last-resort handler prints to stderr even for a SIGTERM
    logging.getLogger("watchfiles.main").setLevel(logging.ERROR)
    status = run()
    waiting = False
    # yield_on_timeout: an empty batch says the watcher is running, so "watching" is
    # printed only once a change made from then on is sure to be seen.
    for changes in watch(root, watch_filter=relevant(root, ignored), raise_interrupt=False,
                         yield_on_timeout=True, rust_timeout=500):
        if not changes:
            if not waiting:
                say("watching for changes (Ctrl-C to stop)")
                waiting = True
            continue
        names = sorted({_rel(Path(p), root) for _, p in changes})
        say(f"changed: {', '.join(names)}; running the tests again")
        status = run()
        waiting = False
    return status


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
