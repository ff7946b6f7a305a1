"""`ghost inspect NAME` and the contract-aware `ghost call/query NAME [FN] --help`, read
from the built ABI of tests/cli/contracts/kinds.zig (every ABI type) and the counter."""

from __future__ import annotations

import re


def _signatures(text: str) -> list[str]:
    """The lines of `text`, without the `view`/`mutates` column after a signature."""
    return [re.sub(r"\s+(view|mutates)$", "", line) for line in text.splitlines()]


def test_inspect_lists_every_part_of_the_abi(kinds, ghost_at):
    r = ghost_at(kinds, "inspect", "kinds")
    assert r.code == 0, r.stderr
    lines = _signatures(r.stdout)
    assert lines[0] == "kinds  (build/kinds.wasm, ABI version 2)"
    assert re.search(r"^  record\(b: Ballot\) -> u64 +mutates$", r.stdout, re.M)
    assert "  echo_ballot(v: Ballot) -> Ballot" in lines
    assert "  last_ballot() -> Ballot?" in lines
    assert "  echo_optional(v: u64?) -> u64?" in lines
    assert "      Store `b` as the last ballot, count it and emit `Recorded`; returns the new " \
           "count." in lines
    assert "  Recorded(who: address indexed, id: u64 indexed, color: Color?, title: string)" \
        in lines
    assert "  enum Color { red = 0, green = 1, blue = 7 }" in lines
    assert ("  struct Ballot { id: u64, owner: address, title: string, votes: u32[], "
            "color: Color?, pairs: Pair[], grid: u16[3][2], tag: bytes4 }") in lines


def test_inspect_json_has_every_key(kinds, ghost_at):
    doc = ghost_at(kinds, "inspect", "kinds", "--json").json
    assert doc["ok"] and doc["contract"] == "kinds" and doc["version"] == 2
    assert set(doc) >= {"functions", "constructor", "events", "types", "errors", "origin"}
    record = next(f for f in doc["functions"] if f["name"] == "record")
    assert record["inputs"] == [{"name": "b", "type": "Ballot"}]
    assert record["output"] == "u64" and record["can_fail"] is False
    assert record["signature"] == "record(b: Ballot) -> u64"
    # derived from the built code: `record` writes storage and emits, the rest only read
    assert {f["name"]: f["mutates"] for f in doc["functions"]} == {
        **{f["name"]: False for f in doc["functions"]}, "record": True}
    assert doc["constructor"] is None
    [event] = doc["events"]
    assert [(f["name"], f.get("indexed", False)) for f in event["fields"]] == [
        ("who", True), ("id", True), ("color", False), ("title", False)]
    color = next(t for t in doc["types"] if t["name"] == "Color")
    assert color == {"kind": "enum", "name": "Color", "variants": [
        {"name": "red", "value": 0}, {"name": "green", "value": 1}, {"name": "blue", "value": 7}]}


def test_inspect_counter_shows_can_fail_and_unknown_contract_fails(kinds, ghost_at):
    counter = ghost_at(kinds, "inspect", "counter")
    assert counter.code == 7  # the counter of this project is not built
    assert counter.stderr.strip() == ("error: build/counter.wasm not found: run `ghost "
                                      "build` first")
    zvm = ghost_at(kinds, "inspect", "counter", "--target", "zvm")
    assert zvm.code == 7 and zvm.stderr.strip() == (
        "error: build/counter.zvmc not found: run `ghost build --target zvm` first")
    unknown = ghost_at(kinds, "inspect", "nope", "--json")
    assert unknown.code == 7 and unknown.json["error"]["code"] == "not_found"
    assert "no contract 'nope' in ghost.toml (contracts: counter, kinds)" in \
        unknown.json["error"]["message"]


def test_inspect_refuses_an_unknown_transport_for_a_local_build_too(kinds, ghost_at):
    r = ghost_at(kinds, "inspect", "kinds", "--transport", "ftp", "--json")
    assert r.code == 2, r.stderr
    assert r.json["error"] == {"code": "usage",
                               "message": "unknown transport 'ftp': use quic or http"}


def test_inspect_reads_a_deployed_contract_from_the_network(kinds, ghost_at):
    deployed = ghost_at(kinds, "deploy", "kinds", "--json")
    assert deployed.code == 0, deployed.stderr
    address = deployed.json["deployed"][0]["address"]
    local = ghost_at(kinds, "inspect", "kinds", "--json").json
    remote = ghost_at(kinds, "inspect", address, "--network", "sandbox", "--json").json
    assert remote["origin"] == f"network sandbox, {address}"
    for key in ("functions", "events", "types", "errors", "constructor"):
        assert remote[key] == local[key], key
    by_address = ghost_at(kinds, "query", address, "echo_enum", "--help")
    assert by_address.code == 0, by_address.stderr
    assert "  echo_enum(v: Color) -> Color" in _signatures(by_address.stdout)
    nowhere = ghost_at(kinds, "call", "0x" + "00" * 20, "--help")
    assert nowhere.code == 7 and nowhere.stderr.count("\n") == 1


def test_call_help_lists_the_contracts_functions(kinds, ghost_at):
    r = ghost_at(kinds, "call", "kinds", "--help")
    assert r.code == 0, r.stderr
    assert r.stdout.startswith("Usage: ghost call kinds FUNCTION [ARGS]...\n")
    assert "  echo_pair(v: Pair) -> Pair" in _signatures(r.stdout)
    assert "  record(b: Ballot) -> u64" in _signatures(r.stdout)
    assert "  struct Pair { a: u64, b: string }" in r.stdout.splitlines()
    one = ghost_at(kinds, "query", "kinds", "record", "-h")
    assert one.code == 0, one.stderr
    assert one.stdout.splitlines()[:3] == [
        "Usage: ghost query kinds record B", "", "  record(b: Ballot) -> u64  mutates"]
    assert "  B  Ballot" in one.stdout.splitlines()
    assert "  enum Color { red = 0, green = 1, blue = 7 }" in one.stdout.splitlines()
    assert "  struct Pair { a: u64, b: string }" in one.stdout.splitlines()  # via Ballot


