"""The node's metric series stay bounded (docs/rpc.md, "Metrics"): a deploy costs no
balance, so every new contract having series of its own would let a sender grow /metrics
and the node's memory without bound. Past the first contracts, the others are `other`."""

from __future__ import annotations

from rpc_helpers import Rpc

from ghost_cli.node.core import NodeCore
from ghost_cli.node.metrics import NodeMetrics
from ghost_cli.rpc import Dispatcher


def _contract_series(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if line.startswith(("ghost_contract_calls_total", "ghost_contract_gas_total",
                                "ghost_contract_failures_total"))]


def test_contracts_past_the_cap_share_the_other_series(tmp_path, key, counter_code):
    metrics = NodeMetrics(max_contracts=2)
    core = NodeCore.open(tmp_path / "m", chain_id=1337, observers=(metrics,))
    try:
        rpc = Rpc(Dispatcher(core, observers=(metrics,)), key)
        addresses = [rpc.deploy(counter_code)["address"] for _ in range(4)]
        for address in addresses:
            rpc.send_call(address, "increment")
        text = metrics.render().decode()
        own = [a for a in addresses if a[2:].lower() in text]
        assert own == addresses[:2]  # the first two, each with calls and gas
        assert 'ghost_contract_calls_total{contract="other"} 4.0' in text  # 2 deploys, 2 calls
        assert len(_contract_series(text)) == 6  # calls and gas: 2 contracts and `other`
    finally:
        core.close()

