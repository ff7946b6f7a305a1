"""`ghost name ...` and `ghost call NAME.ghost` end to end: processes against a node."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_register_then_call_through_the_name(ghost, node):
    def ok(*args):
        r = ghost(*args)
        assert r.code == 0, r.stderr
        return r

    ok("keys", "new", "alice")
    ok("keys", "new", "bob")
    ok("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
       "--ca", node.bound["ca"])
    deployed = ok("deploy", "--network", "local", "--key", "alice",
                  "--json").json["deployed"][0]["address"]
    reg = ok("name", "register", "counter.ghost", "counter", "--network", "local",
             "--key", "alice", "--json").json
    assert reg["name"] == "counter.ghost" and reg["address"].lower() == deployed.lower()

    ok("call", "counter.ghost", "increment", "--network", "local", "--key", "alice")
    got = ok("query", "counter.ghost", "get", "--network", "local", "--json").json
    assert got["result"] == 1 and got["address"].lower() == deployed.lower()

    shown = ok("name", "show", "counter.ghost", "--network", "local", "--json").json
    assert shown["address"].lower() == deployed.lower() and shown["code_hash"].startswith("0x")

    taken = ghost("name", "register", "counter.ghost", "counter", "--network", "local",
                  "--key", "bob")
    assert taken.code == 6 and "Taken" in taken.stderr
    ok("name", "transfer", "counter.ghost", "bob", "--network", "local", "--key", "alice")
    stolen = ghost("name", "update", "counter.ghost", "counter", "--network", "local",
                   "--key", "alice")
    assert stolen.code == 6 and "NotOwner" in stolen.stderr

    listed = ok("name", "list", "--network", "local", "--json").json["names"]
    assert [n["name"] for n in listed] == ["counter.ghost"]
    missing = ghost("query", "nobody.ghost", "get", "--network", "local")
    assert missing.code == 7 and "not registered" in missing.stderr
    bad = ghost("name", "register", "Bad_Name.ghost", "counter", "--network", "local",
                "--key", "alice")
    assert bad.code == 2 and "not a valid name" in bad.stderr


def test_transfer_to_an_encryption_key_is_refused(ghost, node):
    for args in (("keys", "new", "alice"), ("keys", "new", "inbox", "--scheme", "ml-kem-768"),
                 ("network", "add", "local", "--url", f"quic://{node.bound['quic']}",
                  "--ca", node.bound["ca"])):
        assert ghost(*args).code == 0
    r = ghost("name", "transfer", "counter.ghost", "inbox", "--network", "local",
              "--key", "alice")
    assert r.code == 2
    assert r.stderr == "error: 'inbox' is an ml-kem-768 key: it has no address\n"
