"""`tillit remiss …`: consultations. Import the government's remiss pages, create a remiss with
its proposals, read the responses (PDF, DOCX, Markdown, text, HTML) with their stances per
proposal, review a stance, and compile the stances proposal by proposal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer

from tillit import swedish
from tillit.cli._app import remiss_app
from tillit.cli._output import RichProgress, err_console, out_console, safe
from tillit.config import Settings, load_settings
from tillit.errors import InvalidInputError, TillitError

if TYPE_CHECKING:
    from tillit.bank import Bank, UserRecord
    from tillit.query import PreparedResponse

_USER = typer.Option(None, "--user", "-u", help="Kontot som gör ändringen (e-post).")
_FORMATS = ("table", "json", "csv", "html", "docx", "xlsx")


def _bank(settings: Settings) -> Bank:
    from tillit.bank import open_bank

    return open_bank(settings.database_url)


def _actor(bank: Bank, email: str | None) -> UserRecord | None:
    """The acting user (--user): the command line runs on the machine that holds the bank,
    so it acts as that account without a password, like `tillit user`."""
    return None if email is None else bank.user_by_email(email)


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@remiss_app.command("import-sidor")
def import_pages_command(
    path: Path = typer.Argument(..., help="Regeringens remissidor som JSONL (g0vse-format)."),
    user: str | None = _USER,
) -> None:
    """Läs in remisser från regeringens remissidor: remitterat dokument, departement, sista
    svarsdag, diarienummer och remissinstanser (matchade mot organisationerna)."""
    from tillit.bank import import_remiss_pages

    settings = load_settings()
    bank = _bank(settings)
    try:
        report = import_remiss_pages(bank, path, actor=_actor(bank, user))
    finally:
        bank.close()
    console = out_console()
    console.print(
        f"{report.read} sidor lästa på {swedish.number(report.seconds, 1)} s: "
        f"{report.created} remisser nya, "
        f"{report.updated} ändrade, {report.unchanged} oförändrade."
    )
    console.print(
        f"Med remitterat dokument {report.with_document}, departement {report.with_ministry}, "
        f"sista svarsdag {report.with_deadline}, diarienummer {report.with_diarienummer}, "
        f"remissinstanser {report.with_bodies} (matchade {report.bodies_matched}, "
        f"omatchade {report.bodies_unmatched})."
    )
    if report.bodies_unmatched and not report.bodies_matched:
        console.print(
            "[yellow]Ingen remissinstans kunde matchas mot en organisation: banken har inga "
            "kommuner eller regioner än.[/yellow] Kör `tillit bank seed` och läs in sidorna "
            "igen; remisserna uppdateras."
        )
    if report.unparsed:
        console.print(f"[yellow]{len(report.unparsed)} rader kunde inte tolkas:[/yellow]")
        for line, why in report.unparsed[:20]:
            console.print(f"  rad {line}: {safe(why)}")


@remiss_app.command("ny")
def new_command(
    title: str = typer.Option(..., "--titel", help="Remissens titel."),
    document: str = typer.Option(
        "", "--dokument", help='Det remitterade dokumentet, t.ex. "SOU 2018:47".'
    ),
    ministry: str = typer.Option("", "--departement", help="Departementet."),
    diary: str = typer.Option("", "--diarienummer", help="Diarienumret, t.ex. Fi2018/02985."),
    deadline: str = typer.Option("", "--sista-dag", help="Sista svarsdag, ÅÅÅÅ-MM-DD."),
    proposals: Path | None = typer.Option(
        None, "--forslag", help='Förslagen: en fil med "7.1 Rubrik" per rad, eller en CSV.'
    ),
    bodies: list[str] = typer.Option(
        None,
        "--instans",
        help="En remissinstans (namn, t.ex. 'Ale kommun'); matchas mot organisationerna. "
        "Upprepa för fler.",
    ),
    user: str | None = _USER,
) -> None:
    """Skapa en remiss, med förslagen ur en fil (en rad per förslag) och remissinstanserna."""
    from tillit.bank import remisser_of
    from tillit.query import parse_proposals

    fields: dict[str, Any] = {
        "title": title,
        "document": document or None,
        "ministry": ministry or None,
        "diarienummer": diary or None,
        "deadline": _date(deadline) if deadline else None,
        "bodies": [name.strip() for name in bodies or () if name.strip()],
    }
    rows = parse_proposals(_read(proposals)) if proposals else []
    settings = load_settings()
    bank = _bank(settings)
    try:
        remisser = remisser_of(bank)
        actor = _actor(bank, user)
        record = remisser.create_remiss(actor, fields)
        if rows:
            record = remisser.set_proposals(actor, record.id, rows)
    finally:
        bank.close()
    out_console().print(
        f"Remiss {record.id} skapad: {safe(record.document or '')} {safe(record.title)} "
        f"({len(record.proposals)} förslag)."
    )


@remiss_app.command("forslag")
def proposals_command(
    remiss: str = typer.Argument(..., help="Remissen: nummer eller dokument (SOU 2018:47)."),
    path: Path = typer.Argument(
        ..., help='Förslagen: "7.1 Rubrik" per rad, eller en CSV; - läser stdin.'
    ),
    user: str | None = _USER,
) -> None:
    """Ange remissens förslag (ersätter de tidigare)."""
    from tillit.bank import remisser_of
    from tillit.query import parse_proposals

    rows = parse_proposals(_read(path))
    bank = _bank(load_settings())
    try:
        remisser = remisser_of(bank)
        actor = _actor(bank, user)
        record = remisser.set_proposals(actor, remisser.find_remiss(actor, remiss).id, rows)
    finally:
        bank.close()
    out_console().print(f"Remiss {record.id} har {len(record.proposals)} förslag.")


@remiss_app.command("svar")
def responses_command(
    remiss: str = typer.Argument(..., help="Remissen: nummer eller dokument (SOU 2018:47)."),
    paths: list[Path] = typer.Argument(..., help="Remissvaren: PDF, DOCX, Markdown, text, HTML."),
    respondent: str | None = typer.Option(
        None,
        "--remissinstans",
        help="Vem svaret är från (kod eller namn), om det inte går att läsa ur det.",
    ),
    user: str | None = _USER,
) -> None:
    """Läs in remissvar: texten, vem som svarar och ståndpunkterna per förslag."""
    from tillit.query import response_inputs, save_response

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InvalidInputError(
            f"Filen finns inte: {', '.join(missing)}.", hint="Ange remissvarens filer."
        )
    if respondent and len(paths) > 1:
        raise InvalidInputError(
            "--remissinstans gäller ett svar i taget.", hint="Läs in svaren ett och ett."
        )
    settings = load_settings()
    bank = _bank(settings)
    failed: list[str] = []
    read = 0
    try:
        actor = _actor(bank, user)
        record, proposals, organisations, override = response_inputs(
            bank, actor, remiss, respondent
        )
        with RichProgress(err_console(), unit="svar") as progress:
            progress.stage(f"Remissvar ({len(paths)})", total=len(paths))
            for path, prepared in _prepared(paths, proposals, organisations, override):
                try:
                    if isinstance(prepared, TillitError):
                        raise prepared
                    saved = save_response(bank, actor, record.id, prepared)
                    read += 1
                    if len(paths) == 1:
                        out_console().print(
                            f"{safe(path.name)}: {safe(saved.respondent_name)}, "
                            f"{len(saved.stances)} ståndpunkter."
                        )
                except TillitError as error:
                    failed.append(f"{error.message} {error.hint or ''}".strip())
                progress.advance()
    finally:
        bank.close()
    out_console().print(f"Läste in {read} av {len(paths)} remissvar.")
    if failed:
        err_console().print("[red]Kunde inte läsas:[/red]")
        for line in failed:
            err_console().print("  " + safe(line))
        raise typer.Exit(1)


#: From this many files on, the texts are read on every core (a PDF takes a second or so).
POOL_FROM = 4


def _prepare(
    path: str,
    proposals: list[tuple[str, str]],
    organisations: list[tuple[str, str]],
    override: tuple[str, str] | None,
) -> PreparedResponse | TillitError:
    """One response read and understood (in a worker process): the result, or the error."""
    from tillit.query import prepare_response

    source = Path(path)
    try:
        return prepare_response(
            source.read_bytes(), source.name, proposals, organisations, respondent=override
        )
    except TillitError as error:
        return error
    except OSError as error:
        return InvalidInputError(f"{source.name} kunde inte läsas: {error}.")


def _prepared(
    paths: list[Path],
    proposals: list[tuple[str, str]],
    organisations: list[tuple[str, str]],
    override: tuple[str, str] | None,
) -> Iterator[tuple[Path, PreparedResponse | TillitError]]:
    """Each file with its prepared response (or its error), in the order given; on every
    core from POOL_FROM files on."""
    if len(paths) < POOL_FROM:
        for path in paths:
            yield path, _prepare(str(path), proposals, organisations, override)
        return
    workers = max(1, min(len(os.sched_getaffinity(0)), len(paths)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
        futures = [
            pool.submit(_prepare, str(path), proposals, organisations, override) for path in paths
        ]
        for path, future in zip(paths, futures, strict=True):
            yield path, future.result()


@remiss_app.command("list")
def list_command(limit: int = typer.Option(50, "--limit", help="Högst så många.")) -> None:
    """Remisserna i banken, nyast först."""
    from tillit.bank import remisser_of

    bank = _bank(load_settings())
    try:
        records = remisser_of(bank).remisser(None, limit=limit)
    finally:
        bank.close()
    console = out_console()
    for r in records:
        deadline = f", sista dag {r.deadline.isoformat()}" if r.deadline else ""
        console.print(f"{r.id:>5}  {safe(r.document or '–')}  {safe(r.title)}{deadline}")


@remiss_app.command("sammanstallning")
def compilation_command(
    remiss: str = typer.Argument(..., help="Remissen: nummer eller dokument (SOU 2018:47)."),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="table, json, csv, html, docx eller xlsx."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Fil att skriva."),
    kinds: list[str] = typer.Option(
        None,
        "--slag",
        help="Bara remissinstanser av detta slag: kommun, region, myndighet, organisation.",
    ),
) -> None:
    """Sammanställ ståndpunkterna förslag för förslag: antal, vem som tycker vad, citaten."""
    from tillit.query import ANSWER_LABELS, compile_remiss
    from tillit.reports import remiss_bytes

    fmt = fmt.strip().lower()
    if fmt not in _FORMATS:
        raise InvalidInputError(
            f"Okänt format {fmt!r}.", hint="Välj table, json, csv, html, docx eller xlsx."
        )
    bank = _bank(load_settings())
    try:
        compilation = compile_remiss(bank, remiss, kinds=kinds or ())
    finally:
        bank.close()
    if fmt == "table":
        console = out_console()
        r = compilation.remiss
        answers = len(compilation.respondents)
        console.print(f"[bold]{safe(r.document or '')} {safe(r.title)}[/bold]: {answers} remissvar")
        for p in r.proposals:
            counts = compilation.counts(p.key)
            parts = ", ".join(
                f"{ANSWER_LABELS[s][1]} {ANSWER_LABELS[s][0].lower()} {counts[s]}"
                for s in ANSWER_LABELS
                if counts.get(s)
            )
            console.print(f"{safe(p.key)} {safe(p.heading)}: {parts}")
        if compilation.not_answered:
            console.print("Har inte svarat: " + safe(", ".join(compilation.not_answered)))
        return
    data = remiss_bytes(compilation, fmt)
    if output is None and fmt in ("json", "csv", "html"):
        sys.stdout.write(data.decode("utf-8"))
        return
    path = output or Path(f"remissammanstallning-{compilation.remiss.id}.{fmt}")
    try:
        path.write_bytes(data)
    except OSError as error:
        raise InvalidInputError(
            f"Kan inte skriva {path}: {error.strerror or error}.",
            hint="Ange en fil i en mapp som finns och där du får skriva, med --output.",
        ) from error
    out_console().print(f"Skrev {safe(str(path))}.")


def _read(path: Path | None) -> str:
    if path is None or str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(
            f"Kan inte läsa {path}: {error}.", hint="Ange en textfil i UTF-8."
        ) from error


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidInputError(
            f"{text!r} är inget datum.", hint="Skriv sista svarsdag som ÅÅÅÅ-MM-DD."
        ) from error


# -- review ----------------------------------------------------------------------------------


def _review(
    response_id: int, stance_id: int, user: str | None, done: str, act: Callable[..., object]
) -> None:
    """One review action, ``act(remisser, actor, stance)``, on the stance's current version."""
    from tillit.bank import remisser_of

    bank = _bank(load_settings())
    try:
        act(remisser_of(bank), _actor(bank, user), _stance_of(bank, response_id, stance_id))
    finally:
        bank.close()
    out_console().print(f"Ståndpunkt {stance_id} är {done}.")


