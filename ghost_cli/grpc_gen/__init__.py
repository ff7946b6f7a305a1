"""Python code generated from proto/ghost/v1/*.proto (messages and gRPC stubs).

Never edit ghost/v1/*_pb2*.py by hand: change the .proto files and run
`python -m ghost_cli.grpc_gen` (needs grpcio-tools, the `test` extra); a test checks the
committed files are what that command makes.
"""
