"""The Network seam: the sandbox and a node network offer one surface, and what only one
of them can do is a capability that commands ask for."""

import pytest

from ghost_cli.chain.network import (
    CAPABILITIES,
    NAMES,
    PROOFS,
    RECEIPTS,
    SNAPSHOT,
    TRACES,
    Network,
    require,
)
from ghost_cli.chain.sandbox import Sandbox
from ghost_cli.client.remote import RemoteNetwork
from ghost_cli.config.project import NetworkConfig
from ghost_cli.exceptions import UsageError


@pytest.fixture
def sandbox(tmp_path):
    with Sandbox(tmp_path / "s.db", name="dev") as net:
        yield net


@pytest.fixture
def remote():
    config = NetworkConfig("local", "node", 1337, url="http://127.0.0.1:9")  # never dialled
    net = RemoteNetwork(config)
    yield net
    net.close()


def test_both_networks_implement_the_protocol(sandbox, remote) -> None:
    assert isinstance(sandbox, Network) and isinstance(remote, Network)
    assert sandbox.name == "dev" and remote.name == "local"


def test_capabilities_say_what_each_network_can_do(sandbox, remote) -> None:
    assert sandbox.capabilities == {SNAPSHOT, RECEIPTS, TRACES}
    assert remote.capabilities == {RECEIPTS, NAMES, PROOFS}
    assert sandbox.capabilities | remote.capabilities == set(CAPABILITIES)


def test_require_refuses_a_missing_capability_with_the_given_reason(sandbox, remote) -> None:
    require(sandbox, TRACES, "unused")
    with pytest.raises(UsageError, match="^names live on node networks$") as err:
        require(sandbox, NAMES, "names live on node networks")
    assert err.value.exit_code == 2
    with pytest.raises(UsageError, match="sandbox only"):
        require(remote, TRACES, "-v traces calls on the sandbox only")


def test_the_sandbox_hands_out_code_and_its_engine(sandbox, counter_code) -> None:
    receipt = sandbox.deploy(counter_code, name="counter")
    code = sandbox.code("counter")
    assert code == counter_code
    assert sandbox.engine_for(code) is sandbox.engine_for(sandbox.code(receipt.address))
