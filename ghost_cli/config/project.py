"""ghost.toml: the project model, its loader, and an editor that keeps comments.

`load_project()` finds ghost.toml in the current directory or a parent and returns a
frozen `Project`. Every key is checked against one schema (`_SCHEMA`), so a typo or a
wrong type fails early with one line naming the file and the key. `set_value()` edits one
key with tomlkit, so the user's comments and layout survive, and refuses edits that would
leave the file invalid. ghost.toml.example at the top of the repository documents every
key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from ..exceptions import ConfigError, NotFoundError
from . import defaults as d


@dataclass(frozen=True)
class ContractConfig:
    name: str
    source: Path  # the contract's root Zig file, relative to the project root
    target: str = d.DEFAULT_TARGET


@dataclass(frozen=True)
class BuildConfig:
    optimize: str = d.DEFAULT_OPTIMIZE
    out_dir: str = d.DEFAULT_OUT_DIR
    sdk_dir: str = d.DEFAULT_SDK_DIR


@dataclass(frozen=True)
class NetworkConfig:
    name: str
    kind: str  # "sandbox": in-process, state under .ghost/; "node": a ghost node at `url`
    chain_id: int
    gas_limit: int = d.DEFAULT_GAS_LIMIT
    url: str | None = None  # quic://host:port (HTTP/3) or http://host:port (HTTP/1.1)
    http_url: str | None = None  # the node's HTTP/1.1 endpoint beside a quic:// url
    ca: str | None = None  # absolute path of the PEM CA the node's certificate chains to


@dataclass(frozen=True)
class TestConfig:
    __test__ = False  # not a pytest test class, despite the name

    gas_tolerance: float = d.DEFAULT_GAS_TOLERANCE
    snapshot_file: str = d.DEFAULT_SNAPSHOT_FILE


def _sandbox() -> NetworkConfig:
    return NetworkConfig(d.SANDBOX_NETWORK, "sandbox", d.SANDBOX_CHAIN_ID)


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    version: str = d.DEFAULT_VERSION
    contracts: dict[str, ContractConfig] = field(default_factory=dict)
    build: BuildConfig = field(default_factory=BuildConfig)
    networks: dict[str, NetworkConfig] = field(
        default_factory=lambda: {d.SANDBOX_NETWORK: _sandbox()}
    )
    default_network: str = d.DEFAULT_NETWORK
    test: TestConfig = field(default_factory=TestConfig)
    default_key: str | None = None  # keystore key that signs when --key is not given
    node_store: str | None = None  # [node] store: `ghost node start`'s store in this project

    @property
    def config_path(self) -> Path:
        return self.root / d.CONFIG_FILE

    @property
    def out_dir(self) -> Path:
        return self.root / self.build.out_dir

    @property
    def sdk_dir(self) -> Path:
        return self.root / self.build.sdk_dir

    @property
    def state_dir(self) -> Path:
        return self.root / d.STATE_DIR

    def artifact_path(self, contract: str, target: str | None = None) -> Path:
        """Where `ghost build` writes the contract's module for `target` (default: the
        contract's configured target)."""
        c = self.contract(contract)
        return self.out_dir / f"{c.name}{d.ARTIFACT_SUFFIX[target or c.target]}"

    def contract(self, name: str) -> ContractConfig:
        if name not in self.contracts:
            known = ", ".join(sorted(self.contracts)) or "none"
            raise NotFoundError(f"no contract {name!r} in {self.config_path} (contracts: {known})")
        return self.contracts[name]

    def network(self, name: str | None = None) -> NetworkConfig:
        """The named network, or the project's default one."""
        name = name or self.default_network
        if name not in self.networks:
            known = ", ".join(sorted(self.networks))
            raise NotFoundError(f"no network {name!r} in {self.config_path} (networks: {known})")
        return self.networks[name]


# ---- schema: one entry per key; `*` stands for a contract or network name ---------------


class _Key(NamedTuple):  # a NamedTuple: made at every start, and cheaper than a dataclass
    type: type  # str, int or float
    doc: str
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None  # returns a complaint, or None


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _fraction(v: Any) -> str | None:
    return None if 0 <= v < 1 else "must be at least 0 and below 1"


