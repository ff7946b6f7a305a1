"""SIGTERM and SIGHUP end a command as Ctrl-C does (cli/main.py): `finally` blocks run, so
a build's `.ghost/build-*` directory is removed and its Zig child stopped, and the command
ends with one line and 128 + the signal's number. A directory left by a build that could
not clean up (SIGKILL) is removed by the next build, never one a live build is using.

Real processes and a real Zig: the contract gets a comptime loop that keeps Zig busy
for minutes, so the signal always lands mid-compile."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: Keeps `zig build-exe` evaluating for minutes (the loop runs at compile time).
SLOW = """
comptime {
    @setEvalBranchQuota(4_000_000_000);
    var i: u64 = 0;
    while (i < 3_000_000_000) : (i += 1) {}
}
"""


def _slow(project: Path) -> Path:
    src = project / "src" / "counter.zig"
    src.write_text(src.read_text() + SLOW)
    return project


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _build_dirs(project: Path) -> list[Path]:
    return sorted((project / ".ghost").glob("build-????????"))


def _start_build(project: Path, *args: str, preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ghost_cli", "build", "--force", *args], cwd=project,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"}, preexec_fn=preexec_fn)


def _compiling(proc: subprocess.Popen, timeout: float = 120) -> int:
    """Wait until `proc` runs Zig (`zig build-exe`, writing into its build directory);
    the Zig pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for child in _children(proc.pid):
            try:
                if b"build-exe" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return child
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError("the build never started Zig")


def _finish(proc: subprocess.Popen, *pids: int) -> None:
    """Whatever the test's outcome, nothing it started runs on (nor holds the pipes)."""
    # the build first, as SIGKILL would find it: its Zig must not end (and be seen to
    # end) before it; then that Zig, whose parent is gone
    for pid in (proc.pid, *_children(proc.pid), *pids):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    proc.communicate()


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_signal_mid_build_removes_the_build_dir_and_stops_zig(project, sig, code, as_json):
    _slow(project)
    proc = _start_build(project, *(["--json"] if as_json else []))
    zig = None
    try:
        zig = _compiling(proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        _finish(proc, *([zig] if zig else []))
    name = signal.Signals(sig).name
    assert proc.returncode == code, err
    assert err == f"error: interrupted ({name})\n"
    if as_json:
        assert json.loads(out) == {"ok": False, "error": {
            "code": "interrupted", "message": f"interrupted ({name})",
            "details": {"signal": name}}}
    else:
        assert out == ""
    assert _build_dirs(project) == []
    assert not _alive(zig)  # killed and waited for, not left running


def test_an_ignored_hangup_stays_ignored(project):
    """`nohup ghost build`: SIGHUP ignored by the caller is not turned into an exit."""
    _slow(project)
    proc = _start_build(project,
                        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    zig = None
    try:
        zig = _compiling(proc)
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert proc.poll() is None and _alive(zig)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        _finish(proc, *([zig] if zig else []))
    assert proc.returncode == 143
    assert _build_dirs(project) == []


def test_the_next_build_removes_a_killed_builds_dir_but_not_a_live_ones(project):
    """SIGKILL leaves the build directory (nothing runs): the next build removes it, as
    its lock is no longer held. A concurrent build's directory, whose lock is held, and a
    directory without a lock file (one being made) stay."""
    src = project / "src"
    (src / "quick.zig").write_text((src / "counter.zig").read_text())
    with open(project / "ghost.toml", "a") as f:
        f.write('\n[contracts.quick]\nsource = "src/quick.zig"\n')
    _slow(project)
    killed = _start_build(project, "counter")
    try:
        _compiling(killed)
        (stale,) = _build_dirs(project)
        assert (stale / ".lock").exists()  # held by the build while it runs
    finally:
        _finish(killed)  # SIGKILL (the Zig it orphans killed too, as nobody else would)
    assert _build_dirs(project) == [stale]

    live = _start_build(project, "counter")
    live_zig = None
    try:
        live_zig = _compiling(live)
        (mine,) = _build_dirs(project)  # the stale one went before this one was made
        assert mine != stale and (mine / ".lock").exists()
        making = project / ".ghost" / "build-a1b2c3d4"  # no lock file (yet)
        making.mkdir()

        other = subprocess.run(
            [sys.executable, "-m", "ghost_cli", "build", "quick", "--force"], cwd=project,
            capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
        assert other.returncode == 0, other.stderr
        assert live.poll() is None  # still compiling: its directory is in use
        assert set(_build_dirs(project)) == {mine, making}
        assert (project / ".ghost" / "build-stamps").is_dir()
    finally:
        _finish(live, *([live_zig] if live_zig else []))
