"""A command line ghost cannot parse is an error like any other (cli.md): one line on
stderr, exit 2 (`usage`), and with --json (or GHOST_JSON) one JSON document on stdout."""

import json
import os

import pytest


@pytest.mark.parametrize(("args", "message"), [
    (("call", "counter", "increment", "--bogus"), "No such option: --bogus"),
    (("call",), "Missing argument 'contract'"),
    (("events", "counter", "--limit", "0"), "Invalid value for '--limit'"),
    (("keys", "show"), "Missing argument 'name'"),
    (("nosuchcommand",), "No such command 'nosuchcommand'"),
])
def test_a_bad_command_line_is_one_line_and_json_with_json(tmp_path, run_ghost, args, message):
    env = {k: v for k, v in os.environ.items() if k != "GHOST_JSON"}
    plain = run_ghost(*args, cwd=tmp_path, env=env)
    assert plain.code == 2 and plain.stdout == ""
    assert plain.stderr.startswith("error: ") and plain.stderr.count("\n") == 1, plain.stderr
    assert message in plain.stderr and "--help`)" in plain.stderr
    for extra, variables in (((("--json",) if args[0] != "nosuchcommand" else ()),
                              {"GHOST_JSON": "1"}), (("--json",), {})):
        r = run_ghost(*args, *extra, cwd=tmp_path, env={**env, **variables})
        assert r.code == 2, r.stderr
        doc = json.loads(r.stdout)
        assert doc["ok"] is False and doc["error"]["code"] == "usage"
        assert message in doc["error"]["message"]


def test_help_and_version_are_unchanged(tmp_path, run_ghost):
    assert run_ghost("--version", cwd=tmp_path).stdout.startswith("ghost ")
    helped = run_ghost("call", "--help", cwd=tmp_path)
    assert helped.code == 0 and helped.stdout.startswith("Usage: ghost call")
    bare = run_ghost(cwd=tmp_path)  # no command: the help, as click gives it
    assert bare.code == 2 and "Usage: ghost [OPTIONS] COMMAND" in bare.stdout + bare.stderr


def test_an_unknown_transport_is_refused_on_the_sandbox_too(project, run_ghost):
    """The sandbox has no transport, but a typo in --transport or GHOST_TRANSPORT is a
    usage error there as on a node network, before anything runs."""
    from ghost_cli.client.transport import TRANSPORTS
    from ghost_cli.config.defaults import TRANSPORT_NAMES

    assert tuple(TRANSPORTS) == TRANSPORT_NAMES
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHOST_")}
    for args, variables in ((("deploy", "--transport", "ftp"), {}),
                            (("call", "counter", "increment", "--transport", "ftp"), {}),
                            (("query", "counter", "get"), {"GHOST_TRANSPORT": "ftp"})):
        r = run_ghost(*args, cwd=project, env={**env, **variables})
        assert r.code == 2, (args, r.stderr)
        assert r.stderr == "error: unknown transport 'ftp': use quic or http\n", r.stderr
    assert not (project / ".ghost").exists() or run_ghost(
        "query", "counter", "get", cwd=project, env=env).code == 7  # nothing deployed
    ok = run_ghost("deploy", "--transport", "http", cwd=project, env=env)
    assert ok.code == 0, ok.stderr  # a real transport name: ignored by the sandbox


def test_network_add_refuses_a_url_no_call_could_use(project, run_ghost):
    """A port past 65535 or a broken IPv6 host is refused when the network is added (exit
    2, ghost.toml unchanged), not at every later command that reaches it."""
    import certifi

    before = (project / "ghost.toml").read_text()
    for urls, bad in ((("--url", "quic://127.0.0.1:99999"), "quic://127.0.0.1:99999"),
                      (("--url", "quic://127.0.0.1:9", "--http-url", "http://[::1"),
                       "http://[::1")):
        r = run_ghost("network", "add", "away", *urls, "--ca", certifi.where(),
                      "--chain-id", "7", cwd=project)
        assert r.code == 2, r.stderr
        assert r.stderr.startswith(f"error: {bad!r} is not a valid URL (")
        assert len(r.stderr.splitlines()) == 1
    no_port = run_ghost("network", "add", "away", "--url", "quic://127.0.0.1", "--ca",
                        certifi.where(), "--chain-id", "7", cwd=project)
    assert no_port.code == 2 and no_port.stderr == (
        "error: 'quic://127.0.0.1' is not a QUIC URL like quic://127.0.0.1:8443\n")
    assert (project / "ghost.toml").read_text() == before


@pytest.mark.parametrize("as_json", [True, False])
def test_ctrl_c_before_the_command_runs_is_one_line_and_130(project, as_json):
    """A real SIGINT while the unchanged-build answer runs (before any command's own
    handling): the documented `interrupted`, not a traceback."""
    import signal
    import subprocess
    import sys

    script = (
        "import os, signal, sys\n"
        "from ghost_cli.cli import main, quick_build\n"
        "answer = quick_build.answer\n"
        "def interrupted(argv):\n"
        "    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered here\n"
        "    return answer(argv)\n"
        "quick_build.answer = interrupted\n"
        "main.run()\n"
    )
    args = ["build", "--json"] if as_json else ["build"]
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=project, capture_output=True, text=True,
        timeout=120, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert result.returncode == 130, result.stderr
    assert result.stderr == "error: interrupted\n"
    if as_json:
        assert json.loads(result.stdout) == {
            "ok": False, "error": {"code": "interrupted", "message": "interrupted"}}
    else:
        assert result.stdout == ""
