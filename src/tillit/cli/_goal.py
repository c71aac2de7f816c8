"""`tillit goal …`: set goals (mål) on KPIs for a municipality or region, see the
measurability check before saving, follow them up with an honest judgement, and keep every
change of a target visible."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
import typer

from tillit.cli._app import goal_app, split_ids, store_for
from tillit.cli._output import Format, emit, err_console, out_console, safe
from tillit.config import Settings, load_settings
from tillit.errors import InvalidInputError
from tillit.swedish import kpi_label, share, with_unit

# The bank (SQLAlchemy) and the analyses (numpy, scipy) load when a goal command runs.
if TYPE_CHECKING:
    from tillit.bank import Bank, GoalRecord, UserRecord
    from tillit.query import GoalAssessment, IndicatorCheck
    from tillit.store import Store

_FMT = typer.Option(Format.table, "--format", "-f", help="table, json eller csv.")
_USER = typer.Option(..., "--user", "-u", help="Kontot som gör ändringen (e-post).")
_INDICATOR_HELP = (
    # Rich reads the help as markup: a "[" that opens no tag is written "\\[".
    "Indikator: NYCKELTAL\\[/KÖN]:RIKTNING:MÅLVÄRDE:MÅLÅR\\[:BASÅR\\[=BASVÄRDE]], t.ex. "
    "N15419:ökning:90:2026 eller N15419/K:minst:85:2026:2020. RIKTNING är ökning, minskning, "
    "minst eller högst; KÖN T (standard), K eller M. Utan basvärde läses det ur arkivet "
    "(utan basår: det senaste året med värde). Upprepa för fler."
)
_INTERIM_HELP = "Delmål: NYCKELTAL\\[/KÖN]:ÅR=VÄRDE, t.ex. N15419:2024=86. Upprepa för fler."
_GENDER_WORDS = {"T": "totalt", "K": "kvinnor", "M": "män"}
_DIRECTION_WORDS = {
    "increase": "öka till",
    "decrease": "minska till",
    "at_least": "minst",
    "at_most": "högst",
}
_KEY = re.compile(r"^\s*([A-Za-z][0-9]{5})\s*(?:/\s*([TKMtkm]))?\s*$")


def _bank(settings: Settings) -> Bank:
    from tillit.bank import open_bank

    return open_bank(settings.database_url)


def _actor(bank: Bank, email: str | None) -> UserRecord | None:
    """The acting user named with --user: the command line runs on the machine that holds
    the bank, so it acts as that account without a password, like `tillit user`."""
    return None if email is None else bank.user_by_email(email)


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


# -- parsing the options -------------------------------------------------------------------


def _key(text: str, option: str, example: str) -> tuple[str, str]:
    match = _KEY.match(text)
    if not match:
        raise InvalidInputError(
            f"Kan inte tolka {text!r} i {option}.", hint=f"Skriv t.ex. {option} {example}."
        )
    return match[1].upper(), (match[2] or "T").upper()


def _indicators(specs: Sequence[str]) -> list[dict[str, Any]]:
    """``--indikator`` specs as the query layer's indicator mappings."""
    out = []
    for spec in specs:
        parts = [p.strip() for p in spec.split(":")]
        if len(parts) not in (4, 5):
            raise InvalidInputError(
                f"Kan inte tolka indikatorn {spec!r}.",
                hint="Skriv NYCKELTAL[/KÖN]:RIKTNING:MÅLVÄRDE:MÅLÅR[:BASÅR[=BASVÄRDE]], t.ex. "
                "--indikator N15419:ökning:90:2026.",
            )
        kpi, gender = _key(parts[0], "--indikator", "N15419:ökning:90:2026")
        item: dict[str, Any] = {
            "kpi": kpi,
            "gender": gender,
            "direction": parts[1],
            "target_value": parts[2],
            "target_year": parts[3],
        }
        if len(parts) == 5:
            year, _, value = parts[4].partition("=")
            item["baseline_year"] = year.strip()
            if value.strip():
                item["baseline_value"] = value.strip()
        out.append(item)
    return out


