"""How commands show what a network did: receipts and events as JSON and for people.
Shared by `ghost call`/`query`/`deploy`, `ghost tx send`, `ghost network receipt` and
`ghost network events`."""


def deploy_json(name, r) -> dict:
    from ..abi import format_address

    return {"name": name, "address": format_address(r.address), "gas_used": r.gas_used,
            "block_height": r.block_height, "tx_hash": "0x" + r.tx_hash.hex()}


def _events_json(events, abi_of) -> list[dict]:
    if not events:
        return []  # without loading vm/trace.py, which a call that emits nothing never needs
    from ..vm.trace import event_json

    return [event_json(e, abi_of(e.address) if abi_of else None) for e in events]


def receipt_json(r, abi_of=None) -> dict:
    """A receipt as --json shows it (the node's receipt JSON has the same shape:
    rpc/methods.py)."""
    from ..abi import format_address

    if abi_of is None:  # the receipt's own contract's ABI decodes its events
        def abi_of(address):
            return r.abi if address == r.address else None

    return {
        "sender": format_address(r.sender) if r.sender else None,
        "address": format_address(r.address),
        "function": r.function,
        "result": result_json(r),
        "return_data": "0x" + r.return_data.hex(),
        "gas_used": r.gas_used,
        "block_height": r.block_height,
        "tx_hash": "0x" + r.tx_hash.hex() if r.tx_hash else None,
        "events": _events_json(r.events, abi_of),
        "logs": list(r.logs),
    }


def result_json(r):
    """The receipt's decoded result as its ABI type renders it (addresses checksummed,
    bytes 0x-hex, structs as objects, enums by name); untyped when the ABI is unknown."""
    from ..abi import to_jsonable

    if r.result is None:
        return None
    output = _output_type(r)
    if output is None:
        return to_jsonable(r.result)
    return to_jsonable(r.result, output, r.abi)


def _output_type(r) -> str | None:
    """The ABI type of the receipt's function's result; None when void or unknown."""
    from ..exceptions import GhostError

    try:
        fn = r.abi.entry(r.function) if r.abi is not None and r.function else None
    except GhostError:
        return None
    return None if fn is None else fn.output


def result_text(value) -> object:
    """A decoded result for the terminal: scalars as themselves, compound values (and
    what JSON renders them to) as one line of JSON."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"  # as typed on the command line and in JSON
    if value is None or isinstance(value, dict | list):  # null: an empty optional
        return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return value


def event_line(e: dict) -> str:
    """One event for the terminal: its decoded fields, else its raw topics and data."""
    from ..abi import format_fields

    if e.get("fields") is not None:
        return f"{e['name']} {format_fields(e['fields'])}".rstrip()
    return f"{e['name']} {' '.join(e['topics'][1:])} data={e['data']}".replace("  ", " ")


def render_receipt(out, r, proven=None, events=None) -> None:
    """A receipt for people: the result on stdout, the rest on stderr. `events`: the
    receipt's events as receipt_json gives them (default: decoded by the receipt's own
    ABI)."""
    if r.kind == "deploy":  # where the contract is: what a deploy's sender needs next
        from ..abi import format_address

        out.info(f"deployed at {format_address(r.address)}")
    elif r.result is None and _output_type(r) is None:
        out.info("ok (no return value)")  # stdout stays empty for scripts
    else:
        out.result(result_text(result_json(r)))
    out.info(f"gas used: {r.gas_used:,}" + ("" if r.tx_hash else "  (query: nothing recorded)"))
    for e in receipt_json(r)["events"] if events is None else events:
        out.info(f"event {event_line(e)}")
    for line in r.logs:
        out.info(f"log: {line}")
    if proven is not None:
        out.info(proven_line(proven))


def proven_line(proven, what: str = "") -> str:
    """What `--prove` says of an answer (`what`: of a failure, "the failure")."""
    where = (f"checkpoint {proven.checkpoint_height}" if proven.checkpoint_height
             is not None else f"height {proven.height}, not yet checkpointed")
    return (f"proven: {what + ' ' if what else ''}recomputed here from "
            f"{len(proven.reads)} storage value(s) verified against state root "
            f"0x{proven.state_root.hex()} ({where})")
