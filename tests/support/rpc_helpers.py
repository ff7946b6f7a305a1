"""Helpers for the dispatcher tests: bytes in, bytes out, with JSON conveniences."""

from __future__ import annotations

import json

from jsonrpc_replies import Replies

from ghost_cli.chain.transaction import Transaction, sign_single, to_json
from ghost_cli.crypto.keypair import KeyPair
from ghost_cli.rpc import Dispatcher

CHAIN_ID = 1337
NOW = 1_700_000_000.0


class Rpc(Replies):
    """Bytes in, bytes out, with JSON helpers for the tests."""

    def __init__(self, dispatcher: Dispatcher, key: KeyPair) -> None:
        self.d, self.key, self.next_id = dispatcher, key, 0

    def raw(self, body: bytes) -> dict | list | None:
        out = self.d.handle(body, peer="test", now=NOW)
        return json.loads(out) if out else None

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        return self.raw(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                    "params": params}).encode())

    def tx(self, kind: str, *, nonce: int | None = None, chain_id: int = CHAIN_ID,
           signer: KeyPair | None = None, expiry: int = int(NOW) + 600, **fields) -> dict:
        signer = signer or self.key
        if nonce is None:
            nonce = self.result("ghost_getAccount", address="0x" + signer.address.hex())["nonce"]
        tx = Transaction(chain_id=chain_id, sender=signer.address, nonce=nonce, kind=kind,
                         gas_limit=10_000_000, expiry=expiry, **fields)
        return to_json(sign_single(tx, signer.secret_key, signer.public_key))

    def deploy(self, code: bytes, name: str = "counter") -> dict:
        return self.result("ghost_sendTransaction", tx=self.tx("deploy", code=code, label=name))

    def send_call(self, address: str, function: str, args: bytes = b"", **kw) -> dict:
        return self.call("ghost_sendTransaction", tx=self.tx(
            "call", target=bytes.fromhex(address[2:]), function=function, args=args, **kw))
