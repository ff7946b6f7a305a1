"""A container's ABI section is checked when the container is loaded, as a deploy checks
it: any malformed ABI is an InvalidModuleError from `validate`, never a Python error from
`execute`; and ghost writes no ABI section its engine would refuse."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zvm_helpers import CALLER, SELF

from ghost_cli.exceptions import GhostError, InvalidModuleError
from ghost_cli.vm.types import CallContext
from ghost_cli.vm.zvm import encode_zvmc, metadata_json
from ghost_cli.vm.zvm.engine import ZvmEngine

CTX = CallContext(CALLER, SELF, b"", 10_000)

MALFORMED = [
    {"version": 1, "functions": [{"name": 5}]},
    {"version": 1, "functions": [{"name": "get", "inputs": [{"name": "a", "type": 5}]}]},
    {"version": 1, "functions": [{"name": "get", "inputs": [{"name": "a", "type": "u7"}]}]},
    {"version": 1, "functions": [{"name": "get", "inputs": [{"name": 1, "type": "u64"}]}]},
    {"version": 1, "functions": [{"name": "get", "output": ["u64"]}]},
    {"version": 1, "functions": [{"name": "get", "inputs": 5}]},
    {"version": 1, "functions": [{"name": "get", "inputs": [5]}]},
    {"version": 1, "functions": [{"name": "add(u64)"}]},
    {"version": "x", "functions": []},
    {"version": 1, "functions": {"name": "get"}},
    {"functions": [{"name": "get"}, {"name": "get"}]},
    {"version": 1, "functions": [], "events": [{"name": 3}]},
    {"version": 2, "functions": [], "types": [{"name": "P", "fields": 7}]},
    [],
    "abi",
]


@pytest.mark.parametrize("abi", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_abi_is_refused_when_loaded(abi):
    blob = encode_zvmc(b"\x00", json.dumps({"abi": abi}).encode())
    engine = ZvmEngine()
    with pytest.raises(InvalidModuleError, match="ABI"):
        engine.validate(blob)
    for function in ("get", "5", "get()"):
        with pytest.raises(InvalidModuleError):
            engine.execute(blob, function, CTX, {}.get)
    with pytest.raises(InvalidModuleError):
        metadata_json({"abi": abi})  # what `ghost asm --abi` writes the section with


def test_well_formed_abis_still_load():
    abi = {"version": 1, "functions": [
        {"name": "get", "inputs": [], "output": "u64"},
        {"name": "add", "inputs": [{"name": "n", "type": "u64"}], "output": "u64"}]}
    blob = encode_zvmc(b"\x00", metadata_json({"abi": abi}))
    assert ZvmEngine().execute(blob, "add", CTX, {}.get).gas_used == 0
    # metadata without an ABI, or no section at all: callable by signature only
    assert ZvmEngine().execute(encode_zvmc(b"\x00", b'{"name": "x"}'), "f()", CTX,
                               {}.get).gas_used == 0


# ---- random ABIs: shapes a hostile deployer might write -----------------------------------

_atom = st.one_of(st.none(), st.booleans(), st.integers(-2, 300), st.floats(allow_nan=False),
                  st.sampled_from(["", "get", "u64", "u256", "address", "bytes", "string",
                                   "Pair", "Pair[]", "u64?", "x(", "[]", "get()"]))
_keys = st.sampled_from(["name", "inputs", "type", "output", "functions", "version",
                         "can_fail", "mutates", "events", "types", "fields", "kind",
                         "constructor", "errors", "doc", "indexed", "variants", "value"])
_json = st.recursive(_atom, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)), max_leaves=12)
_param = st.fixed_dictionaries({"name": _json, "type": _json})
_function = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["get", "set"]), _json)},
    optional={"inputs": st.one_of(st.lists(_param, max_size=3), _json), "output": _json,
              "can_fail": _json, "mutates": _json, "doc": _json})
_abi = st.one_of(_json, st.fixed_dictionaries(
    {"functions": st.one_of(st.lists(_function, max_size=3), _json)},
    optional={"version": st.sampled_from([1, 2, "1", 3, True, None]),
              "constructor": st.one_of(_function, _json),
              "events": _json, "types": _json, "errors": _json}))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(abi=_abi, function=st.sampled_from(["get", "set", "5", "get()", "x(u64)"]))
def test_random_container_abis_only_raise_ghost_errors(abi, function):
    blob = encode_zvmc(b"\x00", json.dumps({"abi": abi}).encode())
    engine = ZvmEngine()
    try:
        engine.validate(blob)
    except InvalidModuleError:
        with pytest.raises(InvalidModuleError):
            engine.execute(blob, function, CTX, {}.get)
        return
    try:
        engine.execute(blob, function, CTX, {}.get)
    except GhostError:
        pass
