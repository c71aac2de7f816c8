"""Text that comes from data (Kolada's titles, a user's file, a search word) is printed as text:
Rich markup in it is neither run nor a crash, and terminal control sequences never reach the
terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tillit.cli import main
from tillit.config import Settings
from tillit.store import Store
from tillit.sync import import_path

BRACKETS = "Andel [%] elever [/] med [bold]behörighet[/bold]"
LINK = "[link=http://evil.example]Klicka här[/link]"
ESCAPES = "Röd\x1b[31m text\x1b]8;;http://evil.example\x1b\\ och \x9b2J\x07 klart"


@pytest.fixture
def odd_store(tillit_env: Settings, tmp_path: Path) -> Store:
    store = Store(tillit_env.store_dir)
    kpis = tmp_path / "kpi.json"
    kpis.write_text(
        json.dumps(
            [
                {"id": "N00001", "title": BRACKETS, "operating_area": "Skola [/]"},
                {"id": "N00002", "title": LINK, "operating_area": "Länk"},
                {"id": "N00003", "title": ESCAPES, "operating_area": "Styr\x1b[2J"},
            ]
        )
    )
    munis = tmp_path / "municipality.json"
    munis.write_text(
        json.dumps(
            [
                {"id": "0180", "title": "Stockholm [/]", "type": "K"},
                {
                    "id": "1280",
                    "title": "Malmö\x1b[5m[link=http://evil.example]x[/link]",
                    "type": "K",
                },
            ]
        )
    )
    values = tmp_path / "values.csv"
    values.write_text(
        "kpi,municipality_id,year,gender,value\n"
        + "".join(f"N0000{k},{m},2020,T,1.5\n" for k in (1, 2, 3) for m in ("0180", "1280"))
    )
    for path in (kpis, munis, values):
        import_path(store, path)
    return store


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 0, text
    return text


def _assert_safe(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, repr(text)


def test_kpi_search_prints_titles_with_brackets_and_links_as_text(
    odd_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _run(["kpi", "search", "andel"], capsys)
    assert "Andel [%] elever [/] med [bold]behörighet[/bold]" in text
    text = _run(["kpi", "search", "klicka"], capsys)
    assert "[link=http://evil.example]Klicka här[/link]" in text


def test_control_sequences_from_data_never_reach_the_terminal(
    odd_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _run(["kpi", "search", "röd"], capsys)
    _assert_safe(text)
    assert "Röd" in text and "klart" in text
    _assert_safe(_run(["kpi", "show", "N00003"], capsys))
    _assert_safe(_run(["municipality", "search", "malmö"], capsys))


def test_values_and_municipality_search_escape_names_and_titles(
    odd_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _run(["values", "N00001", "N00002", "N00003", "--municipality", "0180"], capsys)
    _assert_safe(text)
    assert "Stockholm [/]" in text and "[link=http://evil.example]" in text
    text = _run(["values", "N00001", "--municipality", "0180", "--municipality", "1280"], capsys)
    _assert_safe(text)
    assert "[/]" in text and "[link=http://evil.example]x[/link]" in text
    text = _run(["municipality", "search", "stockholm"], capsys)
    assert "Stockholm [/]" in text
    text = _run(["municipality", "show", "1280"], capsys)
    _assert_safe(text)
    assert "[link=http://evil.example]x[/link]" in text


def test_a_search_word_with_markup_is_echoed_as_text(
    odd_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _run(["kpi", "search", "[/]zzz\x1b[2J"], capsys)
    _assert_safe(text)
    assert "[/]zzz" in text
    text = _run(["municipality", "search", "[link=http://evil.example]q"], capsys)
    assert "[link=http://evil.example]q" in text


def test_a_warning_with_markup_from_kolada_is_printed_as_text(
    tillit_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kpi.json"
    # An unknown field's name is echoed in a schema-drift warning ("Obs: …").
    path.write_text(json.dumps([{"id": "N00001", "title": "T", "auspice": "E", "x[/]": 1}]))
    text = _run(["import", str(path)], capsys)
    assert "Obs:" in text and "x[/]" in text


def test_a_file_name_with_markup_is_printed_as_text(
    tillit_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "[bold]v[link=evil.example].csv"
    path.write_text("kpi,municipality_id,year,gender,value\nN00945,0180,2020,T,1\n")
    text = _run(["import", str(path)], capsys)
    assert "Klart: [bold]v[link=evil.example].csv" in text


def test_a_description_with_windows_line_ends_keeps_its_lines_and_no_carriage_return(
    tillit_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kpi.json"
    description = "Första raden.\r\nAndra raden.\rsynlig text"
    path.write_text(
        json.dumps([{"id": "N00001", "title": "T", "auspice": "E", "description": description}])
    )
    _run(["import", str(path)], capsys)
    text = _run(["kpi", "show", "N00001"], capsys)
    assert "\r" not in text and "\ufffd" not in text
    assert "Första raden." in text and "Andra raden." in text and "synlig text" in text


def test_every_console_shows_link_markup_from_data_as_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Tillit never writes [link=…] itself, so any that reaches a console came from data, even
    in a message of a command that forgot to escape its data."""
    from tillit.cli._output import err_console, out_console

    name = "Malmö [link=http://evil.example]klicka[/link]"
    out_console().print(f"[bold]Kommun:[/bold] {name}")
    err_console().print(f"Kommun: {name}\x1b[2J")
    captured = capsys.readouterr()
    assert "Kommun: Malmö [link=http://evil.example]klicka[/link]" in captured.out
    assert "[link=http://evil.example]klicka[/link]" in captured.err
    _assert_safe(captured.out + captured.err)