def _relative_path(v: Any) -> str | None:
    p = PurePosixPath(v.replace("\\", "/"))
    if not v or p.is_absolute() or re.match(r"^[A-Za-z]:", v):
        return "must be a path relative to the project root"
    if ".." in p.parts:
        return "must stay inside the project (no '..')"
    return None


def _zig_file(v: Any) -> str | None:
    return _relative_path(v) or (None if v.endswith(".zig") else "must name a .zig file")


def _url(v: Any) -> str | None:
    return None if re.match(r"^[a-z][a-z0-9+.-]*://\S+$", v) else "must be a URL like http://host:port"


def _nonempty(v: Any) -> str | None:
    return None if v.strip() else "must not be empty"


_SCHEMA: dict[str, _Key] = {
    "project.name": _Key(str, "project name", check=_nonempty),
    "project.version": _Key(str, "project version", check=_nonempty),
    "project.default_network": _Key(str, "network used when --network is not given"),
    "project.default_key": _Key(str, "keystore key that signs when --key is not given",
                                check=_nonempty),
    "contracts.*.source": _Key(str, "root Zig file of the contract", check=_zig_file),
    "contracts.*.target": _Key(str, "what to build", choices=d.TARGETS),
    "build.optimize": _Key(str, "Zig optimize mode", choices=d.OPTIMIZE_MODES),
    "build.out_dir": _Key(str, "where modules are written", check=_relative_path),
    "build.sdk_dir": _Key(str, "directory holding ghost.zig", check=_relative_path),
    "networks.*.kind": _Key(str, "sandbox or node", choices=d.NETWORK_KINDS),
    "networks.*.chain_id": _Key(int, "chain id signed into transactions", check=_positive),
    "networks.*.gas_limit": _Key(int, "gas per call", check=_positive),
    "networks.*.url": _Key(str, "node URL", check=_url),
    "networks.*.http_url": _Key(str, "node HTTP/1.1 URL (for --transport http)", check=_url),
    "networks.*.ca": _Key(str, "CA certificate (PEM) the node's TLS certificate chains to",
                          check=_nonempty),
    "node.store": _Key(str, "state store of `ghost node start` run in this project: a "
                            "SQLite path (from the project root) or a postgresql:// URL",
                       check=_nonempty),
    "test.gas_tolerance": _Key(float, "allowed relative gas change", check=_fraction),
    "test.snapshot_file": _Key(str, "gas snapshot file", check=_relative_path),
}
_NAMED_TABLES = {"contracts", "networks"}
_CONTRACT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: What a network may be called in ghost.toml and `ghost network add`.
NETWORK_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _schema_key(dotted: str) -> str | None:
    parts = dotted.split(".")
    if len(parts) == 3 and parts[0] in _NAMED_TABLES:
        parts[1] = "*"
    key = ".".join(parts)
    return key if key in _SCHEMA else None


def known_keys() -> list[str]:
    """Every key ghost.toml accepts, `*` standing for a contract or network name."""
    return list(_SCHEMA)


def _type_name(t: type) -> str:
    return {str: "a string", int: "an integer", float: "a number"}[t]


def _check_value(where: str, dotted: str, value: Any) -> Any:
    key = _SCHEMA[_schema_key(dotted) or ""]
    ok = (
        isinstance(value, key.type)
        or (key.type is float and isinstance(value, int))
    ) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"{where}: {dotted} must be {_type_name(key.type)}, got {value!r}")
    if key.choices and value not in key.choices:
        raise ConfigError(
            f"{where}: {dotted} must be one of {', '.join(key.choices)}, got {value!r}"
        )
    complaint = key.check(value) if key.check else None
    if complaint:
        raise ConfigError(f"{where}: {dotted} {complaint}, got {value!r}")
    return float(value) if key.type is float else value


def _table(where: str, dotted: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {dotted} must be a table, got {value!r}")
    return value


def _fields(where: str, prefix: str, table: dict[str, Any]) -> dict[str, Any]:
    """Check every key of `table` against the schema; return the checked values."""
    out = {}
    for k, v in table.items():
        dotted = f"{prefix}.{k}"
        if _schema_key(dotted) is None:
            raise ConfigError(f"{where}: unknown key {dotted!r}")
        out[k] = _check_value(where, dotted, v)
    return out


def _tomlkit_data(text: str, where: str) -> dict[str, Any]:
    """ghost.toml as tomlkit reads it: its error (line, column, reason) when it is not TOML."""
    import tomlkit
    import tomlkit.exceptions

    try:
        return tomlkit.parse(text).unwrap()
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            f"{where}:{exc.line}:{exc.col}: invalid TOML: {_first_line(exc)}"
        ) from exc
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigError(f"{where}: invalid TOML: {_first_line(exc)}") from exc


