"""`tillit report`: the yearly analysis report of a municipality or a region (HTML, PDF/UA,
Excel or JSON), of all of them at once (`--alla`, with a progress bar, the PDFs rendered
on every core), and the national report (`--riket`)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tillit.cli._app import app, store_for
from tillit.cli._output import RichProgress, err_console, out_console, safe
from tillit.errors import InvalidInputError, NoDataError, TillitError

if TYPE_CHECKING:
    from tillit.bank import Bank, TrialRecord
    from tillit.config import Settings
    from tillit.query import Atlas, Loaded, TrialEvaluation
    from tillit.query._yearly import Evaluate, YearlyReport
    from tillit.store import Store

_FORMATS = ("html", "pdf", "xlsx", "json")


def _format(text: str) -> str:
    fmt = text.strip().lower()
    if fmt not in _FORMATS:
        raise InvalidInputError(
            f"Okänt format {text!r} för rapporten.",
            hint="Välj --format html, pdf, xlsx eller json.",
        )
    return fmt


def _atlas(settings: Settings, store: Store) -> Atlas:
    from tillit.query import Atlas, polarity_overrides

    # The same analyses as the web pages (Atlas with its defaults), so that the report's
    # numbers are the page's.
    return Atlas(store, overrides=polarity_overrides(settings))


def _state(atlas: Atlas, kind: str, year: int | None, code: str | None = None) -> Loaded:
    """The analyses for the report: all units' (``code`` None), or one unit's."""
    state = atlas.loaded(kind) if code is None else atlas.loaded_for(code, kind)
    if year is None or year == state.year:
        return state
    if year > state.year:
        raise InvalidInputError(
            f"Arkivet har värden till och med {state.year}, inte {year}.",
            hint=f"Ange --ar {state.year} eller tidigare, eller hämta nyare värden med "
            "`tillit sync`.",
        )
    try:
        if code is not None:
            return atlas.loaded_for(code, kind, as_of=year)
        return atlas.loaded(kind, as_of=year)
    except NoDataError as error:  # no values that early: in this command's words
        raise NoDataError(error.message, hint="Välj ett senare år med --ar.") from error


def _open_bank(settings: Settings) -> Bank | None:
    """The bank for goals, trials and examples; None when it cannot be opened (the report
    then says there are none, and the note says why)."""
    from tillit.bank import open_bank
    from tillit.errors import TillitError

    try:
        return open_bank(settings.database_url)
    except TillitError as error:
        err_console().print(
            f"[yellow]Banken kunde inte öppnas ({safe(str(error))}); rapporten visar inga "
            "mål, försök eller exempel.[/yellow]"
        )
        return None


def _evaluator(store: Store, bank: Bank | None) -> Evaluate | None:
    """Each trial's KPIs evaluated as on the trial's page, all of a trial's at once (seconds
    to a minute) and stored in the bank, so that the page and the next report reuse them."""
    from tillit.query import trial_evaluations

    if bank is None:
        return None
    done: dict[int, dict[str, TrialEvaluation]] = {}

    def evaluate(trial: TrialRecord, kpi: str) -> TrialEvaluation:
        if trial.id not in done:
            result = trial_evaluations(store, bank, trial.id)
            done[trial.id] = {e.kpi: e for e in result.evaluations}
        return done[trial.id][kpi]

    return evaluate


@app.command("report", rich_help_panel="Jämföra och lära")
def report_command(
    municipality: str = typer.Argument(
        None, help="Kommun eller region, namn eller kod (utelämna med --alla eller --riket)."
    ),
    year: int | None = typer.Option(
        None, "--ar", metavar="ÅR", help="Rapportens år (standard: det senaste i arkivet)."
    ),
    fmt: str = typer.Option("html", "--format", "-f", help="html, pdf, xlsx eller json."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Fil att skriva (med --alla: en mapp). Utan: html och json till skärmen, "
        "pdf och xlsx till en fil med rapportens namn.",
    ),
    everyone: bool = typer.Option(
        False, "--alla", help="En rapport för var och en av de 290 kommunerna, i --output."
    ),
    regions: bool = typer.Option(
        False, "--regioner", help="Med --alla: de 21 regionerna i stället för kommunerna."
    ),
    national: bool = typer.Option(
        False,
        "--riket",
        help="Den nationella rapporten: kommuner och regioner som presterar väl, per område.",
    ),
    base: str = typer.Option(
        "", "--bas", help="Serverns adress, t.ex. https://tillit.example.se, för länkarna."
    ),
) -> None:
    """Årlig analys av resultaten: sammanfattning, mål, resultat mot liknande, utveckling,
    vem man kan lära av, försök, metod och källor."""
    fmt = _format(fmt)
    if sum((bool(municipality), everyone, national)) != 1:
        raise InvalidInputError(
            "Ange en kommun eller region, eller --alla, eller --riket.",
            hint="T.ex. `tillit report Kungsbacka --format pdf` eller "
            "`tillit report --alla --format pdf --output rapporter`.",
        )
    if regions and not everyone:
        raise InvalidInputError(
            "--regioner hör ihop med --alla.",
            hint='För en region, ange den: `tillit report "Region Halland"`.',
        )
    settings, store = store_for()
    atlas = _atlas(settings, store)
    if national:
        _national(settings, store, atlas, year, fmt, output, base)
        return
    bank = _open_bank(settings)
    try:
        if everyone:
            _all(settings, store, atlas, bank, "L" if regions else "K", year, fmt, output, base)
        else:
            _one(settings, store, atlas, bank, municipality, year, fmt, output, base)
    finally:
        if bank is not None:
            bank.close()


def _one(
    settings: Settings,
    store: Store,
    atlas: Atlas,
    bank: Bank | None,
    municipality: str,
    year: int | None,
    fmt: str,
    output: Path | None,
    base: str,
) -> None:
    from tillit.query import resolve_municipality, yearly_report
    from tillit.reports import report_bytes, report_filename

    unit = resolve_municipality(store, municipality)
    state = _state(atlas, str(unit.get("type") or "K"), year, str(unit["id"]))
    report = yearly_report(
        state,
        municipality,
        bank=bank,
        evaluate=_evaluator(store, bank),
        goals_max=settings.goals_max,
    )
    data = report_bytes(report, fmt, base=base)
    _emit(data, fmt, output, report_filename(report, fmt), f"{report.name} {report.year}")


def _emit(data: bytes, fmt: str, output: Path | None, name: str, what: str) -> None:
    """A report to standard output (html and json without --output) or to its file."""
    if output is None and fmt in ("html", "json"):
        sys.stdout.write(data.decode("utf-8"))
        return
    path = output or Path(name)
    _write(path, data)
    out_console().print(f"Skrev {safe(str(path))} ({what}, {fmt}).")


def _write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_bytes(data)
    os.replace(partial, path)


def _all(
    settings: Settings,
    store: Store,
    atlas: Atlas,
    bank: Bank | None,
    kind: str,
    year: int | None,
    fmt: str,
    output: Path | None,
    base: str,
) -> None:
    from tillit.query import yearly_report
    from tillit.reports import report_bytes, report_filename, report_html

    if output is None:
        raise InvalidInputError(
            "--alla skriver en fil per kommun och behöver en mapp.",
            hint="Ange --output MAPP, t.ex. `--output rapporter`.",
        )
    if output.exists() and not output.is_dir():
        raise InvalidInputError(
            f"{output} är en fil, inte en mapp.", hint="Ange en mapp med --output."
        )
    output.mkdir(parents=True, exist_ok=True)
    state = _state(atlas, kind, year)
    codes = list(state.evidence.municipalities)
    evaluate = _evaluator(store, bank)
    word = "regioner" if kind == "L" else "kommuner"
    failed: list[str] = []

    def build(code: str) -> YearlyReport | None:
        """One unit's report; a unit whose report cannot be made is named at the end."""
        try:
            return yearly_report(
                state, code, bank=bank, evaluate=evaluate, goals_max=settings.goals_max
            )
        except TillitError as error:
            failed.append(f"{state.context.names.get(code, code)}: {error.message}")
            return None

    with RichProgress(err_console(), unit="rapporter") as progress:
        progress.stage(f"Rapporter för {len(codes)} {word} ({fmt})", total=len(codes))
        if fmt != "pdf":
            for code in codes:
                report = build(code)
                if report is not None:
                    data = report_bytes(report, fmt, base=base)
                    _write(output / report_filename(report, fmt), data)
                progress.advance()
        else:
            # The PDF layout is the cost (seconds a report): one process a core lays them out
            # while this one builds the next reports' HTML.
            workers = max(1, len(os.sched_getaffinity(0)))
            context = get_context("forkserver")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                pending: list[tuple[str, Future[str | None]]] = []
                for code in codes:
                    report = build(code)
                    if report is None:
                        progress.advance()
                        continue
                    html = report_html(report, base=base, inline_css=False)
                    path = output / report_filename(report, "pdf")
                    pending.append((report.name, pool.submit(_pdf_file, html, str(path))))
                    while len([f for _, f in pending if not f.done()]) > 2 * workers:
                        _settle(pending, progress, failed, wait=True)
                    _settle(pending, progress, failed)
                while pending:
                    _settle(pending, progress, failed, wait=True)
    done = len(codes) - len(failed)
    out_console().print(f"Skrev {done} rapporter ({fmt}) i {safe(str(output))}.")
    if failed:
        err_console().print("[red]Misslyckades:[/red] " + safe("; ".join(failed)))
        raise typer.Exit(1)


