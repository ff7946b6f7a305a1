"""ghost.toml: loading, validation messages, the built-in sandbox, and comment-keeping edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghost_cli.config import defaults
from ghost_cli.config.project import (
    ContractConfig,
    find_config,
    known_keys,
    load_project,
    parse_project,
    set_value,
)
from ghost_cli.exceptions import ConfigError, NotFoundError

REPO = Path(__file__).resolve().parents[2]

MINIMAL = '[project]\nname = "demo"\n'

FULL = """\
# top comment
[project]
name = "demo"  # trailing comment
version = "1.2.3"
default_network = "local"

[contracts.counter]
source = "src/counter.zig"

[contracts.token]
source = "src/token/token.zig"
target = "wasm"

[build]
optimize = "ReleaseFast"
out_dir = "out"
sdk_dir = "vendor/sdk"

# the node
[networks.local]
url = "http://127.0.0.1:8545"
chain_id = 7
gas_limit = 5000

[test]
gas_tolerance = 0.1
snapshot_file = "gas.json"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ghost.toml").write_text(text)
    return tmp_path


def test_minimal_file_gets_every_default(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, MINIMAL))
    assert p.root == tmp_path.resolve()
    assert p.name == "demo"
    assert p.version == defaults.DEFAULT_VERSION
    assert p.contracts == {}
    assert p.build.optimize == "ReleaseSafe"  # safety checks on by default
    assert (p.build.out_dir, p.build.sdk_dir) == ("build", "lib")
    assert p.default_network == "sandbox"
    sandbox = p.networks["sandbox"]
    assert (sandbox.kind, sandbox.chain_id, sandbox.url) == ("sandbox", 1337, None)
    assert sandbox.gas_limit == defaults.DEFAULT_GAS_LIMIT
    assert p.test.gas_tolerance == 0.02
    assert p.test.snapshot_file == ".gas-snapshot.json"


def test_full_file(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, FULL))
    assert p.version == "1.2.3"
    assert p.contracts["token"] == ContractConfig("token", Path("src/token/token.zig"), "wasm")
    assert p.build.optimize == "ReleaseFast"
    assert p.out_dir == p.root / "out"
    assert p.sdk_dir == p.root / "vendor/sdk"
    assert p.artifact_path("counter") == p.root / "out" / "counter.wasm"
    local = p.network()
    assert (local.name, local.kind, local.chain_id, local.gas_limit) == ("local", "node", 7, 5000)
    assert p.network("sandbox").chain_id == 1337  # still there though not declared
    assert p.test.gas_tolerance == 0.1