def _pairs(specs: Sequence[str], option: str, example: str) -> list[tuple[str, str, str]]:
    """``KPI[/KÖN]=VALUE`` (or ``KPI[/KÖN]:ÅR=VÄRDE`` for interim targets) as triples."""
    out = []
    for spec in specs:
        head, sep, value = spec.partition("=")
        if not sep or not value.strip():
            raise InvalidInputError(
                f"Kan inte tolka {spec!r} i {option}.", hint=f"Skriv t.ex. {option} {example}."
            )
        out.append((head.strip(), value.strip(), spec))
    return out


def _interim(specs: Sequence[str]) -> dict[tuple[str, str], list[list[str]]]:
    found: dict[tuple[str, str], list[list[str]]] = {}
    for head, value, _spec in _pairs(specs, "--delmal", "N15419:2024=86"):
        key_text, _, year = head.rpartition(":")
        key = _key(key_text, "--delmal", "N15419:2024=86")
        found.setdefault(key, []).append([year.strip(), value])
    return found


def _with_interim(
    indicators: list[dict[str, Any]], interim: dict[tuple[str, str], list[list[str]]]
) -> list[dict[str, Any]]:
    keys = {(i["kpi"], i["gender"]) for i in indicators}
    for key in interim:
        if key not in keys:
            raise InvalidInputError(
                f"Delmålet gäller {key[0]} ({key[1]}), som inte är en av målets indikatorer.",
                hint="Ge delmål bara för nyckeltal i --indikator.",
            )
    return [{**i, "interim": interim.get((i["kpi"], i["gender"]), [])} for i in indicators]


def _ids(values: Sequence[str] | None, option: str) -> list[int]:
    ids = []
    for text in split_ids(values):
        if not text.isascii() or not text.isdigit():
            raise InvalidInputError(f"{text!r} i {option} är inget id.", hint=f"T.ex. {option} 3.")
        ids.append(int(text))
    return ids


# -- printing ------------------------------------------------------------------------------


def _titles(store: Store) -> dict[str, str]:
    from tillit.errors import NoDataError

    try:
        return {r["id"]: r["title"] for r in store.kpis()}
    except NoDataError:
        return {}


def _label(kpi: str, gender: str, titles: dict[str, str]) -> str:
    label = kpi_label(kpi, titles.get(kpi))
    return label if gender == "T" else f"{label} ({_GENDER_WORDS[gender]})"


def _unit_of(kpi: str, titles: dict[str, str]) -> str:
    from tillit.swedish import kpi_unit

    return kpi_unit(titles.get(kpi, ""))


def _print_checks(checks: Sequence[IndicatorCheck], titles: dict[str, str]) -> None:
    console = out_console()
    console.print("[bold]Mätbarhet och ambition[/bold]", highlight=False)
    for c in checks:
        unit = c.series.unit
        base = with_unit(c.target.baseline_value, unit)
        source = "ur arkivet" if c.baseline_from_store else "angivet"
        console.print(
            f"  {safe(_label(c.kpi, c.gender, titles))}: basvärde {safe(base)} "
            f"({c.target.baseline_year}, {source})",
            highlight=False,
        )
        mark = {True: "Mätbart", False: "Inte mätbart", None: "Mätbarhet okänd"}
        console.print(
            f"    {mark[c.measurability.measurable]}: {safe(c.measurability.text)}",
            highlight=False,
        )
        console.print(
            f"    Ambition ({safe(c.ambition.label)}): {safe(c.ambition.text)}", highlight=False
        )


def _target_text(ind: Any, unit: str) -> str:
    """ "öka till 84 % senast 2026", "högst 2 % år 2030"."""
    value = with_unit(ind.target_value, unit)
    if ind.direction in ("increase", "decrease"):
        return f"{_DIRECTION_WORDS[ind.direction]} {value} senast {ind.target_year}"
    return f"{_DIRECTION_WORDS[ind.direction]} {value} år {ind.target_year}"


