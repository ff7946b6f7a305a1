"""What a test asks of a JSON-RPC reply, whatever carried the request."""

from __future__ import annotations


class Replies:
    """`result()` and `error()` over a `call(method, **params)` that returns the reply."""

    def call(self, method: str, **params) -> dict:
        raise NotImplementedError

    def result(self, method: str, **params):
        reply = self.call(method, **params)
        assert "error" not in reply, reply
        return reply["result"]

    def error(self, method: str, **params) -> dict:
        reply = self.call(method, **params)
        assert "result" not in reply, reply
        return reply["error"]
