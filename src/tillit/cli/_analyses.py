"""`tillit compare`, `trend`, `peers`, `learn`: fair comparison and whom to learn from."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

import orjson
import typer

from tillit import swedish
from tillit.cli._app import app, parse_years, split_ids, store_for
from tillit.cli._output import Format, emit, err_console, number, out_console, safe
from tillit.config import Settings
from tillit.errors import InvalidInputError
from tillit.store import LICENCE

# The analyses (numpy, scipy) load when one of these commands runs, not with every
# `tillit` command: `tillit kpi search` should not wait for them.
if TYPE_CHECKING:
    from collections.abc import Callable

    from tillit.analyses import Finding, Learning, Polarity
    from tillit.query import ComparisonReport, LearnReport

PEER_KINDS = ("struktur", "kommungrupp", "liknande", "alla")


class _Words:
    """The words for the kind of organisation a report is about: municipalities ("K") or
    regions ("L")."""

    def __init__(self, kind: str) -> None:
        unit = "region" if kind == "L" else "kommun"
        self.one = unit  # kommun
        self.the = unit + "en"  # kommunen
        self.many = unit + "er"  # kommuner
        self.Many = self.many.capitalize()  # Kommuner
        self.peers = f"jämförelse{unit}erna"  # jämförelsekommunerna
        self.peers_of = f"jämförelse{unit}ernas"  # jämförelsekommunernas


_FMT = typer.Option(Format.table, "--format", "-f", help="table, json eller csv.")
_PEERS = typer.Option(
    "struktur",
    "--peers",
    "-p",
    help="Jämförelsegrupp: struktur (de k mest lika), kommungrupp (SKR 2023, bara kommuner), "
    "liknande (Koladas liknande kommuner eller regioner) eller alla (alla andra).",
)
_K = typer.Option(7, "--k", help="Antal strukturellt lika kommuner eller regioner.")
_Q = typer.Option(
    0.05,
    "--fdr",
    help="Högsta andel felaktiga bland de flaggade nyckeltalen för en kommun eller region "
    "(FDR); om den inte skiljer sig på något är det också högsta risken för en enda flagga.",
)
_AS_OF = typer.Option(
    None,
    "--as-of",
    metavar="ÅR",
    help="Analysera som om arkivet slutade detta år, t.ex. 2018 (senare värden läses inte).",
)
_PANEL = "Jämföra och lära"

_TIER_STYLE = {
    "clearly_better": "green",
    "clearly_higher": "cyan",
    "clearly_worse": "red",
    "clearly_lower": "cyan",
}


def overrides_for(settings: Settings) -> dict[str, Polarity] | None:
    """The user's polarity file (TILLIT_POLARITY_FILE), parsed; None when unset."""
    from tillit.query import polarity_overrides

    return polarity_overrides(settings)


class UsageError(typer.TyperException):
    """A value outside an option's fixed set: `main` prints it in Swedish with the command's
    help as the next step and exits 2, as Click does for its own usage errors."""

    exit_code = 2

    def __init__(self, message: str, ctx: typer.Context) -> None:
        super().__init__(message)
        self.message = message
        self.ctx = ctx

    def format_message(self) -> str:
        return self.message


def _check_peers(ctx: typer.Context, kind: str) -> str:
    """``--peers`` takes one of PEER_KINDS; anything else is a usage error (exit 2)."""
    if kind not in PEER_KINDS:
        raise UsageError(
            f"Okänd jämförelsegrupp {kind!r} för --peers. Välj "
            + ", ".join(PEER_KINDS[:-1])
            + f" eller {PEER_KINDS[-1]}.",
            ctx,
        )
    return kind


