"""No English a person reads, and no bare KPI id: every command's `--help`, sample output of
the commands a new user runs first, and every page of the site, searched for a list of
English words (the ones the issue found and Typer's and Click's own) and for KPI ids shown
without their title."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.bank import open_bank
from tillit.cli import app, main
from tillit.config import Settings
from tillit.store import Store

KUNGSBACKA = "1384"
SCHOOL = "N15419"

#: English a person must not meet: the words the issue found, Typer's and Click's own, and
#: common words of English sentences. Matched as whole words, case-insensitively.
ENGLISH = frozenset(
    [
        "show",
        "this",
        "message",
        "exit",
        "usage",
        "options",
        "arguments",
        "commands",
        "command",
        "missing",
        "option",
        "error",
        "errors",
        "such",
        "invalid",
        "value",
        "values",
        "required",
        "default",
        "env",
        "aborted",
        "try",
        "possible",
        "got",
        "unexpected",
        "extra",
        "read",
        "rejected",
        "inserted",
        "updated",
        "deleted",
        "unchanged",
        "total_in_store",
        "increase",
        "decrease",
        "increasing",
        "decreasing",
        "improving",
        "worsening",
        "municipality",
        "field",
        "the",
        "and",
        "of",
        "to",
        "is",
        "are",
        "not",
        "with",
        "without",
        "none",
        "null",
        "true",
        "false",
        "nan",
        "yes",
        "from",
        "into",
        "per_year",
        "clear",
        "uncertain",
        "clearly_better",
        "clearly_worse",
        "in_line",
        "no_data",
    ]
)
_KPI_ID = re.compile(r"(?<![\w/=.-])[NUG]\d{5}(?![\w])")
_WORD = re.compile(r"[^\W\d]+")  # letters, å, ä and ö among them, and "_"
#: A command's name where the help lists it (a panel's row) or a command line names it.
_COMMAND_NAME = re.compile(r"(?m)(?<=^│ )[a-z-]+|\btillit(?: [a-z][a-z-]*)+")


def _english(text: str) -> list[str]:
    """The English words in ``text``, once code is left out: `backticked` commands, --options,
    <kinds>, environment variables, file names and web addresses."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"https?://\S+|\S+\.(?:json|csv|jsonl|parquet|sqlite|md|svg)\b", " ", text)
    text = re.sub(r"(?<![\w.])/\S+", " ", text)  # a path: /tmp/pytest-of-root/…
    text = re.sub(r"(?<!\w)--?[\w-]+", " ", text)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"\b[A-Z][A-Z0-9_]{2,}\b", " ", text)  # TILLIT_HOME, JSON, FÖRSÖK
    text = _COMMAND_NAME.sub(" ", text)
    return [word for word in _WORD.findall(text) if word.lower() in ENGLISH]


def _bare_ids(text: str, titles: dict[str, str] | None = None) -> list[str]:
    """KPI ids shown without their title: an id must stand in parentheses, "title (ID)", or
    on the same line as (the start of) its title, as in a table's row."""
    bare = []
    for match in _KPI_ID.finditer(text):
        before = text[max(0, match.start() - 1) : match.start()]
        after = text[match.end() : match.end() + 1]
        if before == "(" and after == ")":
            continue
        if text[max(0, match.start() - 6) : match.start()] == "t.ex. ":
            continue  # an example of what to write in a field
        # the id's line and the two on each side: a table's row, a record's fields
        lines = text[: match.start()].split("\n")[-3:] + text[match.start() :].split("\n")[:3]
        line = " ".join(" ".join(lines).split())
        title = " ".join((titles or {}).get(match.group(), "").split())
        if title and title[:24] in line:
            continue
        bare.append(match.group())
    return bare