def _print_goal(
    goal: GoalRecord,
    titles: dict[str, str],
    assessment: GoalAssessment | None = None,
    notes: Sequence[str] = (),
    checks: Sequence[IndicatorCheck] = (),
) -> None:
    from tillit.query import change_text

    console = out_console()
    level = f", {safe(goal.political_level)}" if goal.political_level else ""
    console.print(
        f"[bold]Mål {goal.id}: {safe(goal.title)}[/bold] – {safe(goal.organisation_name)} "
        f"({goal.organisation_code}){level}; version {goal.version}",
        highlight=False,
    )
    if goal.description:
        console.print(safe(goal.description), highlight=False)
    if assessment is not None:
        console.print(
            f"[bold]Bedömning: {safe(assessment.summary.verdict_label)}.[/bold] "
            f"{safe(assessment.summary.text)}",
            highlight=False,
        )
    judged = (
        {(a.indicator.kpi, a.indicator.gender): a for a in assessment.indicators}
        if assessment
        else {}
    )
    checked = {(c.kpi, c.gender): c for c in checks}
    for ind in goal.indicators:
        unit = _unit_of(ind.kpi, titles)
        check = checked.get((ind.kpi, ind.gender))
        source = ", ur arkivet" if check is not None and check.baseline_from_store else ""
        console.print(
            f"  {safe(_label(ind.kpi, ind.gender, titles))}: {_target_text(ind, unit)} "
            f"(basvärde {safe(with_unit(ind.baseline_value, unit))} år "
            f"{ind.baseline_year}{source})",
            highlight=False,
        )
        if ind.interim:
            steps = "; ".join(f"{y}: {with_unit(v, unit)}" for y, v in ind.interim)
            console.print(f"    Delmål: {safe(steps)}", highlight=False)
        found = judged.get((ind.kpi, ind.gender))
        if found is None:
            continue
        j = found.judgement
        chance = (
            f" (sannolikhet att nås: {share(j.probability_met)})"
            if math.isfinite(j.probability_met) and j.verdict not in ("met", "not_met")
            else ""
        )
        console.print(
            f"    Bedömning: {safe(j.verdict_label)}{chance}. {safe(j.reason)}", highlight=False
        )
        for step in j.interim:
            state = {True: "nått", False: "inte nått", None: "inte publicerat än"}[step.met]
            console.print(
                f"    Delmål {step.year} ({safe(with_unit(step.target, unit))}): {state}",
                highlight=False,
            )
        console.print(f"    Mätbarhet: {safe(found.measurability.text)}", highlight=False)
        console.print(
            f"    Ambition ({safe(found.ambition.label)}): {safe(found.ambition.text)}",
            highlight=False,
        )
    if goal.trials:
        console.print(
            "Försök: " + "; ".join(f"{t.id} {safe(t.title)}" for t in goal.trials),
            highlight=False,
        )
    if goal.examples:
        console.print(
            "Goda exempel: " + "; ".join(f"{e.id} {safe(e.title)}" for e in goal.examples),
            highlight=False,
        )
    if goal.target_changes:
        console.print("Ändrade mål:", highlight=False)
        for change in goal.target_changes:
            console.print(f"  {safe(change_text(change, titles))}", highlight=False)
    _print_notes(notes)


def _print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        out_console().print(f"[yellow]Obs:[/yellow] {safe(note)}", highlight=False)


def _indicator_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per indicator of a goal's data."""
    rows = []
    for ind in data["indicators"]:
        judgement = ind.get("judgement") or {}
        check = ind.get("check") or {}
        measurable = (ind.get("measurability") or check.get("measurability") or {}).get("text")
        rows.append(
            {
                "goal_id": data["id"],
                "goal": data["title"],
                "organisation": data["organisation"]["code"],
                "kpi": ind["kpi"],
                "gender": ind["gender"],
                "baseline_year": ind["baseline_year"],
                "baseline_value": ind["baseline_value"],
                "direction": ind["direction"],
                "target_value": ind["target_value"],
                "target_year": ind["target_year"],
                "verdict": judgement.get("verdict"),
                "probability_met": judgement.get("probability_met"),
                "reason": judgement.get("reason"),
                "measurability": measurable,
            }
        )
    return rows


