"""The docs tested against the code, as sqlite-utils does: every command and option of `tillit`
is in docs/cli.md (and cli.md names none that does not exist), the exit codes in cli.md are the
ones `main()` returns, the error tree in docs/architecture.md is the class hierarchy of
`tillit.errors`, and the layers drawn there are import-linter's contracts."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

import tillit.errors
from tillit.cli import app, main
from tillit.cli._app import ExitCode
from tillit.config import Settings
from tillit.errors import TillitError

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLI_MD = (DOCS / "cli.md").read_text(encoding="utf-8")
ARCHITECTURE_MD = (DOCS / "architecture.md").read_text(encoding="utf-8")

# ---------------------------------------------------------------- the command tree


@dataclass(frozen=True)
class Command:
    path: str
    """``tillit trial evaluate``."""
    options: tuple[str, ...]
    """Every long name of every option, ``--struktur`` and ``--utan-struktur`` alike."""
    leaf: bool


def _commands() -> list[Command]:
    found: list[Command] = []

    def walk(command: Any, path: str) -> None:
        children = getattr(command, "commands", None) or {}
        options = tuple(
            name
            for param in command.params
            if param.param_type_name == "option" and not param.hidden
            for name in (*param.opts, *param.secondary_opts)
            if name.startswith("--")
        )
        if not command.hidden:
            found.append(Command(path, options, leaf=not children))
        for name, child in children.items():
            walk(child, f"{path} {name}")

    walk(typer.main.get_command(app), "tillit")
    return found


COMMANDS = _commands()
LEAVES = [c for c in COMMANDS if c.leaf]


@dataclass(frozen=True)
class Section:
    level: int
    heading: str
    body: str


def _sections(markdown: str) -> list[Section]:
    """The sections of a Markdown page, split at every heading outside code blocks."""
    sections: list[Section] = []
    level, heading, lines = 0, "", []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"^(#{1,6}) (.*)$", line)
        if match:
            sections.append(Section(level, heading, "\n".join(lines)))
            level, heading, lines = len(match[1]), match[2], []
        else:
            lines.append(line)
    sections.append(Section(level, heading, "\n".join(lines)))
    return sections


SECTIONS = _sections(CLI_MD)
_NAME_END = r"(?![\w-])"


def _command_paths_in(heading: str) -> set[str]:
    """The commands a heading is about: `tillit trial show ID` and `tillit trial list` name
    ``tillit trial show`` and ``tillit trial list``."""
    paths: set[str] = set()
    for code in re.findall(r"`(tillit[^`]*)`", heading):
        words = []
        for word in code.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            words.append(word)
        paths.add(" ".join(words))
    return paths


def _section_of(path: str) -> str:
    """The text of the sections whose heading names this command."""
    bodies = [f"{s.heading}\n{s.body}" for s in SECTIONS if path in _command_paths_in(s.heading)]
    return "\n".join(bodies)


def _documented_options(body: str) -> set[str]:
    """The options in the first column of the option tables of a section."""
    names: set[str] = set()
    for line in body.splitlines():
        if line.startswith("| `"):
            first_cell = line.split(" | ")[0]
            names.update(re.findall(r"--[a-z][a-z-]*" + _NAME_END, first_cell))
    return names


@pytest.mark.parametrize("command", LEAVES, ids=[c.path for c in LEAVES])
def test_every_command_has_a_section_in_cli_md(command: Command) -> None:
    assert _section_of(command.path), (
        f"docs/cli.md has no heading naming `{command.path}`: add a section for it"
    )


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c.options], ids=[c.path for c in COMMANDS if c.options]
)
def test_every_option_is_documented_in_its_commands_section(command: Command) -> None:
    body = _section_of(command.path) if command.leaf else CLI_MD
    missing = [
        option for option in command.options if not re.search(re.escape(option) + _NAME_END, body)
    ]
    assert not missing, f"`{command.path}` has options docs/cli.md does not describe: {missing}"


def test_cli_md_names_no_command_that_does_not_exist() -> None:
    real = {c.path for c in COMMANDS}
    named = {p for s in SECTIONS for p in _command_paths_in(s.heading)}
    named |= set(re.findall(r"^\$ (tillit(?: [a-z][a-z-]*){0,2})", CLI_MD, re.MULTILINE))
    # `$ tillit kpi show äldreomsorg` names `tillit kpi show`: trim words that are arguments.
    unknown = set()
    for path in named:
        words = path.split()
        while words and " ".join(words) not in real:
            words.pop()
        if " ".join(words) == "tillit" and path != "tillit":
            unknown.add(path)
    assert not unknown


def test_cli_md_option_tables_name_no_option_the_command_lacks() -> None:
    by_path = {c.path: c for c in COMMANDS}
    stray: dict[str, set[str]] = {}
    for section in SECTIONS:
        paths = _command_paths_in(section.heading) & set(by_path)
        if not paths:
            continue
        offered = {o for p in paths for o in by_path[p].options} | {"--help"}
        extra = _documented_options(section.body) - offered
        if extra:
            stray[section.heading] = extra
    assert not stray


def test_cli_md_counts_the_commands_it_lists() -> None:
    top = [c for c in COMMANDS if c.path.count(" ") == 1]
    intro = CLI_MD.split("## ", 1)[0]
    listed = re.findall(r"^tillit ([a-z-]+) ", intro, re.MULTILINE)
    assert sorted(listed) == sorted(c.path.split()[1] for c in top)
    count = re.search(r"with (\w+) commands", intro)
    numbers = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    numbers += "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
    assert count is not None and numbers.split().index(count[1]) == len(top)


# ---------------------------------------------------------------- exit codes


def _documented_exit_codes() -> dict[int, str]:
    table = CLI_MD.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| ([^|]*) \|", table, re.MULTILINE)}


def test_exit_codes_in_cli_md_are_the_ones_main_returns() -> None:
    assert set(_documented_exit_codes()) == {int(code) for code in ExitCode}


def test_each_documented_exit_code_is_what_the_cli_does(
    tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = _documented_exit_codes()
    assert main(["--version"]) == ExitCode.OK and "tillit" in capsys.readouterr().out
    assert main(["values", "N01951"]) == ExitCode.ERROR  # no data yet: a Tillit error
    assert capsys.readouterr().err.startswith("Fel:")
    assert main(["values", "N01951", "-f", "xml"]) == ExitCode.USAGE
    assert "--help" in capsys.readouterr().err
    # A bare `tillit` shows the help, on stdout, as cli.md says it does.
    assert "no arguments" in codes[ExitCode.OK]
    assert main([]) == ExitCode.OK
    shown = capsys.readouterr()
    assert "Användning: tillit" in shown.out and not shown.err
    assert main(["kpi"]) == ExitCode.OK and "tillit kpi" in capsys.readouterr().out
    assert "Ctrl-C" in codes[ExitCode.INTERRUPTED]  # tests/test_sync.py sends the SIGINT


# ---------------------------------------------------------------- the error tree

_TREE_LINE = re.compile(r"^([ │├└─]*)(\w+Error)\b")


def _parse_tree(block: str) -> dict[str, list[str]]:
    """parent → children, in the order drawn; a name's depth is its column / 4."""
    children: dict[str, list[str]] = {}
    stack: list[str] = []
    for line in block.splitlines():
        match = _TREE_LINE.match(line)
        if not match:
            continue
        depth = len(match[1]) // 4
        name = match[2]
        del stack[depth:]
        if stack:
            children.setdefault(stack[-1], []).append(name)
        children.setdefault(name, [])
        stack.append(name)
    return children