def _commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        if command.hidden:
            return
        found.append(path)
        for name, child in (getattr(command, "commands", None) or {}).items():
            walk(child, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# ---------------------------------------------------------------- the word list itself


def test_the_checks_find_what_the_issue_found() -> None:
    for shown in (
        "Show this message and exit.",
        "Usage: tillit [OPTIONS]",
        "read 12, rejected 0, inserted 12, total_in_store 12",
        "kpi/values",
        "N21009:decrease",
        "Fältet 'municipality': saknas.",
        "Missing argument 'trial_id'.",
    ):
        assert _english(shown) or _bare_ids(shown), shown
    assert _bare_ids("Nyckeltal: N15419 Elever i åk 9") == ["N15419"]
    assert _bare_ids("N21009:decrease") == ["N21009"]
    assert not _bare_ids("Elever i åk 9, meritvärde (N15419)")
    assert not _english("Kör `tillit kpi show N15419` eller --format json; TILLIT_HOME.")


# ---------------------------------------------------------------- the CLI


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(["tillit", *p]))
def test_every_help_is_swedish(
    path: list[str], tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, *path, "--help")
    assert code == 0, out
    assert "Användning: tillit" in out
    assert "Visa den här hjälpen och avsluta." in out
    assert not _english(out), (_english(out), out)
    # (an id in a help is an example of what to write, "t.ex. N15419:ökning": not checked)


@pytest.mark.parametrize(
    "argv",
    [
        ["trial", "show"],
        ["trial", "show", "abc"],
        ["trial", "show", "1", "2"],
        ["trial", "show", "--nope"],
        ["values", "N01951", "-f", "xml"],
        ["compare", "Kungsbacka", "N15419", "--k", "sju"],
        ["values", "--years"],
        ["nope"],
    ],
    ids=" ".join,
)
def test_usage_errors_are_swedish(
    argv: list[str], tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, *argv)
    assert code == 2
    assert out.startswith("Fel: ") and "Nästa steg: Se `tillit" in out
    assert not _english(out), out