def _from_project_root(root: Path, store: str) -> str:
    """`[node] store` with a relative SQLite path, plain or `sqlite:///PATH`, made from the
    project root, so that a node started anywhere in the project opens the same file."""
    sqlite_path = store.removeprefix("sqlite:///")
    if sqlite_path == store and "://" in store:
        return store  # PostgreSQL, or a malformed URL that open_store reports
    if sqlite_path in (":memory:", ""):
        return store
    return str(root / Path(sqlite_path).expanduser())


#: A UTF-8 byte order mark, as read into text.
_BOM = "\ufeff"


def parse_project(text: str, path: Path) -> Project:
    """Build a Project from ghost.toml text; `path` is the file, for messages and the root."""
    where = str(path)
    # A leading byte order mark, as Windows editors write: TOML 1.0 does not allow it, but
    # the common TOML tools accept it, and it is no content.
    text = text.removeprefix(_BOM)
    try:
        # The standard library's reader: about 40 ms less to import than tomlkit, which
        # is kept for edits (they must keep comments and layout) and for its messages
        # when the file is not valid TOML.
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = _tomlkit_data(text, where)

    for k in data:
        if k not in {"project", "contracts", "build", "networks", "test", "node"}:
            raise ConfigError(f"{where}: unknown key {k!r}")

    proj = _fields(where, "project", _table(where, "project", data.get("project", {})))
    if "name" not in proj:
        raise ConfigError(f"{where}: project.name is required")

    contracts = {}
    for name, raw in _table(where, "contracts", data.get("contracts", {})).items():
        if not _CONTRACT_NAME.match(name):
            raise ConfigError(
                f"{where}: contracts.{name}: a contract name is letters, digits and _ "
                "(not starting with a digit)"
            )
        c = _fields(where, f"contracts.{name}", _table(where, f"contracts.{name}", raw))
        if "source" not in c:
            raise ConfigError(f"{where}: contracts.{name}.source is required")
        contracts[name] = ContractConfig(
            name, Path(c["source"]), c.get("target", d.DEFAULT_TARGET)
        )

    build = BuildConfig(**_fields(where, "build", _table(where, "build", data.get("build", {}))))
    test = TestConfig(**_fields(where, "test", _table(where, "test", data.get("test", {}))))
    node = _fields(where, "node", _table(where, "node", data.get("node", {})))
    node_store = node.get("store")
    if node_store is not None:
        node_store = _from_project_root(path.parent, node_store)

    networks = {d.SANDBOX_NETWORK: _sandbox()}
    for name, raw in _table(where, "networks", data.get("networks", {})).items():
        if not NETWORK_NAME.fullmatch(name):
            raise ConfigError(
                f"{where}: networks.{name}: a network name is letters, digits, '.', '-' and '_'"
            )
        n = _fields(where, f"networks.{name}", _table(where, f"networks.{name}", raw))
        kind = n.get("kind", "node" if "url" in n else "sandbox")
        if kind == "node" and "url" not in n:
            raise ConfigError(f"{where}: networks.{name}.url is required for a node network")
        if kind == "node" and "chain_id" not in n:
            raise ConfigError(
                f"{where}: networks.{name}.chain_id is required for a node network"
            )
        networks[name] = NetworkConfig(
            name=name,
            kind=kind,
            chain_id=n.get("chain_id", d.SANDBOX_CHAIN_ID),
            gas_limit=n.get("gas_limit", d.DEFAULT_GAS_LIMIT),
            url=n.get("url"),
            http_url=n.get("http_url"),
            # Relative to the project root, like every other path in the file.
            ca=str(path.parent / Path(n["ca"]).expanduser()) if "ca" in n else None,
        )

    default_network = proj.get("default_network", d.DEFAULT_NETWORK)
    if default_network not in networks:
        raise ConfigError(
            f"{where}: project.default_network {default_network!r} is not a network "
            f"(networks: {', '.join(sorted(networks))})"
        )
    return Project(
        root=path.parent,
        name=proj["name"],
        version=proj.get("version", d.DEFAULT_VERSION),
        contracts=contracts,
        build=build,
        networks=networks,
        default_network=default_network,
        test=test,
        default_key=proj.get("default_key"),
        node_store=node_store,
    )