def _notes_for(
    bank: Bank, goals: Sequence[GoalRecord], limit: int, titles: dict[str, str]
) -> dict[int, tuple[str, ...]]:
    """The målträngsel notes of each organisation among ``goals``, by organisation id."""
    from tillit.bank import goals_of
    from tillit.query import goal_crowding

    notes = {}
    for org in {g.organisation_id for g in goals}:
        own = goals_of(bank).goals(None, organisation=org, limit=500)
        notes[org] = goal_crowding(own, limit, titles)
    return notes


def _show(
    store: Store,
    bank: Bank,
    goal: GoalRecord,
    fmt: Format,
    *,
    checks: Sequence[IndicatorCheck] = (),
    message: str | None = None,
) -> None:
    from tillit.query import assess_goal, goal_data

    limit = load_settings().goals_max
    assessment = assess_goal(store, goal)
    notes = _notes_for(bank, [goal], limit, _titles(store)).get(goal.organisation_id, ())
    titles = _titles(store)
    data = goal_data(goal, assessment, notes=notes, checks=checks, titles=titles)
    if fmt is Format.json:
        _json(data)
        return
    if fmt is Format.csv:
        emit(_indicator_rows(data), fmt)
        return
    if message:
        out_console().print(message, highlight=False)
    _print_goal(goal, titles, assessment, notes, checks)


# -- the commands --------------------------------------------------------------------------


@goal_app.command("add")
def goal_add(
    municipality: str = typer.Option(
        ...,
        "--kommun",
        "--region",
        "--municipality",
        "-m",
        help="Kommunen eller regionen som målet gäller, namn eller kod.",
    ),
    title: str = typer.Option(..., "--titel", "--title", help="Målets rubrik."),
    indicators: list[str] = typer.Option(
        ..., "--indikator", "--indicator", "-i", help=_INDICATOR_HELP
    ),
    description: str = typer.Option(
        "", "--beskrivning", "--description", help="Vad målet innebär och varför."
    ),
    level: str = typer.Option(
        "",
        "--niva",
        "--level",
        help="Den politiska nivå som satte målet, t.ex. kommunfullmäktige eller en nämnd.",
    ),
    interim: list[str] | None = typer.Option(None, "--delmal", "--interim", help=_INTERIM_HELP),
    trials: list[str] | None = typer.Option(
        None, "--forsok", "--trial", help="Id för försök som hör till målet (kommalista)."
    ),
    examples: list[str] | None = typer.Option(
        None, "--exempel", "--example", help="Id för goda exempel som hör till målet."
    ),
    preview: bool = typer.Option(
        False,
        "--forhandsgranska",
        "--preview",
        help="Visa bara mätbarheten och ambitionen; spara inget.",
    ),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Kontot som sätter målet (e-post; krävs utom med --preview)."
    ),
    fmt: Format = _FMT,
) -> None:
    """Sätt ett mål för en kommun eller region; mätbarheten prövas innan det sparas."""
    from tillit.query import add_goal, check_data, prepare_goal

    settings, store = store_for()
    data: dict[str, Any] = {
        "organisation": municipality,
        "title": title,
        "description": description,
        "political_level": level,
        "indicators": _with_interim(_indicators(indicators), _interim(interim or [])),
        "trial_ids": _ids(trials, "--forsok"),
        "example_ids": _ids(examples, "--exempel"),
    }
    if preview:
        prepared = prepare_goal(store, data)
        if fmt is Format.json:
            _json({"saved": False, "checks": [check_data(c) for c in prepared.checks]})
        elif fmt is Format.csv:
            emit([_flat_check(check_data(c)) for c in prepared.checks], fmt)
        else:
            out_console().print(
                f"Förhandsgranskning för {safe(prepared.unit_name)}: inget är sparat.",
                highlight=False,
            )
            _print_checks(prepared.checks, _titles(store))
        return
    if user is None:
        raise InvalidInputError(
            "Ange kontot som sätter målet med --user.",
            hint="T.ex. --user redaktor@kommun.se, eller --forhandsgranska för att bara pröva.",
        )
    bank = _bank(settings)
    try:
        goal, prepared = add_goal(store, bank, _actor(bank, user), data)
        _show(
            store,
            bank,
            goal,
            fmt,
            checks=prepared.checks,
            message=f"Målet är sparat med id {goal.id}.",
        )
    finally:
        bank.close()