def _tree_block(text: str) -> str:
    start = text.rfind("\n", 0, text.index("TillitError\n")) + 1
    lines = []
    for line in text[start:].splitlines():
        if not line.strip() or line.strip().startswith("```"):
            break
        lines.append(line)
    return "\n".join(lines)


def _class_tree() -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}

    def walk(cls: type[TillitError]) -> None:
        children[cls.__name__] = [sub.__name__ for sub in cls.__subclasses__()]
        for sub in cls.__subclasses__():
            walk(sub)

    walk(TillitError)
    return children


def _dedent(block: str) -> str:
    indent = min(len(line) - len(line.lstrip()) for line in block.splitlines())
    return "\n".join(line[indent:].rstrip() for line in block.splitlines())


def test_error_tree_in_the_errors_docstring_is_the_class_hierarchy() -> None:
    drawn = _parse_tree(_dedent(_tree_block(tillit.errors.__doc__ or "")))
    real = _class_tree()
    assert {k: sorted(v) for k, v in drawn.items()} == {k: sorted(v) for k, v in real.items()}
    assert set(drawn) == set(tillit.errors.__all__)


def test_error_tree_in_architecture_md_is_the_one_in_errors_py() -> None:
    in_docs = _dedent(_tree_block(ARCHITECTURE_MD))
    in_code = _dedent(_tree_block(tillit.errors.__doc__ or ""))
    assert in_docs == in_code


# ---------------------------------------------------------------- layers


def _importlinter_contracts() -> list[dict[str, Any]]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = pyproject["tool"]["importlinter"]["contracts"]
    return contracts


def _strip(name: str) -> str:
    return name.strip().removeprefix("tillit.")


def test_layers_drawn_in_architecture_md_are_the_import_linter_contract() -> None:
    (layers,) = [c["layers"] for c in _importlinter_contracts() if c["type"] == "layers"]
    contract = [{_strip(n) for n in layer.split("|")} for layer in layers]
    diagram = re.search(r"```\n(cli ──►[^\n]*)\n```", ARCHITECTURE_MD)
    assert diagram is not None
    drawn = [{_strip(n) for n in layer.split("|")} for layer in diagram[1].split("──►")]
    assert drawn == contract


def test_independence_contract_in_architecture_md_names_the_same_packages() -> None:
    (modules,) = [c["modules"] for c in _importlinter_contracts() if c["type"] == "independence"]
    sentence = re.search(r"an `independence` contract for (.*?)\.\s", ARCHITECTURE_MD, re.S)
    assert sentence is not None
    assert set(re.findall(r"`(tillit\.\w+)`", sentence[1])) == set(modules)


def test_every_layer_package_is_described_in_architecture_md() -> None:
    (layers,) = [c["layers"] for c in _importlinter_contracts() if c["type"] == "layers"]
    table = {m for m in re.findall(r"^\| `(tillit\.\w+)", ARCHITECTURE_MD, re.MULTILINE)}
    assert {n.strip() for layer in layers for n in layer.split("|")} <= table


# ---------------------------------------------------------------- the audit of logins


def test_api_md_names_the_audit_entry_of_a_failed_login(tmp_path: Path) -> None:
    from tests.bank_fixtures import FAST_PASSWORDS
    from tillit.bank import open_bank, upgrade

    url = f"sqlite:///{tmp_path / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    try:
        admin = bank.add_user("admin@example.se", "ett långt lösenord", "Admin", "admin")
        assert bank.authenticate("admin@example.se", "fel lösenord", client="127.0.0.1") is None
        (entry,) = [e for e in bank.audit_log(admin) if "fail" in e.action]
    finally:
        bank.close()
    rate_limit = (DOCS / "api.md").read_text(encoding="utf-8")
    assert f"`{entry.action}`" in rate_limit
    assert "not yet" not in rate_limit
