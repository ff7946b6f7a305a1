"""The built artifact a command sends: which target, and where `ghost build` wrote it."""


def check_target(target: str | None) -> None:
    from ..config.defaults import TARGETS
    from ..exceptions import UsageError

    if target is not None and target not in TARGETS:
        raise UsageError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")


def artifact_path(project, name: str, target: str | None):
    """build/NAME.wasm (or the target's suffix), NotFoundError naming the build to run."""
    from ..exceptions import NotFoundError

    if name not in project.contracts:
        known = ", ".join(project.contracts) or "none"
        raise NotFoundError(f"no contract {name!r} in ghost.toml (contracts: {known})")
    path = project.artifact_path(name, target)
    if not path.is_file():
        flag = f" --target {target}" if target else ""
        raise NotFoundError(
            f"{path.relative_to(project.root)} not found: run `ghost build{flag}` first")
    return path
