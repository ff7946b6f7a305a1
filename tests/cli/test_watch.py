"""`ghost test --watch`: a real process that reruns the tests after a file changes."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _wait_for(lines: queue.Queue, seen: list[str], text: str, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            return False
        seen.append(line)
        if text in line:
            return True
    return False


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background (`cmd &` in a script) inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler: Ctrl-C would never reach ghost.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_watch_reruns_after_a_test_file_changes(project):
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghost_cli", "test", "--watch", "-p", "no:cacheprovider"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "NO_COLOR": "1"}, preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        assert _wait_for(lines, seen, "watching for changes"), "".join(seen)
        assert any("7 passed" in line for line in seen), "".join(seen)

        (project / "tests" / "test_more.py").write_text(
            "def test_new(deploy):\n    assert deploy('counter').increment() == 1\n")
        assert _wait_for(lines, seen, "changed: tests/test_more.py"), "".join(seen)
        assert _wait_for(lines, seen, "8 passed"), "".join(seen)
        assert _wait_for(lines, seen, "watching for changes"), "".join(seen)

        # A change to the contract rebuilds it: the next run sees the new code.
        src = project / "src" / "counter.zig"
        src.write_text(src.read_text().replace(
            "return ghost.storage.get(u64, count_key);",
            "return ghost.storage.get(u64, count_key) + 100;"))
        assert _wait_for(lines, seen, "changed: src/counter.zig"), "".join(seen)
        assert _wait_for(lines, seen, "failed"), "".join(seen)
        assert any("test_starts_at_zero" in line for line in seen), "".join(seen)
        assert _wait_for(lines, seen, "watching for changes"), "".join(seen)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(seen)


def test_watch_takes_no_json(project, run_ghost):
    result = run_ghost("test", "--watch", "--json", cwd=project)
    assert result.code == 2 and "--watch" in result.json["error"]["message"]


def test_sigterm_and_sighup_end_watching_as_ctrl_c_does(project):
    """What stops a watcher run by another program (SIGTERM) or a closed terminal
    (SIGHUP) ends it as Ctrl-C does: exit 0, no run left behind."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        proc = subprocess.Popen(
            [sys.executable, "-m", "ghost_cli", "test", "--watch", "-p", "no:cacheprovider"],
            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
        seen: list[str] = []
        try:
            assert _wait_for(lines, seen, "watching for changes"), "".join(seen)
            proc.send_signal(sig)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, (sig, "".join(seen))
        _wait_for(lines, seen, "never printed", timeout=10)  # the rest, to the end
        # watchfiles' own "KeyboardInterrupt caught, stopping watch" (for a SIGTERM, too)
        # is not ghost's to print: the documented lines only
        assert not any("KeyboardInterrupt" in line for line in seen), "".join(seen)
