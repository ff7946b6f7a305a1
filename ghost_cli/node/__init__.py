"""`ghost node`: the service that runs the one execution core behind JSON-RPC.

NodeCore (core.py) is sans-IO apply and read logic; http.py (ASGI, served by uvicorn) and
quic.py (HTTP/3) are thin adapters that feed request bodies to ghost_cli.rpc.Dispatcher.
"""
