"""Opcode handlers, one module per family of ghost_cli.vm.zvm.opcodes (the `family` column).

A handler takes the running Frame, finds its operands on the stack (the dispatcher has
already checked there are enough and charged the base gas), charges any dynamic gas
itself and leaves its results on the stack.
"""