def test_search_goes_upward_from_a_subdirectory(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, MINIMAL)
    deep = tmp_path / "src" / "a" / "b"
    deep.mkdir(parents=True)
    assert load_project(deep).root == tmp_path.resolve()
    monkeypatch.chdir(deep)
    assert load_project().root == tmp_path.resolve()
    assert find_config(deep / "nothing.zig") == tmp_path.resolve() / "ghost.toml"


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    assert "no ghost.toml" in info.value.message
    assert "ghost new" in info.value.message
    assert "\n" not in info.value.message
    assert info.value.exit_code == 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[project\nname = 1", "invalid TOML"),
        ("[build]\noptimize = 'Fast'\n", "project.name is required"),
        (MINIMAL + "[bulid]\n", "unknown key 'bulid'"),
        (MINIMAL + "[build]\noptimise = 'Debug'\n", "unknown key 'build.optimise'"),
        (MINIMAL + "[build]\noptimize = 'Fast'\n", "build.optimize must be one of Debug"),
        (MINIMAL + "[build]\nout_dir = '/abs'\n", "build.out_dir must be a path relative"),
        (MINIMAL + "[build]\nsdk_dir = '../x'\n", "build.sdk_dir must stay inside the project"),
        (MINIMAL + "[contracts.c]\ntarget = 'wasm'\n", "contracts.c.source is required"),
        (MINIMAL + "[contracts.c]\nsource = 'c.rs'\n", "contracts.c.source must name a .zig"),
        (MINIMAL + "[contracts.c]\nsource = 'c.zig'\ntarget = 'evm'\n", "contracts.c.target"),
        (MINIMAL + "[contracts.my-c]\nsource = 'c.zig'\n", "contracts.my-c: a contract name"),
        (MINIMAL + "[contracts]\nc = 'c.zig'\n", "contracts.c must be a table"),
        (MINIMAL + "[networks.n]\nkind = 'node'\nchain_id = 1\n", "networks.n.url is required"),
        (MINIMAL + "[networks.n]\nurl = 'http://h:1'\n", "networks.n.chain_id is required"),
        (MINIMAL + "[networks.n]\nchain_id = '1'\n", "networks.n.chain_id must be an integer"),
        (MINIMAL + "[networks.n]\nchain_id = true\n", "networks.n.chain_id must be an integer"),
        (MINIMAL + "[networks.n]\nchain_id = 0\n", "networks.n.chain_id must be greater than 0"),
        (MINIMAL + "[networks.n]\nurl = 'localhost'\nchain_id = 1\n", "networks.n.url must be"),
        (MINIMAL + "[networks.n]\nkind = 'evm'\n", "networks.n.kind must be one of sandbox"),
        (MINIMAL + "[test]\ngas_tolerance = 2\n", "test.gas_tolerance must be at least 0"),
        ('[project]\nname = "d"\ndefault_network = "main"\n', "default_network 'main'"),
    ],
)
def test_invalid_files_name_the_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    message = info.value.message
    assert expected in message
    assert str(tmp_path.resolve() / "ghost.toml") in message
    assert "\n" not in message


def test_integer_tolerance_is_accepted_as_a_number(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, MINIMAL + "[test]\ngas_tolerance = 0\n"))
    assert p.test.gas_tolerance == 0.0 and isinstance(p.test.gas_tolerance, float)


def test_declaring_sandbox_overrides_its_settings(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, MINIMAL + "[networks.sandbox]\ngas_limit = 99\n"))
    assert p.network("sandbox") == p.networks["sandbox"]
    assert (p.networks["sandbox"].kind, p.networks["sandbox"].gas_limit) == ("sandbox", 99)


def test_unknown_contract_and_network_are_not_found(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, FULL))
    with pytest.raises(NotFoundError, match=r"no contract 'nope' .*contracts: counter, token"):
        p.contract("nope")
    with pytest.raises(NotFoundError, match=r"no network 'main' .*networks: local, sandbox"):
        p.network("main")


