"""`tillit bank import-jsonl` (texts from JSON Lines as published examples) and
`tillit bank search` (Swedish search in the bank)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from tillit.cli._app import bank_app, parse_years
from tillit.cli._output import (
    Format,
    RichProgress,
    emit,
    err_console,
    number,
    out_console,
    shown_of,
)
from tillit.config import load_settings
from tillit.errors import InvalidInputError, NoDataError, NotFoundError
from tillit.swedish import count


@bank_app.command("import-jsonl")
def bank_import_jsonl(
    file: Path = typer.Argument(..., help="JSON Lines-filen, ett objekt per rad."),
    spec: str | None = typer.Option(
        None,
        "--map",
        help="Fält=källfält, t.ex. title=Projektnamn,summary=Projektbeskrivning,"
        "organisation=Stödmottagare. Utelämnad: den kända mappningen för filer i "
        "good_practices_text.",
    ),
    organisation: str | None = typer.Option(
        None, "--organisation", help="Lägg alla exempel hos denna organisation (kod eller namn)."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Läs bara de första N posterna."),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="Slag av text: example (gott exempel), project (projektbeskrivning), "
        "press_release (pressmeddelande) eller text (importerad text). Utelämnad: den "
        "kända källans, annars text.",
    ),
    source_name: str | None = typer.Option(
        None, "--source-name", help="Vem som publicerade texterna. Utelämnad: den kända källan."
    ),
    source_url: str | None = typer.Option(
        None,
        "--source-url",
        help="Länk till källan för poster utan egen länk (fältet url i --map).",
    ),
) -> None:
    """Läs in texter ur en JSON Lines-fil i banken, publicerade, med slag och källa."""
    from tillit.bank import KIND_LABELS, import_jsonl, open_bank

    bank = open_bank(load_settings().database_url)
    try:
        with RichProgress(err_console(), unit="poster") as progress, bank.engine.begin() as conn:
            progress.stage(f"Läser in {file.name}", None)

            def advance(done: int, total: int) -> None:
                progress.bar.update(progress.task, completed=done, total=total, rows=done)

            report = import_jsonl(
                conn,
                file,
                spec,
                organisation=organisation,
                limit=limit,
                on_progress=advance,
                kind=kind,
                source_name=source_name,
                source_url=source_url,
            )
    finally:
        bank.close()
    console = out_console()
    console.print(
        f"Läste in {count(report.imported, 'text')} ({KIND_LABELS[report.kind]}) ur "
        f"{escape(report.file)} på "
        f"{number(report.seconds, 1)} s ({number(report.read)} poster lästa, "
        f"{number(report.skipped_existing)} fanns redan, {number(report.skipped_empty)} "
        "utan titel).",
        highlight=False,
    )
    if report.mapped_areas or report.unmapped_areas:
        console.print(
            f"Verksamhetsområde: {number(report.mapped_areas)} texter fick ett av Koladas "
            f"områden ur källans kategori; {number(report.unmapped_areas)} har en kategori som "
            "inget område motsvarar och fick inget (tabellen: docs/bank.md).",
            highlight=False,
        )
    if report.repaired:
        console.print(
            'Reparerad teckenkodning (UTF-8 läst som Latin-1, t.ex. "SkÃ¥ne" → "Skåne"): '
            f"{number(report.repaired)} poster, {number(report.repaired_runs)} tecken.",
            highlight=False,
        )
    if report.damaged:
        shown = ", ".join(f"{i} ({what})" for i, what in report.damaged[:10])
        more = f" och {number(report.reported - 10)} till" if report.reported > 10 else ""
        console.print(
            f"Rapporterade, behållna som de är: {number(report.reported)} poster med tecken "
            f"som inte går att återställa (¿ där källan tappade citattecken/tankstreck, Ã): "
            f"{escape(shown)}{more}.",
            highlight=False,
        )


@bank_app.command("search")
def bank_search(
    text: str = typer.Argument(..., help='Sökord; "citat" för fras, ord* för prefix.'),
    area: str | None = typer.Option(None, "--area", help="Verksamhetsområde."),
    municipality: str | None = typer.Option(
        None, "--municipality", help="Kommunens namn eller kod, t.ex. Kungsbacka eller 1384."
    ),
    region: str | None = typer.Option(
        None, "--region", help="Regionens namn eller kod, t.ex. Halland eller 0013."
    ),
    principle: str | None = typer.Option(None, "--principle", help="Tillitsprincip, t.ex. tillit."),
    years: str | None = typer.Option(None, "--year", help="År eller intervall: 2020, 2015-2020."),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="Bara ett slag av text: example (goda exempel), project, press_release eller "
        "text. Utelämnad: alla texter i banken.",
    ),
    limit: int = typer.Option(20, "--limit", help="Antal träffar."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json eller csv."),
) -> None:
    """Sök bland bankens publicerade texter: goda exempel och inlästa texter (svensk böjning,
    prefix, filter)."""
    from tillit.bank import EXAMPLE_KINDS, KIND_LABELS, SearchFilters, open_bank, search_examples

    if limit < 1:
        raise InvalidInputError("--limit måste vara minst 1.")
    if kind is not None and kind not in EXAMPLE_KINDS:
        raise InvalidInputError(
            f"{kind!r} är inget slag av text.",
            hint="Välj bland: " + ", ".join(f"{k} ({KIND_LABELS[k]})" for k in EXAMPLE_KINDS) + ".",
        )
    year_list = parse_years(years)
    bank = open_bank(load_settings().database_url)
    try:
        with bank.engine.connect() as conn:
            filters = SearchFilters(
                operating_area=area,
                kind=kind,
                municipality=_place_code(conn, municipality, "kommun"),
                region=_place_code(conn, region, "region"),
                principle=principle,
                year_from=year_list[0] if year_list else None,
                year_to=year_list[-1] if year_list else None,
            )
            result = search_examples(conn, text, filters=filters, limit=limit)
    finally:
        bank.close()
    rows = [
        {
            "id": h.example_id,
            "title": h.title,
            "organisation": h.organisation,
            "kind": h.kind,
            "source_url": h.source_url,
            "score": round(h.score, 4),
            "snippet_html": h.snippet_html,
        }
        for h in result.hits
    ]
    if fmt is not Format.table:
        keys = ["id", "title", "organisation", "kind", "source_url", "score", "snippet_html"]
        emit(rows, fmt, keys=keys)
        return
    console = out_console()
    if not rows:
        console.print(f"Inga texter matchar {escape(text)!r}.", highlight=False)
        return
    for row in rows:
        what = "" if row["kind"] == "example" else f" ({KIND_LABELS[str(row['kind'])]})"
        console.print(
            f"[bold]{row['id']}[/bold] {escape(str(row['title']))} – "
            f"{escape(str(row['organisation']))}{what}",
            highlight=False,
        )
        console.print(f"   {_terminal(str(row['snippet_html']))}", highlight=False)
    note = (
        " (inga exakta träffar; visar prefixträffar utan hänsyn till å/ä/ö)"
        if result.fallback_used
        else ""
    )
    console.print(f"{shown_of(len(rows), result.total, 'träff')}{note}.", highlight=False)


def _place_code(conn: Any, text: str | None, kind: str) -> str | None:
    """A municipality's or region's code from its name or code: Kolada's catalogue in the
    store when there is one, else the bank's own organisations."""
    if not text or not text.strip():
        return None
    from tillit.bank import organisation_code
    from tillit.store import Store

    wanted = text.strip()
    if wanted.isdigit():
        return wanted
    settings = load_settings()
    try:
        row = Store(settings.store_dir, memory_limit=settings.memory_limit).municipality(wanted)
        if kind == "region" and row.get("type") == "K":
            raise NotFoundError(f"{row['title']} är en kommun, inte en region.")
        return str(row["id"])
    except NoDataError:
        pass
    code = organisation_code(conn, wanted, kind=kind)
    if code is None:
        noun = "kommun" if kind == "kommun" else "region"
        raise NotFoundError(
            f"Hittar ingen {noun} som heter {wanted!r} i banken.",
            hint=f"Ange koden, t.ex. {'1384' if kind == 'kommun' else '0013'}, eller hämta "
            "Koladas kommunlista med `tillit sync --metadata`.",
        )
    return code


def _terminal(snippet_html: str) -> str:
    """The snippet as Rich markup: hits in bold, HTML entities back to characters."""
    parts = re.split(r"(</?mark>)", snippet_html)
    tags = {"<mark>": "[bold yellow]", "</mark>": "[/bold yellow]"}
    return "".join(tags.get(p) or escape(html.unescape(p)) for p in parts)
