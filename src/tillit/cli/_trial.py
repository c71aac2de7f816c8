"""`tillit trial …`: register trials (försök) and evaluate them with a synthetic control;
`evaluate-panel` does the same for any long panel in a CSV file."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.markup import escape

from tillit.cli._app import parse_years, split_ids, store_for, trial_app
from tillit.cli._output import Format, RichProgress, emit, err_console, number, out_console
from tillit.config import Settings
from tillit.errors import InvalidInputError, NoDataError
from tillit.store import LICENCE
from tillit.swedish import (
    change_unit,
    decimals_for,
    difference,
    kpi_label,
    p_value,
    side_by_side,
)

# The bank (SQLAlchemy) and the analyses (numpy, scipy) load when a trial command runs.
if TYPE_CHECKING:
    from tillit.analyses import SynthEvaluation
    from tillit.bank import Bank, TrialRecord, UserRecord
    from tillit.query import TrialEvaluation, TrialEvaluations


_FMT = typer.Option(Format.table, "--format", "-f", help="table eller json.")
_WORKERS = typer.Option(
    None,
    "--workers",
    "-w",
    help="Processer för placebotesterna (standard: antalet kärnor, högst 2).",
)
_DIRECTION_WORDS = {"increase": "ökning", "decrease": "minskning"}
_LEVEL = typer.Option(
    "0,1",
    "--niva",
    "--alpha",
    help="Signifikansnivån bedömningen gör anspråk på (standard 0,1). Lägsta möjliga p är "
    "1/(J + 1) med J jämförbara: en lägre nivå än så ger beskedet för få jämförbara.",
)


def _level(text: str) -> float:
    """A significance level as typed, with a decimal comma or point: "0,05" → 0.05."""
    try:
        level = float(text.strip().replace(",", "."))
    except ValueError:
        level = float("nan")
    if not 0 < level < 1:
        raise InvalidInputError(
            f"Signifikansnivån ska vara ett tal mellan 0 och 1, inte {text!r}.",
            hint="T.ex. --niva 0,05.",
        )
    return level


def _bank(settings: Settings) -> Bank:
    from tillit.bank import open_bank

    return open_bank(settings.database_url)


def _actor(bank: Bank, email: str | None) -> UserRecord | None:
    """The acting user: the account named with --user. The command line runs on the machine
    that holds the bank, so it acts as that account without a password, like `tillit user`."""
    return None if email is None else bank.user_by_email(email)


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _no_csv(fmt: Format) -> None:
    if fmt is Format.csv:
        raise InvalidInputError("Försök visas som tabell eller JSON.", hint="Använd -f json.")


class _Fits:
    """The evaluation's map function: runs the independent fits (placebos, leave-one-out)
    in ``workers`` processes and advances a progress bar as each one ends."""

    def __init__(self, workers: int | None) -> None:
        self.workers = max(1, min(2, os.cpu_count() or 1) if workers is None else workers)
        self.progress = RichProgress(err_console(), unit="anpassningar")
        self.executor: Executor | None = None

    def __enter__(self) -> _Fits:
        if self.workers > 1:
            self.executor = ProcessPoolExecutor(self.workers)
        # The bar starts with the placebo fits: an early error (a missing column) prints none.
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)

    def __call__(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        jobs = list(items)
        self.progress.stage("Placebotester och kontroller", len(jobs))
        results = self.executor.map(function, jobs) if self.executor else map(function, jobs)
        for result in results:
            self.progress.advance()
            yield result
        self.progress.stage("Placebo i tiden", None)


# -- register, show, list -----------------------------------------------------------------


def _kpi_items(values: list[str]) -> list[dict[str, str]]:
    items = []
    for text in split_ids(values):
        kpi, sep, direction = text.partition(":")
        if not sep:
            raise InvalidInputError(
                f"Ange riktningen för {text}.",
                hint="T.ex. --kpi N15419:ökning (eller :minskning; :upp och :ner går också).",
            )
        items.append({"kpi": kpi.strip(), "direction": direction.strip()})
    return items


@trial_app.command("register")
def trial_register(
    municipality: str = typer.Option(
        ...,
        "--kommun",
        "--region",
        "--municipality",
        "-m",
        help="Kommunen eller regionen (t.ex. Region Halland), namn eller kod.",
    ),
    start: int = typer.Option(..., "--start", help="Första året förändringen gällde."),
    title: str = typer.Option(..., "--titel", "--title", help="Försökets namn."),
    description: str = typer.Option(
        ..., "--beskrivning", "--description", help="Vad som ändrades och varför."
    ),
    kpis: list[str] = typer.Option(
        ...,
        "--kpi",
        "-k",
        help="Nyckeltal och väntad riktning, t.ex. N15419:ökning (ökning/minskning, upp/ner);"
        " upprepa för fler.",
    ),
    example: int | None = typer.Option(
        None, "--exempel", "--example", help="Id för ett gott exempel i banken."
    ),
    organisation: str | None = typer.Option(
        None,
        "--organisation",
        help="Ägande organisation: kod, namn eller id (standard: kontots egen).",
    ),
    user: str = typer.Option(..., "--user", "-u", help="Kontot som registrerar (e-post)."),
    fmt: Format = _FMT,
) -> None:
    """Registrera ett försök i en kommun eller en region, helst innan något utfall efter
    starten finns."""
    from tillit.query import register_trial, trial_data

    _no_csv(fmt)
    settings, store = store_for()
    data: dict[str, Any] = {
        "municipality": municipality,
        "title": title,
        "description": description,
        "start_year": start,
        "kpis": _kpi_items(kpis),
    }
    if example is not None:
        data["example_id"] = example
    if organisation is not None:
        data["organisation_id"] = organisation
    bank = _bank(settings)
    try:
        trial = register_trial(store, bank, _actor(bank, user), data)
    finally:
        bank.close()
    if fmt is Format.json:
        _json(trial_data(trial))
        return
    out_console().print(f"Försöket är registrerat med id {trial.id}.", highlight=False)
    _print_trial(trial, _name(store, trial.municipality), _kpi_titles(store))
    out_console().print(f"Utvärdera det med `tillit trial evaluate {trial.id}`.", highlight=False)


def _name(store: Any, code: str) -> str:
    return next((m["title"] for m in store.municipalities() if m["id"] == code), code)


def _kpi_titles(store: Any) -> dict[str, str]:
    """KPI titles by id, to name a KPI to a person (none without Kolada's metadata)."""
    try:
        return {r["id"]: r["title"] for r in store.kpis()}
    except NoDataError:
        return {}


def _direction(direction: str) -> str:
    return _DIRECTION_WORDS.get(direction, direction)


def _print_trial(trial: TrialRecord, name: str, titles: dict[str, str]) -> None:
    console = out_console()
    console.print(
        f"[bold]{trial.id}. {escape(trial.title)}[/bold] – {escape(name)} ({trial.municipality}),"
        f" från {trial.start_year}; {escape(trial.organisation_name)}, version {trial.version}",
        highlight=False,
    )
    console.print(escape(trial.description), highlight=False)
    if trial.example_id is not None:
        console.print(
            f"Gott exempel: {trial.example_id} {escape(trial.example_title or '')}",
            highlight=False,
        )
    for k in trial.kpis:
        console.print(
            f"  {escape(kpi_label(k.kpi, titles.get(k.kpi)))}: väntad {_direction(k.direction)}; "
            f"registrerat {k.registered_at:%Y-%m-%d}, {_known(k.results_known, k.data_through)}",
            highlight=False,
        )


def _known(results_known: bool, through: int | None) -> str:
    data = f"data t.o.m. {through}" if through is not None else "inga värden"
    if results_known:
        return f"inte förregistrerat: utfall efter starten fanns redan ({data})"
    return f"förregistrerat ({data} vid registreringen)"


@trial_app.command("show")
def trial_show(
    trial_id: int = typer.Argument(..., help="Försökets id."), fmt: Format = _FMT
) -> None:
    """Visa ett försök och dess nyckeltal."""
    from tillit.query import trial_data

    _no_csv(fmt)
    settings, store = store_for()
    bank = _bank(settings)
    try:
        trial = bank.trial(None, trial_id)
    finally:
        bank.close()
    if fmt is Format.json:
        _json(trial_data(trial))
        return
    _print_trial(trial, _name(store, trial.municipality), _kpi_titles(store))


@trial_app.command("list")
def trial_list(
    municipality: str | None = typer.Option(
        None,
        "--kommun",
        "--region",
        "--municipality",
        "-m",
        help="Bara den här kommunens eller regionens försök.",
    ),
    kpi: str | None = typer.Option(None, "--kpi", "-k", help="Bara försök med nyckeltalet."),
    limit: int = typer.Option(100, "--limit", help="Högst så många (1–500)."),
    peers: int = typer.Option(
        50, "--peers", "-p", help="Visa bedömningarna gjorda med så många jämförbara att välja ur."
    ),
    level: str = _LEVEL,
    fmt: Format = _FMT,
) -> None:
    """Lista registrerade försök, de senaste först, med varje nyckeltals sparade bedömning
    med dessa inställningar (standard som på försökets sida; inget räknas här: "inte
    utvärderat än" tills `tillit trial evaluate` eller försökets sida har räknat)."""
    from tillit.query import resolve_municipality, stored_verdicts, trial_data

    settings, store = store_for()
    code = resolve_municipality(store, municipality)["id"] if municipality else None
    bank = _bank(settings)
    try:
        trials = bank.trials(None, municipality=code, kpi=kpi, limit=limit)
        verdicts = stored_verdicts(store, bank, trials, peers=peers, alpha=_level(level))
    finally:
        bank.close()
    if fmt is Format.json:
        _json([trial_data(t, verdicts[t.id]) for t in trials])
        return
    if not trials:
        err_console().print("Inga försök registrerade som matchar.", highlight=False)
        return
    titles = _kpi_titles(store)
    rows = [
        {
            "id": t.id,
            "title": t.title,
            "municipality": f"{_name(store, t.municipality)} ({t.municipality})",
            "start_year": t.start_year,
            "kpis": "; ".join(
                f"{kpi_label(k.kpi, titles.get(k.kpi))}: {_direction(k.direction)}" for k in t.kpis
            ),
            "verdicts": "; ".join(f"{v.kpi}: {v.label}" for v in verdicts[t.id]),
            "pre_registered": "ja" if t.pre_registered else "nej",
        }
        for t in trials
    ]
    emit(
        rows,
        fmt,
        columns=[
            ("id", "Id"),
            ("title", "Försök"),
            ("municipality", "Kommun/region"),
            ("start_year", "Start"),
            ("kpis", "Nyckeltal"),
            ("verdicts", "Bedömning"),
            ("pre_registered", "Förregistrerat"),
        ],
    )


# -- evaluate -----------------------------------------------------------------------------


@trial_app.command("evaluate")
def trial_evaluate(
    trial_id: int = typer.Argument(..., help="Försökets id."),
    kpi: str | None = typer.Option(
        None,
        "--kpi",
        "-k",
        help="Visa bara det här nyckeltalet (standard: alla). Alla försökets nyckeltal "
        "utvärderas och bedöms ändå tillsammans.",
    ),
    peers: int = typer.Option(
        50,
        "--peers",
        "-p",
        help="Antal strukturellt lika att välja ur (för en region finns bara 20 andra).",
    ),
    predictors: list[str] | None = typer.Option(
        None,
        "--predictor",
        help="Egna prediktorer i stället för standard, för varje nyckeltal: "
        "KOLUMN:FRÅN-TILL:mean där KOLUMN är utfall (det utvärderade nyckeltalet självt), "
        "ett annat nyckeltal (id) eller struktur:<nyckel> (t.ex. struktur:population); "
        "upprepa. Bara år före starten.",
    ),
    structure: bool = typer.Option(
        True,
        "--struktur/--utan-struktur",
        help="Ta med strukturvariablerna bland standardprediktorerna.",
    ),
    level: str = _LEVEL,
    recompute: bool = typer.Option(
        False,
        "--om",
        "--recompute",
        help="Räkna om även när en sparad utvärdering finns för samma data och inställningar.",
    ),
    workers: int | None = _WORKERS,
    fmt: Format = _FMT,
) -> None:
    """Utvärdera ett försöks alla nyckeltal mot en syntetisk kontroll av liknande kommuner
    (eller, för en region, de andra regionerna) utan eget försök. En sparad utvärdering för
    samma data och inställningar används i stället för att räkna om."""
    from tillit.query import trial_evaluations, trial_evaluations_data

    _no_csv(fmt)
    alpha = _level(level)
    settings, store = store_for()
    bank = _bank(settings)
    try:
        trial = bank.trial(None, trial_id)
        shown = [_chosen_kpi(trial, kpi)] if kpi else [k.kpi for k in trial.kpis]
        with _Fits(workers) as fits:
            result = trial_evaluations(
                store,
                bank,
                trial_id,
                peers=peers,
                map_function=fits,
                predictors=predictors or (),
                structure_predictors=structure,
                alpha=alpha,
                recompute=recompute,
            )
    finally:
        bank.close()
    if fmt is Format.json:
        _json(trial_evaluations_data(result, shown))
        return
    _print_trial_evaluations(result, shown)


def _chosen_kpi(trial: TrialRecord, kpi: str) -> str:
    """The trial's KPI ``kpi`` names (any case); InvalidInputError naming its KPIs."""
    wanted = kpi.strip().upper()
    if wanted not in {k.kpi for k in trial.kpis}:
        raise InvalidInputError(
            f"Försöket {trial.id} har inte nyckeltalet {kpi!r}.",
            hint="Försökets nyckeltal: " + ", ".join(k.kpi for k in trial.kpis) + ".",
        )
    return wanted


def _print_trial_evaluations(result: TrialEvaluations, shown: list[str]) -> None:
    console = out_console()
    trial = result.trial
    first = result.evaluations[0]
    console.print(
        f"[bold]Försök {trial.id}: {escape(trial.title)}[/bold] – "
        f"{escape(first.municipality_name)}, från {trial.start_year}",
        highlight=False,
    )
    if result.stored and result.computed_at is not None:
        console.print(
            f"(sparad utvärdering från {result.computed_at:%Y-%m-%d %H:%M} UTC; räkna om med --om)",
            highlight=False,
        )
    if result.multiplicity:
        console.print(escape(result.multiplicity), highlight=False)
    if len(shown) < len(result.evaluations):
        console.print(
            f"Visar {', '.join(shown)}; bedömningen gäller tillsammans med försökets alla "
            f"{len(result.evaluations)} nyckeltal ("
            + ", ".join(e.kpi for e in result.evaluations)
            + ").",
            highlight=False,
        )
    for e in result.evaluations:
        if e.kpi in shown:
            _print_trial_evaluation(e)
    console.print(LICENCE, highlight=False)


def _print_trial_evaluation(result: TrialEvaluation) -> None:
    console = out_console()
    console.print(
        f"\n[bold]Nyckeltal: {escape(kpi_label(result.kpi, result.kpi_title))}[/bold]; väntad "
        f"{_DIRECTION_WORDS[result.expected]}.",
        highlight=False,
    )
    registration = (
        "Förregistrerat: inga utfall från startåret eller senare fanns när nyckeltalet "
        "registrerades"
        if result.pre_registered
        else "Inte förregistrerat: utfall från startåret eller senare fanns redan när nyckeltalet "
        "registrerades, så valet av försök och nyckeltal kan ha styrts av resultatet"
    )
    through = f" (data t.o.m. {result.data_through})" if result.data_through else ""
    console.print(registration + through + ".", highlight=False)
    if result.excluded:
        console.print(
            "Utelämnade ur jämförelsen (eget försök på nyckeltalet): "
            + ", ".join(escape(result.names.get(c, c)) for c in result.excluded)
            + ".",
            highlight=False,
        )
    if result.evaluation is None:
        console.print("[bold]Bedömning: kan inte utvärderas[/bold]", highlight=False)
        console.print(escape(result.refusal or ""), highlight=False)
        if result.refusal_hint:
            console.print(f"Nästa steg: {escape(result.refusal_hint)}", highlight=False)
        return
    # The KPI is named by its title above; the table is "Effekt per år".
    _print_evaluation(result.evaluation, result.pool, "")
    if result.pool_note:
        console.print(escape(result.pool_note), highlight=False)


def _print_evaluation(e: SynthEvaluation, pool: str, outcome: str | None = None) -> None:
    """``outcome``: what the table's title calls the outcome (default: its column; "" for
    none)."""
    from tillit.query import average_effect_text

    console = out_console()
    unit = change_unit(e.spec.unit)
    tail = f" {unit}" if unit else ""
    fit = e.fit
    console.print(f"\n[bold]Bedömning: {escape(e.verdict.label)}[/bold]", highlight=False)
    console.print(escape(e.verdict.explanation), highlight=False)
    if e.checks:
        console.print("[bold]Kontroller av upplägget[/bold]", highlight=False)
        for check in e.checks:
            mark = "✓" if check.passed else "✗"
            console.print(f"  {mark} {escape(check.text)}", highlight=False)
    label = fit.outcome if outcome is None else outcome
    values = [*fit.treated_series, *fit.synthetic_series]
    places = decimals_for(values)
    emit(
        [
            {
                "time": x.time,
                "treated": number(x.treated, places),
                "synthetic": number(x.synthetic, places),
                "gap": difference(x.gap, places),
            }
            for x in e.effects
        ],
        Format.table,
        title=f"Effekt per år ({label})" if label else "Effekt per år",
        columns=[
            ("time", "År"),
            ("treated", escape(fit.treated)),
            ("synthetic", "Syntetisk kontroll"),
            ("gap", "Skillnad"),
        ],
        numeric=("treated", "synthetic", "gap"),
    )
    j = len(e.placebos)
    rmspe, placebo_rmspe = side_by_side((fit.pre_rmspe, e.quality.placebo_median_pre_rmspe))
    lines = [
        # A number in a sentence is written as the verdict above writes it (its own size).
        f"Effekt: {average_effect_text(e.average_effect, e.spec.unit)}.",
        f"Anpassning före starten: RMSPE {rmspe} över "
        f"{len(fit.fit_times)} år (median för de jämförbara i placebotestet: {placebo_rmspe}).",
        f"Placebotest i rummet: p = {p_value(e.p_value)}, plats {e.rank} av {j + 1} "
        f"(J = {j} jämförbara, var och en behandlad som om den haft försöket; lägsta möjliga p "
        f"är {p_value(1 / (j + 1))})"
        + (
            f"; justerat med Holms metod för försökets {e.family} nyckeltal: "
            f"p = {p_value(e.judged_p_value)}."
            if e.adjusted_p_value is not None
            else "."
        ),
        f"Skillnad-i-skillnader mot samma {len(fit.donors)} jämförbara: "
        f"{difference(e.did.estimate)}{tail} (p = {p_value(e.did.p_value)}).",
    ]
    if e.in_time.reason is None:
        lines.append(
            f"Placebo i tiden: med låtsad start {e.in_time.start} blir skillnaden i genomsnitt "
            f"{difference(e.in_time.average_gap)}{tail} (bör vara nära noll)."
        )
    else:
        lines.append(f"Placebo i tiden: {e.in_time.reason}")
    if e.leave_one_out:
        effects = [x.average_effect for x in e.leave_one_out]
        lines.append(
            f"Utan en av de {len(effects)} största jämförbara i taget: effekten mellan "
            f"{difference(min(effects))} och {difference(max(effects))}{tail} i genomsnitt "
            "per år efter starten."
        )
    for line in lines:
        console.print(escape(line), highlight=False)
    top = fit.top_donors(10, minimum=0.001)
    console.print("[bold]Vikter i den syntetiska kontrollen[/bold]", highlight=False)
    emit(
        [{"unit": u, "weight": w} for u, w in top],
        Format.table,
        columns=[("unit", "Jämförbar"), ("weight", "Vikt")],
        numeric=("weight",),
    )
    console.print(
        f"Jämförbara: {escape(pool)}; {len(fit.donors)} med fullständiga värden, "
        f"{len(top)} med vikt.",
        highlight=False,
    )
    if fit.dropped:
        console.print(
            "Utelämnade: "
            + "; ".join(f"{escape(u)} ({escape(r)})" for u, r in fit.dropped[:10])
            + (f" och {len(fit.dropped) - 10} till" if len(fit.dropped) > 10 else "")
            + ".",
            highlight=False,
        )


# -- any panel in a CSV file ----------------------------------------------------------------


def _span(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    years = parse_years(text)
    return years[0], years[-1]


@trial_app.command("evaluate-panel")
def trial_evaluate_panel(
    file: Path = typer.Argument(..., help="CSV-fil i långt format: en rad per enhet och tid."),
    unit: str = typer.Option(..., "--unit", help="Kolumnen med enheten (t.ex. regionname)."),
    time: str = typer.Option(..., "--time", help="Kolumnen med tiden (år)."),
    outcome: str = typer.Option(..., "--outcome", help="Utfallskolumnen."),
    treated: str = typer.Option(..., "--treated", help="Den behandlade enheten."),
    start: int = typer.Option(..., "--start", help="Första behandlade året."),
    predictors: list[str] | None = typer.Option(
        None,
        "--predictor",
        help="KOLUMN:FRÅN-TILL:mean, KOLUMN:1961,1963:mean eller KOLUMN:1969; upprepa. "
        "Standard: utfallet i delar av förperioden.",
    ),
    fit: str | None = typer.Option(None, "--fit", help="Anpassningsperiod FRÅN-TILL."),
    donors: list[str] | None = typer.Option(
        None, "--donor", help="Jämförbar enhet; upprepa (standard: alla andra)."
    ),
    expected: str | None = typer.Option(
        None, "--expected", help="Väntad riktning: ökning eller minskning (upp/ner)."
    ),
    level: str = _LEVEL,
    workers: int | None = _WORKERS,
    fmt: Format = _FMT,
) -> None:
    """Syntetisk kontroll på vilken lång panel som helst i en CSV-fil."""
    from tillit.analyses import parse_predictor
    from tillit.query import evaluate_panel_csv, evaluation_data, parse_direction

    _no_csv(fmt)
    alpha = _level(level)
    chosen = [parse_predictor(p) for p in predictors or []]
    with _Fits(workers) as fits:
        evaluation = evaluate_panel_csv(
            file,
            unit=unit,
            time=time,
            outcome=outcome,
            treated=treated,
            start=start,
            predictors=chosen,
            fit=_span(fit),
            donors=donors or None,
            expected=parse_direction(expected) if expected else None,
            map_function=fits,
            alpha=alpha,
        )
    if fmt is Format.json:
        _json(evaluation_data(evaluation))
        return
    _print_evaluation(evaluation, "de angivna enheterna" if donors else "alla andra enheter")