def _flat_check(check: dict[str, Any]) -> dict[str, Any]:
    return {
        "kpi": check["kpi"],
        "gender": check["gender"],
        "baseline_year": check["baseline_year"],
        "baseline_value": check["baseline_value"],
        "baseline_from_store": check["baseline_from_store"],
        "measurable": check["measurability"]["measurable"],
        "smallest_detectable_change": check["measurability"]["smallest_detectable_change"],
        "measurability": check["measurability"]["text"],
        "ambition": check["ambition"]["level"],
        "ambition_text": check["ambition"]["text"],
    }


@goal_app.command("list")
def goal_list(
    municipality: str | None = typer.Option(
        None,
        "--kommun",
        "--region",
        "--municipality",
        "-m",
        help="Bara den här kommunens eller regionens mål.",
    ),
    kpi: str | None = typer.Option(None, "--kpi", "-k", help="Bara mål med nyckeltalet."),
    query: str | None = typer.Option(
        None, "--sok", "--query", "-q", help="Bara mål vars text har alla orden."
    ),
    limit: int = typer.Option(100, "--limit", help="Högst så många (1–500)."),
    fmt: Format = _FMT,
) -> None:
    """Lista mål med deras bedömning, de äldsta först."""
    from tillit.bank import goals_of
    from tillit.query import assess_goals, goal_data, resolve_municipality

    settings, store = store_for()
    code = resolve_municipality(store, municipality)["id"] if municipality else None
    bank = _bank(settings)
    try:
        goals = goals_of(bank).goals(None, organisation=code, kpi=kpi, query=query, limit=limit)
        notes = _notes_for(bank, goals, settings.goals_max, _titles(store))
    finally:
        bank.close()
    assessments = assess_goals(store, goals)
    titles = _titles(store)
    data = [
        goal_data(a.goal, a, notes=notes.get(a.goal.organisation_id, ()), titles=titles)
        for a in assessments
    ]
    if fmt is Format.json:
        _json(data)
        return
    if fmt is Format.csv:
        emit([row for d in data for row in _indicator_rows(d)], fmt)
        return
    if not goals:
        err_console().print("Inga mål som matchar.", highlight=False)
        return
    titles = _titles(store)
    rows = [
        {
            "id": a.goal.id,
            "title": a.goal.title,
            "organisation": f"{a.goal.organisation_name} ({a.goal.organisation_code})",
            "indicators": "; ".join(
                f"{_label(i.indicator.kpi, i.indicator.gender, titles)}: "
                f"{i.judgement.verdict_label}"
                for i in a.indicators
            ),
            "verdict": a.summary.verdict_label,
        }
        for a in assessments
    ]
    emit(
        rows,
        fmt,
        columns=[
            ("id", "Id"),
            ("title", "Mål"),
            ("organisation", "Kommun/region"),
            ("indicators", "Indikatorer"),
            ("verdict", "Bedömning"),
        ],
    )
    _print_notes([n for org in dict.fromkeys(g.organisation_id for g in goals) for n in notes[org]])


