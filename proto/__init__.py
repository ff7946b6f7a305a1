"""The gRPC service definitions, ghost/v1/*.proto, shipped as the package
`ghost_cli.proto` so an installed ghost carries the files clients generate stubs from."""