def _settle(
    pending: list[tuple[str, Future[str | None]]],
    progress: RichProgress,
    failed: list[str],
    *,
    wait: bool = False,
) -> None:
    """Count the finished PDFs (waiting for the oldest when ``wait``)."""
    if wait and pending:
        pending[0][1].result()
    for item in [p for p in pending if p[1].done()]:
        pending.remove(item)
        error = item[1].result()
        if error:
            failed.append(f"{item[0]}: {error}")
        progress.advance()


def _pdf_file(html: str, path: str) -> str | None:
    """Render one PDF into ``path`` (in a worker process); the error's text, or None."""
    from tillit.reports import pdf_from_html, print_stylesheet
    from tillit.reports._document import report_css

    try:
        data = pdf_from_html(html, stylesheets=(report_css(), print_stylesheet()))
        _write(Path(path), data)
    except Exception as error:  # one report's failure (or a full disk) is reported, not fatal
        return str(error) if isinstance(error, TillitError) else f"{type(error).__name__}: {error}"
    return None


def _national(
    settings: Settings,
    store: Store,
    atlas: Atlas,
    year: int | None,
    fmt: str,
    output: Path | None,
    base: str,
) -> None:
    """The national report over the municipalities and, when the store has them, the
    regions."""
    from tillit.errors import NoDataError
    from tillit.query import national_yearly_report
    from tillit.reports import national_bytes, national_filename

    states = [_state(atlas, "K", year)]
    try:
        states.append(_state(atlas, "L", year))
    except NoDataError as error:
        err_console().print(f"[yellow]Regionerna tas inte med: {safe(str(error))}[/yellow]")
    report = national_yearly_report(states)
    data = national_bytes(report, fmt, base=base)
    _emit(data, fmt, output, national_filename(report, fmt), f"hela landet {report.year}")