@goal_app.command("show")
def goal_show(goal_id: int = typer.Argument(..., help="Målets id."), fmt: Format = _FMT) -> None:
    """Visa ett mål med bedömning, mätbarhet, ambition och ändrade mål."""
    from tillit.bank import goals_of

    settings, store = store_for()
    bank = _bank(settings)
    try:
        _show(store, bank, goals_of(bank).goal(None, goal_id), fmt)
    finally:
        bank.close()


@goal_app.command("judge")
def goal_judge(
    goal_ids: list[int] | None = typer.Argument(None, help="Målens id (standard: alla)."),
    municipality: str | None = typer.Option(
        None,
        "--kommun",
        "--region",
        "--municipality",
        "-m",
        help="Alla mål för den här kommunen eller regionen.",
    ),
    fmt: Format = _FMT,
) -> None:
    """Bedöm mål: sannolikheten att målvärdet nås, med siffrorna bakom."""
    from tillit.bank import goals_of
    from tillit.query import assess_goals, goal_data, resolve_municipality

    settings, store = store_for()
    code = resolve_municipality(store, municipality)["id"] if municipality else None
    bank = _bank(settings)
    try:
        book = goals_of(bank)
        if goal_ids:
            goals = [book.goal(None, i) for i in goal_ids]
            if code is not None:
                goals = [g for g in goals if g.organisation_code == code]
        else:
            goals = book.goals(None, organisation=code, limit=500)
        notes = _notes_for(bank, goals, settings.goals_max, _titles(store))
    finally:
        bank.close()
    assessments = assess_goals(store, goals)
    if fmt is Format.json:
        titles = _titles(store)
        _json(
            [
                goal_data(a.goal, a, notes=notes[a.goal.organisation_id], titles=titles)
                for a in assessments
            ]
        )
        return
    if fmt is Format.csv:
        emit(
            [row for a in assessments for row in _indicator_rows(goal_data(a.goal, a))],
            fmt,
        )
        return
    if not goals:
        err_console().print("Inga mål att bedöma.", highlight=False)
        return
    titles = _titles(store)
    console = out_console()
    for a in assessments:
        console.print(
            f"[bold]Mål {a.goal.id}: {safe(a.goal.title)}[/bold] ({safe(a.unit_name)}) – "
            f"{safe(a.summary.verdict_label)}",
            highlight=False,
        )
        for i in a.indicators:
            console.print(
                f"  {safe(_label(i.indicator.kpi, i.indicator.gender, titles))}: "
                f"{safe(i.judgement.verdict_label)}. {safe(i.judgement.reason)}",
                highlight=False,
            )
    _print_notes([n for org in dict.fromkeys(g.organisation_id for g in goals) for n in notes[org]])