def test_help_without_a_contract_is_the_generic_one_and_bad_names_fail(kinds, ghost_at):
    generic = ghost_at(kinds, "call", "--help")
    assert generic.code == 0 and "--gas-limit" in generic.stdout
    missing = ghost_at(kinds, "call", "kinds", "nope", "--help")
    assert missing.code == 7
    assert missing.stderr.startswith("error: no function 'nope' in the contract (functions: ")
    assert missing.stderr.count("\n") == 1
    as_json = ghost_at(kinds, "call", "nosuch", "--help", "--json")  # the failure is JSON
    assert as_json.code == 7 and as_json.json["error"]["code"] == "not_found"


def test_query_help_leaves_out_functions_the_abi_marks_as_mutating():
    """An ABI with `mutates` (the key is optional: without it every function is listed)."""
    from ghost_cli.abi import Abi
    from ghost_cli.bindings import describe

    raw = {"version": 2, "functions": [
        {"name": "get", "inputs": [], "output": "u64", "mutates": False},
        {"name": "set", "inputs": [{"name": "v", "type": "u64"}], "output": None,
         "mutates": True},
        {"name": "other", "inputs": [], "output": None}]}
    abi = Abi.from_json(raw)
    query = describe.call_help("c", abi, raw, view_only=True)
    call = describe.call_help("c", abi, raw, view_only=False)
    assert "  get() -> u64  view" in query and "  other()" in query
    assert not any(line.startswith("  set(") for line in query)
    assert "  set(v: u64)   mutates" in call  # signatures aligned
    assert describe.to_json(abi, raw)["functions"][2]["mutates"] is None


def test_query_help_lists_only_the_functions_that_do_not_mutate(kinds, ghost_at):
    """From the build: `record` writes state, so `ghost query kinds --help` leaves it out
    (`ghost call kinds --help` lists it); a mutating function still runs as a query."""
    query = ghost_at(kinds, "query", "kinds", "--help")
    assert query.code == 0, query.stderr
    listed = [line.split("(")[0].strip() for line in query.stdout.splitlines()
              if re.match(r"  \w+\(", line)]
    assert "record" not in listed and {"recorded", "last_ballot", "echo_bool"} <= set(listed)
    assert re.search(r"^  recorded\(\) -> u64 +view$", query.stdout, re.M)
    call = ghost_at(kinds, "call", "kinds", "--help")
    assert "  record(b: Ballot) -> u64" in _signatures(call.stdout)


def test_inspect_json_gives_every_event_field_its_indexed_key():
    """The ABI JSON may leave `indexed` out when false; --json always has it."""
    from ghost_cli.abi import Abi
    from ghost_cli.bindings import describe

    raw = {"version": 2, "functions": [], "events": [{"name": "T", "fields": [
        {"name": "from", "type": "address", "indexed": True},
        {"name": "amount", "type": "u64"}]}]}
    (event,) = describe.to_json(Abi.from_json(raw), raw)["events"]
    assert event["fields"] == [{"name": "from", "type": "address", "indexed": True},
                               {"name": "amount", "type": "u64", "indexed": False}]


def test_call_help_lists_only_the_types_its_functions_use():
    """`ghost query c --help` leaves out a mutating function, and so the types only it
    uses; a type only an event uses is in neither (`ghost inspect` lists every type)."""
    from ghost_cli.abi import Abi
    from ghost_cli.bindings import describe

    raw = {"version": 2, "functions": [
        {"name": "get", "inputs": [], "output": "Outer?", "mutates": False},
        {"name": "set", "inputs": [{"name": "v", "type": "Secret"}], "output": None,
         "mutates": True}],
        "events": [{"name": "E", "fields": [{"name": "k", "type": "Kind"}]}],
        "types": [{"kind": "enum", "name": "Kind", "variants": [{"name": "a", "value": 0}]},
                  {"kind": "struct", "name": "Inner", "fields": [{"name": "a", "type": "u8"}]},
                  {"kind": "struct", "name": "Outer", "fields": [{"name": "i", "type": "Inner"}]},
                  {"kind": "struct", "name": "Secret", "fields": [{"name": "a", "type": "u8"}]}]}
    abi = Abi.from_json(raw)

    def types(lines: list[str]) -> list[str]:
        return [line.split()[1] for line in lines if line.startswith(("  struct", "  enum"))]

    assert types(describe.call_help("c", abi, raw, view_only=True)) == ["Inner", "Outer"]
    assert types(describe.call_help("c", abi, raw, view_only=False)) == [
        "Inner", "Outer", "Secret"]
    assert types(describe.text("c", "x", abi, raw)) == ["Kind", "Inner", "Outer", "Secret"]


def test_a_damaged_build_is_named_with_what_mends_it(kinds, ghost_at):
    artifact = kinds / "build" / "kinds.wasm"
    artifact.write_bytes(artifact.read_bytes()[:100])  # cut short, as by a full disk
    result = ghost_at(kinds, "inspect", "kinds", "--json")
    assert result.code == 5, result.stdout + result.stderr
    message = result.json["error"]["message"]
    assert message.startswith("build/kinds.wasm: invalid WebAssembly module: ")
    assert message.endswith("; rebuild it with `ghost build`")