def _json(data: Any) -> None:
    """A result's JSON data (built by tillit.query, as the pages' `.json` twins are)."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@app.command("compare", rich_help_panel=_PANEL)
def compare_command(
    ctx: typer.Context,
    municipality: str = typer.Argument(..., help="Kommun eller region, namn eller kod."),
    kpis: list[str] = typer.Argument(..., help="Nyckeltal, ett eller flera (id)."),
    peers: str = _PEERS,
    k: int = _K,
    fdr: float = _Q,
    as_of: int | None = _AS_OF,
    fmt: Format = _FMT,
) -> None:
    """Jämför en kommun (eller region) med liknande: nivå, skillnad och om den är större än
    bruset."""
    _check_peers(ctx, peers)
    settings, store = store_for()
    from tillit.query import compare_data, compare_report

    report = compare_report(
        store,
        municipality,
        split_ids(kpis),
        peers=peers,
        k=k,
        q=fdr,
        overrides=overrides_for(settings),
        as_of=as_of,
    )
    rows = compare_data(report)
    if fmt is Format.json:
        _json(rows)
        return
    if fmt is Format.csv:
        emit([{**r, "peers": [p["municipality"] for p in r["peers"]]} for r in rows], fmt)
        return
    _print_comparisons(report, rows)


def _print_comparisons(report: ComparisonReport, rows: list[dict[str, Any]]) -> None:
    console = out_console()
    w = _Words(report.kind)
    names = ", ".join(safe(report.names.get(m, m)) for m in report.peers.members[:12])
    more = len(report.peers.members) - 12
    console.print(
        f"[bold]{safe(report.name)}[/bold] jämförd med {safe(report.peers.label)}: {names}"
        + (f" och {more} till" if more > 0 else "")
        + "."
    )
    for c, row in zip(report.comparisons, rows, strict=True):
        console.print()
        style = _TIER_STYLE.get(c.tier, "")
        tier = f"[{style}]{c.tier_label}[/{style}]" if style else c.tier_label
        console.print(f"[bold]{safe(row['title'])}[/bold] ({c.kpi}), {c.year}: {tier}.")
        lines = []
        if c.why_not_tested:
            lines.append(f"Varför: {safe(c.why_not_tested)}.")
        if not math.isnan(c.value):
            value, peer, national = swedish.side_by_side(
                (c.value, c.peer_median, c.national_median)
            )
            lines.append(
                f"Värde {value}; {w.peers_of} median {peer}"
                f" (skillnad {_signed(c.difference)}); rikets median {national}."
            )
        if not math.isnan(c.shrunk) and not math.isnan(c.shrunk_peer_median):
            shrunk, shrunk_peer = swedish.side_by_side((c.shrunk, c.shrunk_peer_median))
            lines.append(
                f"Skattad nivå med hänsyn till årsbruset {shrunk} mot "
                f"{w.peers_of} skattade median {shrunk_peer}: "
                f"skattad skillnad {_signed(c.shrunk_difference)}."
            )
        if c.tier in ("clearly_better", "clearly_worse", "clearly_higher", "clearly_lower"):
            lines.append(
                "Skillnaden i snitt över de tre senaste åren är större än årsbruset "
                f"(t = {number(c.z, 1)}, q {_q(c.q_value)}) och pekar åt samma håll det "
                f"senaste året (åt det hållet {c.years_beyond} av de senaste 3 åren)."
            )
        elif c.tier == "in_line":
            lines.append(
                "Skillnaden i snitt över de tre senaste åren ryms i det vanliga årsbruset "
                f"(ett års brus ±{number(1.96 * c.noise_sd)}), eller pekar åt andra hållet "
                "det senaste året."
            )
        if c.rank is not None:
            lines.append(
                f"Plats {c.rank} av {c.count} {w.many}"
                f" ({'bättre' if c.polarity.sign else 'högre'} än "
                f"{swedish.percent(c.percentile, 0)}"
                f" av dem), plats {c.peer_rank} av {c.peer_count} i jämförelsegruppen."
                + ("" if c.polarity.sign else " Rangordningen är från högst till lägst.")
            )
        if c.funnel:
            f = c.funnel
            method = {
                "binomial": "andelar av befolkningen",
                "poisson": "händelser per invånare",
                "noise band": "årsbrus",
            }[f.method]
            lines.append(
                f"Trattdiagram mot alla {w.many} ({method}): "
                f"{_position_label(f.position)} "
                f"(95 %: {swedish.interval(f.lower95, f.upper95)}, "
                f"99,8 %: {swedish.interval(f.lower998, f.upper998)})."
            )
        lines.append(f"Riktning: {safe(row['polarity_explanation'])}.")
        for line in lines:
            console.print("  " + line)
    err_console().print(f"\n{LICENCE}. Metoden: docs/analyses.md.")


@app.command("trend", rich_help_panel=_PANEL)
def trend_command(
    municipality: str = typer.Argument(..., help="Kommun eller region, namn eller kod."),
    kpi: str = typer.Argument(..., help="Nyckeltal (id)."),
    years: str = typer.Option(None, "--years", "-y", help="År, t.ex. 2012-2022."),
    fmt: Format = _FMT,
) -> None:
    """Trend över åren: Theil–Sen-lutning och Mann–Kendall-test, verklig förändring eller brus."""
    settings, store = store_for()
    from tillit.query import trend_data, trend_report

    report = trend_report(
        store, municipality, kpi, years=parse_years(years), overrides=overrides_for(settings)
    )
    t = report.trend
    if fmt is Format.json:
        _json(trend_data(report))
        return
    if fmt is Format.csv:
        data = trend_data(report)
        trend_fields = {k: v for k, v in data.pop("trend").items()}
        emit([{**data, **trend_fields}], fmt)
        return
    console = out_console()
    console.print(f"[bold]{safe(report.name)}: {safe(report.title)}[/bold] ({report.kpi})")
    console.print(safe(t.summary))
    if t.slope is not None:
        unit = swedish.change_unit(swedish.kpi_unit(report.title))
        console.print(
            f"Lutning {swedish.per_year(t.slope, unit)} "
            f"(95 %: {swedish.interval(t.slope_low, t.slope_high)}), "
            f"Kendalls S = {swedish.number(t.s)}, "
            f"{'exakt test' if t.method == 'exact' else 'normalapproximation'}."
        )
    console.print(f"Riktning: {safe(report.polarity.explanation)}.")
    missing = sorted(set(range(report.years[0], report.years[-1] + 1)) - set(report.years))
    if missing:
        console.print(
            "År utan värde (räknas inte, fylls inte i): " + ", ".join(map(str, missing)) + "."
        )
    emit(
        [{"year": y, "value": v} for y, v in zip(report.years, report.values, strict=True)],
        Format.table,
        columns=[("year", "År"), ("value", "Värde")],
        numeric=["value"],
    )


@app.command("peers", rich_help_panel=_PANEL)
def peers_command(
    municipality: str = typer.Argument(..., help="Kommun eller region, namn eller kod."),
    k: int = _K,
    fmt: Format = _FMT,
) -> None:
    """Vilka kommuner (regioner) liknar denna, och i vad: struktur, kommungrupp och Koladas
    grupper."""
    _, store = store_for()
    from tillit.query import peers_data, peers_report

    report = peers_report(store, municipality, k=k)
    data = peers_data(report)
    if fmt is Format.json:
        _json(data)
        return
    rows: list[dict[str, Any]] = data["peers"]
    w = _Words(report.kind)
    if fmt is Format.csv:
        emit(rows, fmt)
        return
    table_rows = [
        {
            **r,
            "why": "; ".join(
                f"{t.label.lower()} {_trait(t.own, t.unit)} mot {_trait(t.peer, t.unit)}"
                for t in p.traits
            ),
            "groups": ", ".join(
                label
                for flag, label in (
                    (r["in_kommungrupp"], "samma kommungrupp"),
                    (r["in_liknande"], "Koladas liknande"),
                )
                if flag
            ),
        }
        for r, p in zip(rows, report.structural.peers, strict=True)
    ]
    emit(
        table_rows,
        fmt,
        title=f"De {k} {w.many} som strukturellt mest liknar {report.name} "
        f"(uppgifter från {report.structural.year})",
        columns=[
            ("rank", "#"),
            ("name", w.one.capitalize()),
            ("distance", "Avstånd"),
            ("why", "Mest lika i"),
            ("groups", "Även i"),
        ],
        numeric=["distance"],
    )
    console = out_console()
    if report.kommungrupp:
        console.print(
            f"SKR:s {safe(report.kommungrupp.label)} "
            f"({len(report.kommungrupp.members)} andra kommuner)."
        )
    if report.liknande:
        console.print(
            f"{safe(report.liknande.label)}: "
            + ", ".join(safe(report.names.get(m, m)) for m in report.liknande.members)
            + "."
        )
    if report.structural.imputed:
        console.print(
            "Saknade uppgifter ersattes med mittvärdet: "
            + ", ".join(safe(v) for v in report.structural.imputed)
        )
    if report.structural.dropped:
        console.print(
            "Likheten är bedömd utan "
            + ", ".join(safe(v) for v in report.structural.dropped_labels)
            + f", som saknas till och med {report.structural.year}."
        )
    err_console().print("Avståndet är Mahalanobis-avstånd på standardiserade strukturmått.")


def _trait(value: float, unit: str) -> str:
    if unit == "invånare":
        return number(value, 0)
    return swedish.with_unit(value, unit, None if unit == "kr" else 1)


@app.command("learn", rich_help_panel=_PANEL)
def learn_command(
    ctx: typer.Context,
    municipality: str = typer.Argument(
        None, help="Kommun eller region, namn eller kod (utelämna med --alla)."
    ),
    area: list[str] = typer.Option(
        None, "--area", "-a", help="Verksamhetsområde, t.ex. 'Gymnasieskola'. Kan upprepas."
    ),
    everyone: bool = typer.Option(
        False, "--alla", help="Hela landet: alla 290 kommuner på en gång (matrisen)."
    ),
    regions: bool = typer.Option(
        False,
        "--regioner",
        help="Med --alla: alla 21 regioner på en gång i stället för kommunerna.",
    ),
    peers: str = _PEERS,
    k: int = _K,
    fdr: float = _Q,
    as_of: int | None = _AS_OF,
    fmt: Format = _FMT,
) -> None:
    """Var ligger kommunen (regionen) tydligt efter liknande, och vilka kan den lära av?"""
    _check_peers(ctx, peers)
    if regions and not everyone:
        raise UsageError(
            "--regioner hör ihop med --alla (alla regioner på en gång); för en region, ange "
            'den: `tillit learn "Region Halland"`.',
            ctx,
        )
    if everyone and peers != "struktur":
        raise UsageError(
            "--alla jämför varje kommun med dess strukturellt mest lika (--peers struktur); "
            f"--peers {peers} går bara för en kommun i taget.",
            ctx,
        )
    settings, store = store_for()
    overrides = overrides_for(settings)
    if everyone:
        from tillit.query import national_data, national_report

        kind = "L" if regions else "K"
        national = national_report(store, k=k, q=fdr, overrides=overrides, as_of=as_of, kind=kind)
        rows = national_data(national)
        if fmt is Format.json:
            _json(rows)
            return
        if fmt is Format.csv:
            emit(rows, fmt, keys=["municipality", "kpi", "partners"])
            return
        _print_national(rows, k, kind)
        return
    if not municipality:
        raise InvalidInputError(
            "Ange en kommun eller region, eller --alla för hela landet.",
            hint='T.ex. `tillit learn Kungsbacka` eller `tillit learn "Region Halland"`.',
        )
    from tillit.query import learn_data, learn_report

    report = learn_report(
        store,
        municipality,
        areas=split_ids(area) if area else (),
        peers=peers,
        k=k,
        q=fdr,
        overrides=overrides,
        as_of=as_of,
    )
    if fmt is Format.json:
        _json(learn_data(report))
        return
    if fmt is Format.csv:
        findings = learn_data(report)["learning"]["findings"]
        rows = [
            {
                "municipality": report.municipality,
                **f,
                "partners": [p["municipality"] for p in f["partners"]],
            }
            for f in findings
        ]
        emit(rows, fmt, keys=["municipality", "kpi", "partners"])
        return
    from tillit.cli._learn_examples import partner_examples_note

    _print_learning(report, partner_examples_note(settings, report))


def _print_learning(
    report: LearnReport, examples: Callable[[str, Finding], str] | None = None
) -> None:
    """The learning report; ``examples(partner, finding)`` says what the bank holds of a
    learning partner's good examples (None: no bank to ask)."""
    console = out_console()
    learning = report.learning
    w = _Words(report.kind)
    peers = ", ".join(safe(report.names.get(m, m)) for m in report.peers.members[:12])
    console.print(
        f"[bold]{safe(report.name)}[/bold] jämförd med {safe(report.peers.label)}: {peers}"
        + (f" och {len(report.peers.members) - 12} till" if len(report.peers.members) > 12 else "")
        + "."
    )
    console.print(
        f"{learning.tested} nyckeltal prövades. {safe(report.name)} ligger tydligt efter på "
        f"{len(learning.findings)} och tydligt före på {len(learning.ahead)}."
    )
    console.print(
        f"Tydligt efter betyder att skillnaden mot {w.peers_of} median, i snitt "
        "över de tre senaste åren, är större än det vanliga årsbruset och pekar åt samma "
        f"håll det senaste året. Alla nyckeltal prövas tillsammans: om {w.the} inte "
        "skiljer sig på något är risken högst "
        f"{swedish.share(learning.q)} att ens ett enda flaggas, och bland de flaggade "
        f"är andelen felaktiga i genomsnitt högst {swedish.share(learning.q)}. "
        f"Lär av visar de jämförelse{w.many} vars nivå där är tydligt bättre. {w.Many} som "
        "bara förbättras tydligt visas som ”förbättras också”: bakgrund, inte skäl att lära "
        "av – i efterhand har de inte förbättrats mer än andra."
    )
    if not learning.findings:
        console.print(
            "Inget nyckeltal visar en skillnad i snitt över de tre senaste åren som är "
            "större än årsbruset. Det betyder inte att allt är bra – bara att ingen "
            f"skillnad mot {w.peers} går att skilja från slumpen."
        )
    area = None
    for f in learning.findings:
        if f.area != area:
            area = f.area
            console.print(f"\n[bold underline]{safe(area)}[/bold underline]")
        worse = "lägre" if f.polarity.sign > 0 else "högre"
        value, peer = swedish.side_by_side((f.value, f.peer_median))
        console.print(
            f"[bold]{safe(report.titles.get(f.kpi, f.kpi))}[/bold] ({f.kpi}), {f.year}: "
            f"{value} mot {w.peers_of} median {peer}, "
            f"skillnad {_signed(f.difference)} ([red]{worse} är sämre här[/red]; "
            f"skattad skillnad med hänsyn till årsbruset {_signed(f.shrunk_difference)}, "
            f"efter {f.years_behind} av 3 år, "
            f"q {_q(f.q_value)})."
        )
        if not f.partners:
            console.print(f"  Ingen av {w.peers} är tydligt bättre.")
        for p in f.partners:
            why = f"tydligt bättre nivå, bättre {p.years_better} av 3 år ({number(p.value)})"
            if p.improving:
                why += f"; förbättras också ({swedish.per_year(p.slope)})"
            held = f" – {safe(examples(p.municipality, f))}" if examples else ""
            console.print(
                f"  Lär av [bold]{safe(report.names.get(p.municipality, p.municipality))}[/bold]: "
                f"{why}{held}."
            )
        if f.also_improving:
            console.print(
                "  Förbättras också (bakgrund, inte skäl att lära av): "
                + ", ".join(
                    f"{safe(report.names.get(p.municipality, p.municipality))} "
                    f"({swedish.per_year(p.slope)})"
                    for p in f.also_improving
                )
                + "."
            )
    if learning.areas:
        console.print()
        emit(
            [
                {"area": a.area, "tested": a.tested, "behind": a.behind, "ahead": a.ahead}
                for a in learning.areas
            ],
            Format.table,
            title="Per verksamhetsområde",
            columns=[
                ("area", "Område"),
                ("tested", "Prövade"),
                ("behind", "Tydligt efter"),
                ("ahead", "Tydligt före"),
            ],
            numeric=["tested", "behind", "ahead"],
        )
    _print_excluded(learning)
    _print_noise_misfit(report)
    err_console().print(
        f"Ej prövade: {learning.without_polarity} nyckeltal där inget håll är bättre eller det "
        f"är okänt vilket (ange det i en egen fil, se docs/polarity.md) och "
        f"{learning.size_dependent} som växer med {w.the}s storlek. "
        "Skillnaderna är bedömda mot årsbruset, högst "
        f"{swedish.share(learning.q)} felaktiga bland de flaggade (FDR per {w.one}). "
        f"Metoden: docs/analyses.md. {LICENCE}."
    )