@goal_app.command("edit")
def goal_edit(
    goal_id: int = typer.Argument(..., help="Målets id."),
    title: str | None = typer.Option(None, "--titel", "--title", help="Ny rubrik."),
    description: str | None = typer.Option(
        None, "--beskrivning", "--description", help="Ny beskrivning."
    ),
    level: str | None = typer.Option(None, "--niva", "--level", help="Ny politisk nivå."),
    indicators: list[str] | None = typer.Option(
        None,
        "--indikator",
        "--indicator",
        "-i",
        help="Ersätt alla indikatorer (som i `goal add`). " + _INDICATOR_HELP,
    ),
    targets: list[str] | None = typer.Option(
        None,
        "--mal",
        "--target",
        help="Nytt målvärde för en indikator: NYCKELTAL\\[/KÖN]=VÄRDE, t.ex. N15419=88.",
    ),
    target_years: list[str] | None = typer.Option(
        None,
        "--malar",
        "--target-year",
        help="Nytt målår för en indikator: NYCKELTAL\\[/KÖN]=ÅR, t.ex. N15419=2028.",
    ),
    interim: list[str] | None = typer.Option(
        None,
        "--delmal",
        "--interim",
        help="Ersätt delmålen för de nämnda indikatorerna. " + _INTERIM_HELP,
    ),
    trials: list[str] | None = typer.Option(
        None, "--forsok", "--trial", help="Ersätt försöken (id; tom sträng: inga)."
    ),
    examples: list[str] | None = typer.Option(
        None, "--exempel", "--example", help="Ersätt de goda exemplen (id; tom sträng: inga)."
    ),
    note: str = typer.Option(
        "", "--motivering", "--note", help="Varför målet ändras (sparas med versionen)."
    ),
    version: int | None = typer.Option(
        None,
        "--version",
        help="Versionen ändringen utgår från (standard: den senaste); en annan ger ett fel "
        "om någon hunnit ändra.",
    ),
    user: str = _USER,
    fmt: Format = _FMT,
) -> None:
    """Ändra ett mål; varje ändring av ett mål syns sedan i historiken."""
    from tillit.bank import goals_of
    from tillit.query import edit_goal, indicator_changes

    settings, store = store_for()
    changes: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("political_level", level)):
        if value is not None:
            changes[name] = value
    if trials is not None:
        changes["trial_ids"] = _ids(trials, "--forsok")
    if examples is not None:
        changes["example_ids"] = _ids(examples, "--exempel")
    if note:
        changes["note"] = note
    bank = _bank(settings)
    try:
        actor = _actor(bank, user)
        current = goals_of(bank).goal(actor, goal_id)
        if indicators and (targets or target_years):
            raise InvalidInputError(
                "Ange antingen --indikator (alla indikatorer) eller --mal/--malar (en i taget).",
            )
        if indicators:
            changes["indicators"] = _with_interim(_indicators(indicators), _interim(interim or []))
        elif targets or target_years or interim:
            updates: dict[str, dict[str, Any]] = {}
            for head, value, _ in _pairs(targets or [], "--mal", "N15419=88"):
                kpi, gender = _key(head, "--mal", "N15419=88")
                updates.setdefault(f"{kpi}/{gender}", {})["target_value"] = value
            for head, value, _ in _pairs(target_years or [], "--malar", "N15419=2028"):
                kpi, gender = _key(head, "--malar", "N15419=2028")
                updates.setdefault(f"{kpi}/{gender}", {})["target_year"] = value
            for (kpi, gender), steps in _interim(interim or []).items():
                updates.setdefault(f"{kpi}/{gender}", {})["interim"] = steps
            changes["indicators"] = indicator_changes(current, updates)
        if not changes or set(changes) == {"note"}:
            raise InvalidInputError(
                "Inget att ändra.", hint="Ange t.ex. --mal N15419=88 eller --titel."
            )
        goal, prepared = edit_goal(
            store,
            bank,
            actor,
            goal_id,
            changes,
            version=current.version if version is None else version,
        )
        _show(
            store,
            bank,
            goal,
            fmt,
            checks=prepared.checks if prepared else (),
            message=f"Målet {goal.id} är nu version {goal.version}.",
        )
    finally:
        bank.close()


@goal_app.command("remove")
def goal_remove(
    goal_id: int = typer.Argument(..., help="Målets id."),
    version: int | None = typer.Option(
        None, "--version", help="Versionen du tar bort (standard: den senaste)."
    ),
    user: str = _USER,
    fmt: Format = _FMT,
) -> None:
    """Ta bort ett mål (granskningsloggen behåller det)."""
    from tillit.bank import goals_of

    settings, _store = store_for()
    bank = _bank(settings)
    try:
        book = goals_of(bank)
        actor = _actor(bank, user)
        current = book.goal(actor, goal_id)
        book.delete_goal(actor, goal_id, current.version if version is None else version)
    finally:
        bank.close()
    result = {"id": goal_id, "removed": True, "title": current.title}
    if fmt is Format.json:
        _json(result)
    elif fmt is Format.csv:
        emit([result], fmt)
    else:
        out_console().print(
            f"Målet {goal_id} ({safe(current.title)}) är borttaget.", highlight=False
        )
