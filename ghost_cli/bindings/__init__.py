"""What a contract's ABI gives its users besides the wire format: a description for
people (`ghost inspect`, `ghost call NAME --help`), typed client code (`ghost bindings`),
and the one small runtime seam generated Python clients call through (runtime.py)."""
