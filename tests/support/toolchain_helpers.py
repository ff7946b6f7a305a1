"""Snippets shared by the toolchain tests."""

#: The first lines of every contract: import the SDK and export the file's `pub fn`s.
CONTRACT_HEAD = (
    'const ghost = @import("ghost");\n'
    "comptime {\n"
    "    ghost.exportContract(@This());\n"
    "}\n"
)
