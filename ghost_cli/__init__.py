"""ghost: build, test and deploy Zig smart contracts on the Ghost stack."""

__version__ = "0.1.0"