def _stance_of(bank: Bank, response_id: int, stance_id: int) -> Any:
    """The stance ``stance_id`` of response ``response_id`` (its current version)."""
    from tillit.bank import remisser_of

    response = remisser_of(bank).response(None, response_id)
    for stance in response.stances:
        if stance.id == stance_id:
            return stance
    raise InvalidInputError(
        f"Svar {response_id} har ingen ståndpunkt {stance_id}.",
        hint=f"Se ståndpunkterna med `tillit remiss granska {response_id}`.",
    )


@remiss_app.command("granska")
def review_command(
    response_id: int = typer.Argument(..., help="Svarets nummer (se sammanställningen)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table eller json."),
) -> None:
    """Ett remissvars ståndpunkter: nummer, avsnitt, ståndpunkt, citat och sida, och om en
    granskare har bekräftat dem."""
    from tillit.bank import remisser_of
    from tillit.query import ANSWER_LABELS

    bank = _bank(load_settings())
    try:
        response = remisser_of(bank).response(None, response_id)
    finally:
        bank.close()
    rows: list[dict[str, Any]] = [
        {
            "id": s.id,
            "version": s.version,
            "section": s.proposal_key,
            "stance": s.stance,
            "quote": s.quote,
            "page": s.page,
            "basis": s.basis,
            "confirmed": s.confirmed,
            "source": s.source,
        }
        for s in sorted(response.stances, key=lambda s: s.start)
    ]
    if fmt == "json":
        _json({"response": response.id, "respondent": response.respondent_name, "stances": rows})
        return
    console = out_console()
    console.print(f"[bold]{safe(response.respondent_name)}[/bold] ({safe(response.file_name)})")
    for r in rows:
        mark = " ✓" if r["confirmed"] else ""
        quote = r["quote"] if len(r["quote"]) <= 90 else r["quote"][:87] + "…"
        console.print(
            f"{r['id']:>5}  {safe(r['section'] or 'hela')}  "
            f"{ANSWER_LABELS[r['stance']][0].lower()}{mark}  s. {r['page'] or '–'}: "
            f"”{safe(quote)}”"
        )