def _first_line(exc: Exception) -> str:
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r" at line \d+ col \d+$", "", line)  # the position is given already


def find_config(start: Path | None = None) -> Path:
    """ghost.toml in `start` (default: the current directory) or the nearest parent."""
    here = Path.cwd() if start is None else Path(start)
    here = here.resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / d.CONFIG_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {d.CONFIG_FILE} in {here} or any parent directory; "
        "run `ghost new <name>` to create a project"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def load_project(start: Path | None = None) -> Project:
    """Find ghost.toml from `start` upward and load it."""
    path = find_config(start)
    return parse_project(_read(path), path)


# ---- editing -----------------------------------------------------------------------------


def _coerce(where: str, dotted: str, value: Any) -> Any:
    """Accept command-line text for numeric keys: "42" for an integer key, "0.05" for a float."""
    key = _SCHEMA[_schema_key(dotted) or ""]
    if isinstance(value, str) and key.type in (int, float):
        try:
            return int(value.replace("_", ""), 0) if key.type is int else float(value)
        except ValueError:
            raise ConfigError(
                f"{where}: {dotted} must be {_type_name(key.type)}, got {value!r}"
            ) from None
    return value


def set_value(root: Path, dotted_key: str, value: Any) -> Project:
    """Set one key of `<root>/ghost.toml`, keeping comments and layout; return the new project.

    Missing tables are created. The edited file is validated before it replaces the old
    one, so a bad value leaves ghost.toml untouched.
    """
    return edit_config(root, {dotted_key: value})


def edit_config(root: Path, values: dict[str, Any], remove: tuple[str, ...] = ()) -> Project:
    """Remove the tables or keys in `remove`, then set `values`, in one validated write.

    Several keys at once matter where they are only valid together: a node network needs
    its url and chain id in the same edit. Comments and layout elsewhere are kept.
    """
    path = Path(root) / d.CONFIG_FILE
    where = str(path)
    for dotted_key, value in list(values.items()):
        if _schema_key(dotted_key) is None:
            raise ConfigError(
                f"{where}: unknown key {dotted_key!r} (known: {', '.join(known_keys())})"
            )
        values[dotted_key] = _coerce(where, dotted_key, value)
        _check_value(where, dotted_key, values[dotted_key])

    import tomlkit
    import tomlkit.exceptions

    text = _read(path)
    bom = _BOM if text.startswith(_BOM) else ""  # kept: the file stays as its editor wrote it
    try:
        doc = tomlkit.parse(text.removeprefix(_BOM))
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigError(f"{where}: invalid TOML: {_first_line(exc)}") from exc

    for dotted in remove:
        *parents, last = dotted.split(".")
        container: Any = doc
        for part in parents:
            container = container.get(part) if isinstance(container, dict) else None
        if isinstance(container, dict) and last in container:
            del container[last]

    for dotted_key, value in values.items():
        parts = dotted_key.split(".")
        container = doc
        for i, part in enumerate(parts[:-1]):
            if part not in container:
                # [networks.x] rather than an empty [networks] header followed by [networks.x]
                container[part] = tomlkit.table(is_super_table=i == 0 and part in _NAMED_TABLES)
            container = container[part]
            if not isinstance(container, dict):
                raise ConfigError(f"{where}: {'.'.join(parts[: i + 1])} is not a table")
        container[parts[-1]] = value

    new_text = bom + tomlkit.dumps(doc)
    project = parse_project(new_text, path)
    _write_atomically(path, new_text)
    return project


def _write_atomically(path: Path, text: str) -> None:
    from ..fsutil import write_atomically  # here: only edits write (tempfile, shutil)

    try:
        write_atomically(path, text.encode("utf-8"), path.stat().st_mode & 0o7777)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc}") from exc