@pytest.fixture
def voice_env(
    analysis_env: Settings, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The analysis store (read only) and a bank of its own with an editor for Kungsbacka."""
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    try:
        bank.seed_organisations([(KUNGSBACKA, "Kungsbacka", "kommun")])
        admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
        bank.add_user("k@example.se", PASSWORD, "K", "editor", KUNGSBACKA, actor=admin)
    finally:
        bank.close()
    monkeypatch.setenv("TILLIT_DATABASE_URL", f"sqlite:///{path}")
    return analysis_env


def _titles(settings: Settings) -> dict[str, str]:
    store = Store(settings.store_dir, memory_limit="512MB")
    return {k["id"]: k["title"] for k in store.kpis()}


SAMPLES = [
    ["status"],
    ["kpi", "search", "skola"],
    ["kpi", "show", SCHOOL],
    ["municipality", "show", "Kungsbacka"],
    ["values", SCHOOL, "-m", "Kungsbacka", "-y", "2018-2022"],
    ["compare", "Kungsbacka", SCHOOL, "N00945"],
    ["trend", "Kungsbacka", SCHOOL],
    ["peers", "Kungsbacka"],
    ["learn", "Kungsbacka"],
    ["trial", "show", "1"],
    ["trial", "list"],
]


def test_sample_outputs_are_swedish_and_name_kpis_by_title(
    voice_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys,
        *("trial", "register", "-m", "Kungsbacka", "--start", "2016", "--titel", "Läxhjälp"),
        *("--beskrivning", "Varje eftermiddag.", "--kpi", f"{SCHOOL}:ökning"),
        *("--kpi", "N00945:minskning", "--user", "k@example.se"),
    )
    assert code == 0, out
    outputs = {"trial register": out}
    for argv in SAMPLES:
        code, out = _run(capsys, *argv)
        assert code == 0, (argv, out)
        outputs[" ".join(argv)] = out
    titles = _titles(voice_env)
    problems = {
        name: (_english(out), _bare_ids(out, titles))
        for name, out in outputs.items()
        if _english(out) or _bare_ids(out, titles)
    }
    assert not problems, "\n\n".join(f"{k}: {v}" for k, v in problems.items())
    assert (
        "−" in outputs["compare Kungsbacka N15419 N00945"]
        or "+" in outputs["compare Kungsbacka N15419 N00945"]
    )
    assert "-0," not in "".join(outputs.values())  # never a hyphen for a minus
    # a table's column has one set of decimals ("86,0" under "83,7", never "86")
    column = re.findall(r"│ \d{4} │ +([\d,]+) │", outputs[f"trend Kungsbacka {SCHOOL}"])
    assert len(column) > 5 and len({len(v.partition(",")[2]) for v in column}) == 1, column
    assert "procentenheter per år" in outputs[f"trend Kungsbacka {SCHOOL}"]


# ---------------------------------------------------------------- the pages


def _visible(page: str) -> str:
    """The text a person reads on a page: no tags, scripts or styles; attributes a person
    reads (alt, title, aria-label, placeholder) kept."""
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    read = " ".join(
        m[1] for m in re.finditer(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"', page)
    )
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(text + " " + read)


PAGES = [
    "/",
    "/kommun",
    f"/kommun/{KUNGSBACKA}",
    f"/kommun/{KUNGSBACKA}/lika",
    f"/nyckeltal/{SCHOOL}",
    f"/nyckeltal/{SCHOOL}?kommun={KUNGSBACKA}",
    "/nyckeltal/N00945?kommun=1384",
    "/sok?q=skola",
    "/sok?q=hemtjänst",
    "/exempel",
    "/forsok",
    "/logga-in",
    "/kommun/9999",
    "/finns-inte",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_swedish_and_names_kpis_by_title(
    analysis_site: TestClient, analysis_settings: Settings, path: str
) -> None:
    response = analysis_site.get(path, headers={"accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    text = _visible(response.text)
    assert not _english(text), (_english(text), path)
    bare = _bare_ids(text, _titles(analysis_settings))
    assert not bare, (bare, path)
    assert "-0," not in text


def _labels(data: Any, key: str = "") -> list[str]:
    """Every text of a JSON answer a person reads: labels, summaries, explanations, reasons."""
    if isinstance(data, dict):
        return [text for k, v in data.items() for text in _labels(v, k)]
    if isinstance(data, list):
        return [text for v in data for text in _labels(v, key)]
    readable = ("label", "summary", "explanation", "why", "reason", "caption", "text")
    if isinstance(data, str) and any(word in key for word in readable):
        return [data]
    return []


@pytest.mark.parametrize(
    "path",
    [
        f"/kommun/{KUNGSBACKA}.json",
        f"/kommun/{KUNGSBACKA}/lika.json",
        f"/nyckeltal/{SCHOOL}.json?kommun={KUNGSBACKA}",
    ],
)
def test_the_json_twins_labels_are_swedish_and_numbers_stay_numbers(
    analysis_site: TestClient, path: str
) -> None:
    data = analysis_site.get(path).json()
    labels = _labels(data)
    assert labels, path
    english = {text: _english(text) for text in labels if _english(text)}
    assert not english, (english, path)
    # the numbers a label writes in Swedish stay numbers in the JSON
    numbers = re.findall(r"'(?:value|peer_median|difference|distance)': ([^,}]+)", str(data))
    assert numbers, path
    assert all(re.fullmatch(r"-?[\d.e+-]+|None|nan", n) for n in numbers), numbers


@pytest.mark.parametrize(
    "path", ["/api/examples?limit=abc", "/api/examples?limit=0", "/api/examples?kind=pressrelease"]
)
def test_the_apis_validation_messages_are_swedish(analysis_site: TestClient, path: str) -> None:
    error = analysis_site.get(path).json()["error"]
    texts = [error["message"], error["hint"], *(f["message"] for f in error.get("fields", []))]
    assert error.get("fields"), error
    assert not [t for t in texts if _english(t)], error


_NUMBER_CELL = re.compile(r'<td class="num">([−+]?\d[\d\u202f]*(?:,(\d+))?)</td>')


@pytest.mark.parametrize(
    "path", [f"/nyckeltal/{SCHOOL}?kommun={KUNGSBACKA}", "/nyckeltal/N00945?kommun=1384"]
)
def test_a_figures_data_table_has_one_set_of_decimals_per_column(
    analysis_site: TestClient, path: str
) -> None:
    page = analysis_site.get(path).text
    tables = re.findall(r'(?s)<details class="data-table">.*?</table>', page)
    assert tables, path
    checked = 0
    for table in tables:
        columns: dict[int, set[int]] = {}
        for row in re.findall(r"(?s)<tr[^>]*>(.*?)</tr>", table):
            cells = re.findall(r"(?s)<t[dh][^>]*>.*?</t[dh]>", row)
            for i, cell in enumerate(cells):
                if match := _NUMBER_CELL.fullmatch(cell):
                    columns.setdefault(i, set()).add(len(match[2] or ""))
        assert all(len(d) == 1 for d in columns.values()), (columns, path)
        checked += len(columns)
    assert checked, path