def test_set_value_keeps_comments_and_layout(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    p = set_value(tmp_path, "build.optimize", "Debug")
    assert p.build.optimize == "Debug"
    text = (tmp_path / "ghost.toml").read_text()
    assert text == FULL.replace('optimize = "ReleaseFast"', 'optimize = "Debug"')
    assert "# top comment" in text and "# trailing comment" in text and "# the node" in text


def test_set_value_creates_tables_and_coerces_command_line_text(tmp_path: Path) -> None:
    write(tmp_path, "# keep me\n" + MINIMAL)
    set_value(tmp_path, "networks.testnet.chain_id", "42")
    set_value(tmp_path, "networks.testnet.url", "https://rpc.example:443")
    p = set_value(tmp_path, "test.gas_tolerance", "0.05")
    assert p.networks["testnet"].chain_id == 42
    assert p.networks["testnet"].kind == "node"
    assert p.test.gas_tolerance == 0.05
    text = (tmp_path / "ghost.toml").read_text()
    assert text.startswith("# keep me\n")
    assert "[networks.testnet]" in text
    assert "[networks]\n" not in text
    assert load_project(tmp_path) == p


def test_set_value_refuses_bad_edits_and_leaves_the_file_alone(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    before = (tmp_path / "ghost.toml").read_text()
    with pytest.raises(ConfigError, match="unknown key 'build.speed'"):
        set_value(tmp_path, "build.speed", "fast")
    with pytest.raises(ConfigError, match="build.optimize must be one of"):
        set_value(tmp_path, "build.optimize", "Quick")
    with pytest.raises(ConfigError, match="networks.local.chain_id must be an integer"):
        set_value(tmp_path, "networks.local.chain_id", "seven")
    with pytest.raises(ConfigError, match="default_network 'nowhere' is not a network"):
        set_value(tmp_path, "project.default_network", "nowhere")
    with pytest.raises(ConfigError, match="networks.fresh.url is required"):
        set_value(tmp_path, "networks.fresh.kind", "node")
    assert (tmp_path / "ghost.toml").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ghost.toml"]  # no temp files left


def test_set_value_keeps_file_permissions(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    (tmp_path / "ghost.toml").chmod(0o640)
    set_value(tmp_path, "project.version", "2.0.0")
    assert (tmp_path / "ghost.toml").stat().st_mode & 0o777 == 0o640


BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark, which Windows editors put first


def test_a_leading_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "bom").mkdir()
    (tmp_path / "plain" / "ghost.toml").write_bytes(FULL.encode())
    (tmp_path / "bom" / "ghost.toml").write_bytes(BOM + FULL.encode())
    plain, bom = load_project(tmp_path / "plain"), load_project(tmp_path / "bom")
    assert bom.root == tmp_path / "bom"
    assert bom.contracts == plain.contracts and bom.networks["local"].chain_id == 7
    assert bom.build == plain.build and bom.test == plain.test
    # an error in such a file is placed as the editor shows it: the mark is no column
    (tmp_path / "bom" / "ghost.toml").write_bytes(BOM + b'[project]\nname = "demo"\nx = \n')
    with pytest.raises(ConfigError, match=r"ghost.toml:3:4: invalid TOML"):
        load_project(tmp_path / "bom")


def test_set_value_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "ghost.toml").write_bytes(BOM + FULL.encode())
    p = set_value(tmp_path, "build.optimize", "Debug")
    assert p.build.optimize == "Debug"
    data = (tmp_path / "ghost.toml").read_bytes()
    assert data == BOM + FULL.replace('optimize = "ReleaseFast"',
                                      'optimize = "Debug"').encode()
    assert load_project(tmp_path) == p


def test_cli_reads_and_edits_a_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    import os

    from cli_helpers import run_ghost

    (tmp_path / "ghost.toml").write_bytes(BOM + FULL.encode())
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GHOST_JSON", None)
    listed = run_ghost("network", "list", "--json", cwd=tmp_path, env=env)
    assert listed.code == 0, listed.stdout + listed.stderr
    assert listed.json["default"] == "local"
    used = run_ghost("network", "use", "sandbox", cwd=tmp_path, env=env)
    assert used.code == 0, used.stdout + used.stderr
    assert (tmp_path / "ghost.toml").read_bytes() == BOM + FULL.replace(
        'default_network = "local"', 'default_network = "sandbox"').encode()


def test_example_documents_every_key_and_loads() -> None:
    path = REPO / "ghost.toml.example"
    text = path.read_text()
    parse_project(text, path)  # valid as it stands
    for key in known_keys():
        table, _, leaf = key.rpartition(".")
        if "*" in table:
            assert f"[{table.split('.')[0]}." in text, key
        else:
            assert f"[{table}]" in text, key
        assert f"\n{leaf} = " in text, key
    for var in defaults.ENVIRONMENT:
        assert var in text, var


def test_templates_configs_load() -> None:
    for name in ("counter", "token"):
        path = REPO / "templates" / name / "ghost.toml"
        p = parse_project(path.read_text().replace("{{name}}", "demo"), path)
        assert list(p.contracts) == [name]
        assert p.contracts[name].source == Path(f"src/{name}.zig")