@remiss_app.command("bekrafta")
def confirm_command(
    response_id: int = typer.Argument(..., help="Svarets nummer."),
    stance_id: int = typer.Argument(..., help="Ståndpunktens nummer (se `granska`)."),
    user: str | None = _USER,
) -> None:
    """Bekräfta en ståndpunkt: den är rätt och ändras inte när svaret läses om."""
    _review(
        response_id,
        stance_id,
        user,
        "bekräftad",
        lambda r, a, s: r.confirm_stance(a, s.id, s.version),
    )


@remiss_app.command("ratta")
def correct_command(
    response_id: int = typer.Argument(..., help="Svarets nummer."),
    stance_id: int = typer.Argument(..., help="Ståndpunktens nummer (se `granska`)."),
    stance: str | None = typer.Option(
        None, "--standpunkt", help="tillstyrker, delvis, avstyrker eller inga_synpunkter."
    ),
    section: str | None = typer.Option(
        None, "--avsnitt", help="Förslaget den gäller (avsnittsnummer), eller 'hela' för remissen."
    ),
    user: str | None = _USER,
) -> None:
    """Rätta en ståndpunkt (den blir granskarens, bekräftad; ändringen loggas)."""
    changes: dict[str, Any] = {}
    if stance is not None:
        changes["stance"] = stance.strip().lower()
    if section is not None:
        changes["proposal_key"] = None if section.strip().lower() == "hela" else section.strip()
    if not changes:
        raise InvalidInputError(
            "Ange vad som ska rättas.", hint="T.ex. --standpunkt delvis eller --avsnitt 7.1."
        )
    _review(
        response_id,
        stance_id,
        user,
        "rättad",
        lambda r, a, s: r.correct_stance(a, s.id, s.version, changes),
    )


@remiss_app.command("ta-bort")
def delete_command(
    response_id: int = typer.Argument(..., help="Svarets nummer."),
    stance_id: int = typer.Argument(..., help="Ståndpunktens nummer (se `granska`)."),
    user: str | None = _USER,
) -> None:
    """Ta bort en felaktig ståndpunkt (den kommer inte tillbaka när svaret läses om)."""
    _review(
        response_id,
        stance_id,
        user,
        "borttagen",
        lambda r, a, s: r.delete_stance(a, s.id, s.version),
    )
