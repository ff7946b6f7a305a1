"""`node_stopped` is the log's last line (docs/rpc.md), and a node stopping is no library
error: the requests uvicorn cuts when the stop grace is over leave no `library_error`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import socket

import pytest
from node_helpers import start_node

from ghost_cli.node.logging import NodeLog


def _lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_nothing_is_written_after_the_last_line():
    out = io.StringIO()
    log = NodeLog(out)
    log.connection("http", "127.0.0.1:1", "open")
    log.finish("node_stopped")
    log.connection("http", "127.0.0.1:1", "closed")
    log.internal_error("body", ValueError("late"))
    log.write("tx", hash=b"\1")
    log.flush_suppressed()
    log.finish("node_stopped")
    assert [r["event"] for r in _lines(out)] == ["connection", "node_stopped"]


def test_a_cancelled_task_is_no_library_error():
    out = io.StringIO()
    log = NodeLog(out)
    loop = asyncio.new_event_loop()
    try:
        with log.capture(loop):
            cut = asyncio.CancelledError("Task cancelled, timeout graceful shutdown exceeded")
            logging.getLogger("uvicorn.error").error("Exception in ASGI application",
                                                     exc_info=cut)
            logging.getLogger("uvicorn.error").error(
                "Cancel %s running task(s), timeout graceful shutdown exceeded", 1)
            loop.call_exception_handler({"message": "cut", "exception": cut})
            logging.getLogger("uvicorn.error").error("Exception in ASGI application",
                                                     exc_info=ValueError("a real one"))
    finally:
        loop.close()
    [line] = _lines(out)
    assert (line["event"], line["error"]) == ("library_error", "ValueError")


@pytest.mark.slow
def test_a_half_sent_request_at_stop_leaves_node_stopped_the_last_line(tmp_path):
    node = start_node(tmp_path / "data")
    host, port = node.bound["http"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10.0) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{")
        mine = "{}:{}".format(*s.getsockname())
        assert node.stop(signal.SIGTERM) == 0
    lines = node.log()
    assert lines[-1]["event"] == "node_stopped"
    assert [r for r in lines if r["event"] == "library_error"] == []
    assert [r["state"] for r in lines if r["event"] == "connection"
            and r["peer"] == mine] == ["open", "closed"]
