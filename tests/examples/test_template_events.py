"""Every template's events decode: each event in the built ABI declares its fields, and an
event a call emits prints by name with every field decoded (not raw, `fields` not null)
on both targets."""

from __future__ import annotations

import os

import pytest
from cli_helpers import run_ghost

from ghost_cli.scaffold import templates_root

TEMPLATES = sorted(p.name for p in templates_root().iterdir()
                   if p.is_dir() and (p / "ghost.toml").is_file())

#: constructor arguments a template's deploy needs beyond its ghost.toml
DEPLOY_ARGS = {"signature": ("--args", "0x0102", "--args", "0x"), "token": ("--args", "1000")}

#: template -> calls (after deploy) whose last emits the event, and that event's fields
CALLS = {
    "counter": ([("increment",)], "Incremented", {"by"}),
    "token": ([("transfer", "0x" + "11" * 20, "5")], "Transfer", {"from", "to", "amount"}),
    "storage": ([("set", "k", "0x01")], "Set", {"owner", "key_hash", "key"}),
    "arithmetic": ([("accumulate", "3")], "Accumulated", {"by", "total"}),
    "signature": ([("deposit", "5")], "Deposited", {"from", "amount"}),
    "ballot": ([("propose", "t"), ("vote", "0", "yes")], "Voted",
               {"proposal", "voter", "choice"}),
}  # rollup's BatchPosted needs a committee's BLS aggregate: its own suite checks it


def _project(name, tmp_path):
    env = {**os.environ, "NO_COLOR": "1", "GHOST_HOME": str(tmp_path / "home")}
    env.pop("GHOST_TRANSPORT", None)
    root = tmp_path / name
    made = run_ghost("new", name, "--template", name, "--dir", str(root), cwd=tmp_path, env=env)
    assert made.code == 0, made.stderr
    return lambda *args: run_ghost(*args, cwd=root, env=env)


def test_every_template_has_a_scenario():
    assert set(CALLS) | {"rollup"} == set(TEMPLATES)


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_event_declares_its_fields(template, tmp_path):
    ghost = _project(template, tmp_path)
    assert ghost("build").code == 0
    events = ghost("inspect", template, "--json").json["events"]
    assert events, f"{template} emits no event"
    assert [e["name"] for e in events if not e["fields"]] == []


@pytest.mark.slow
@pytest.mark.parametrize("target", ["wasm", "zvm"])
@pytest.mark.parametrize("template", sorted(CALLS))
def test_an_emitted_event_prints_decoded(template, target, tmp_path):
    calls, name, fields = CALLS[template]
    ghost = _project(template, tmp_path)
    built = ghost("build", "--target", target)
    assert built.code == 0, built.stderr
    deployed = ghost("deploy", "--target", target, *DEPLOY_ARGS.get(template, ()), "--json")
    assert deployed.code == 0, deployed.stderr
    for call in calls:
        done = ghost("call", template, *call, "--json")
        assert done.code == 0, done.stdout + done.stderr
    (event,) = [e for e in done.json["events"] if e["name"] == name]
    assert event["fields"] is not None and set(event["fields"]) == fields
    assert None not in event["fields"].values()
    listed = ghost("events", template, "--name", name, "--json").json["events"]
    assert listed[-1]["fields"] == event["fields"]