@pytest.fixture
def odd_analysis_env(
    analysis_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A copy of the analysis store where every municipality's name and N31807's title carry
    markup: the analyses' messages must print them as they are."""
    import shutil

    from tests.conftest import METADATA

    home = tmp_path / "home"
    shutil.copytree(analysis_settings.home, home)
    settings = Settings(home=home)
    store = Store(settings.store_dir)
    munis = json.loads((METADATA / "municipality_v3_2026-03.values.json").read_text())
    rows = munis["values"] if isinstance(munis, dict) else munis
    for row in rows:
        row["title"] = f"{row['title']} [i]"
    odd_munis = tmp_path / "municipality.json"
    odd_munis.write_text(json.dumps(munis))
    odd_kpi = tmp_path / "kpi.json"
    kpis = json.loads((METADATA / "kpi_v3_2026-03.values.json").read_text())
    kpi_rows = kpis["values"] if isinstance(kpis, dict) else kpis
    row = next(r for r in kpi_rows if r["id"] == "N31807")
    odd_kpi.write_text(json.dumps([{**row, "title": f"Bistånd {BRACKETS} {LINK}"}]))
    import_path(store, odd_munis)
    import_path(store, odd_kpi)
    monkeypatch.setenv("TILLIT_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("TILLIT_POLARITY_FILE", raising=False)
    return settings


def test_the_analyses_print_names_and_titles_with_markup_as_text(
    odd_analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["compare", "2180", "N31807"],
        ["trend", "2180", "N31807"],
        ["peers", "2180"],
        ["learn", "2180"],
    ):
        text = _run(argv, capsys)
        _assert_safe(text)
        assert "Gävle [i]" in text, (argv, text)
        if argv[0] in ("compare", "trend"):
            assert "[bold]behörighet[/bold]" in text and "[link=http://evil.example]" in text
    learn = _run(["learn", "2180"], capsys)
    assert "Lär av " in learn and learn.count(" [i]") > 8  # the partners' names too


# -- the net under every message: no hyperlink from a link tag that data slipped into markup --
@pytest.mark.parametrize(
    "data",
    [
        "[link=https://evil.example]Klicka här[/link]",
        "[bold link https://evil.example]Klicka här[/]",
        "[bold LINK https://evil.example]Klicka här[/]",
        "[red on black link=https://evil.example]Klicka här[/]",
        "[bold  Link\thttps://evil.example]Klicka här[/]",
        "\\\\[link=https://evil.example]Klicka här[/]",  # two backslashes: still a real tag
    ],
)
def test_a_link_tag_in_a_markup_string_never_makes_a_hyperlink(data: str) -> None:
    import io

    from tillit.cli._output import _SafeConsole

    out = io.StringIO()
    console = _SafeConsole(file=out, force_terminal=True, color_system="truecolor", width=200)
    console.print(f"[bold]Fel:[/bold] {data}")  # data that missed safe()
    text = out.getvalue()
    assert "\x1b]8;" not in text, repr(text)
    assert "Klicka här" in text and "\x1b[1m" in text  # Tillit's own markup still works


def test_the_link_net_leaves_escaped_data_as_it_is() -> None:
    import io

    from tillit.cli._output import _SafeConsole, safe

    data = "\\[link=https://evil.example]Klicka här[/link] och [bold link x]y[/]"
    out = io.StringIO()
    _SafeConsole(file=out, width=200).print(f"Titel: {safe(data)}")
    assert out.getvalue() == f"Titel: {data}\n"