def _print_excluded(learning: Learning) -> None:
    """Each KPI left out as not eligible (binary, categorical, step-shaped, structural, no
    title, left out in the user's file), with its reason; the KPIs without a better
    direction and the totals are counted in the closing line (and listed in the JSON)."""
    rows = [
        {"kpi": e.kpi, "title": e.title, "why": e.explanation}
        for e in learning.excluded
        if e.reason not in ("without_polarity", "size_dependent")
    ]
    if rows:
        out_console().print()
        emit(
            rows,
            Format.table,
            title=f"Ej prövade som resultat ({len(rows)} nyckeltal, se docs/eligibility.md)",
            columns=[("kpi", "Id"), ("title", "Nyckeltal"), ("why", "Varför")],
            label_width=8,
        )


def _print_noise_misfit(report: LearnReport) -> None:
    """Each KPI not tested because its noise model failed the check on the held-back
    years (docs/analyses.md), with the check's figures."""
    rows = [
        {"kpi": kpi, "title": report.titles.get(kpi, kpi), "why": why}
        for kpi, why in report.learning.noise_misfit
    ]
    if rows:
        out_console().print()
        emit(
            rows,
            Format.table,
            title=f"Ej prövade: årsbruset passar inte ({len(rows)} nyckeltal, se docs/analyses.md)",
            columns=[("kpi", "Id"), ("title", "Nyckeltal"), ("why", "Varför")],
            label_width=8,
        )


def _q(value: float) -> str:
    """A false-discovery q-value as people read it: "< 0,001" rather than "0,000"."""
    return "< 0,001" if value < 0.001 else f"= {number(value, 3)}"


def _signed(value: float) -> str:
    return swedish.difference(value)


def _print_national(rows: list[dict[str, Any]], k: int, kind: str = "K") -> None:
    from tillit.query import national_summary

    w = _Words(kind)
    summary = national_summary(rows)
    emit(
        [{**m, "areas": "; ".join(m["areas"])} for m in summary],
        Format.table,
        title=f"Hela landet: nyckeltal där {w.the} ligger tydligt efter sina {k} mest lika",
        columns=[
            ("name", w.one.capitalize()),
            ("behind", "Tydligt efter"),
            ("with_partners", "Med någon att lära av"),
            ("areas", "Mest inom"),
        ],
        numeric=["behind", "with_partners"],
    )
    err_console().print(
        f"{len(rows)} fynd i {len(summary)} {w.many}. Hela listan: "
        f"`tillit learn --alla{' --regioner' if kind == 'L' else ''} --format csv`."
    )


def _position_label(position: str) -> str:
    from tillit.analyses import POSITION_LABELS

    return POSITION_LABELS.get(position, position)
