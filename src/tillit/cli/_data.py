"""`tillit sync`, `tillit import`, `tillit status`: bringing data in and seeing what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tillit import swedish
from tillit.cli._app import app, parse_date, parse_years, split_ids, store_for
from tillit.cli._output import (
    Format,
    RichProgress,
    emit,
    err_console,
    number,
    out_console,
    print_error,
    safe,
)
from tillit.errors import StoreLockedError, TillitError
from tillit.store import LICENCE

#: A provenance record's kind, in words.
_KINDS = {"sync": "synk", "import": "import"}


@app.command()
def sync(
    kpi: list[str] = typer.Option(
        None,
        "--kpi",
        "-k",
        help="Nyckeltals-id, t.ex. N00945 (flera med komma eller upprepad flagga).",
    ),
    group: list[str] = typer.Option(
        None,
        "--group",
        "-g",
        help='Nyckeltalsgrupp, namn eller id, t.ex. "Kommunens kvalitet i korthet".',
    ),
    municipality: list[str] = typer.Option(
        None, "--municipality", "-m", help="Kommun eller region, namn eller kod."
    ),
    everything: bool = typer.Option(False, "--all", help="Alla nyckeltal (stort!)."),
    years: str = typer.Option(
        None, "--years", "-y", help="År, t.ex. 2015-2024 (standard: 1990 till i år)."
    ),
    since: str = typer.Option(
        None,
        "--since",
        help="Bara värden ändrade från detta datum (ÅÅÅÅ-MM-DD): en snabb uppdatering.",
    ),
    metadata: bool = typer.Option(
        False,
        "--metadata",
        help="Hämta (bara) Koladas metadata: nyckeltal, grupper, kommuner, enheter.",
    ),
    ou: bool = typer.Option(
        False,
        "--ou",
        help="Hämta enhetsdata (/oudata) i stället för "
        "kommundata; --municipality väljer kommunernas enheter.",
    ),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Ersätt metadatakatalogerna även när Koladas lista är mycket kortare än arkivets "
        "(se TILLIT_SYNC_MAX_SHRINK).",
    ),
) -> None:
    """Hämta nyckeltal från Koladas öppna API till det lokala arkivet.

    En avbruten synk fortsätter där den slutade när samma kommando körs igen.
    """
    from tillit.sync import SyncRequest, client_for, run_sync  # httpx: only when syncing

    settings, store = store_for()
    request = SyncRequest(
        kpis=split_ids(kpi),
        groups=group or [],
        municipalities=split_ids(municipality),
        everything=everything,
        years=parse_years(years),
        since=parse_date(since),
        metadata_only=metadata,
        ou=ou,
        replace=replace,
        max_shrink=settings.sync_max_shrink,
    )
    console = err_console()
    with client_for(settings) as client, RichProgress(console) as progress:
        outcome = run_sync(store, client, request, progress=progress)
    if outcome.metadata:
        rows = outcome.metadata.rows
        # Only the catalogues written: one kept back (a refused listing) was warned about.
        written = [
            f"{number(rows[table])} {swedish.dataset(table)}"
            for table in ("kpi", "kpi_groups", "municipality", "municipality_groups", "ou")
            if table in rows
        ]
        if written:
            console.print(f"Metadata: {', '.join(written)}.")
    result = outcome.values
    if result is None:
        return
    merge = result.merge
    changes = (
        f"{number(merge.inserted)} nya, {number(merge.updated)} ändrade, "
        f"{number(merge.deleted)} borttagna, {number(merge.unchanged)} oförändrade"
        if merge
        else "inga värden"
    )
    console.print(
        f"[bold green]Klart:[/bold green] {number(result.values_fetched)} värden hämtade "
        f"({changes}) på {number(result.seconds, 1)} s – "
        f"{number(result.values_per_second, 0)} värden/s, {number(result.requests)} anrop. "
        f"{LICENCE}."
    )
    if outcome.groups and not outcome.municipalities:
        console.print(
            f'Visa dem med t.ex. `tillit values --group "{safe(outcome.groups[0])}" '
            "--municipality Stockholm`."
        )
    elif outcome.kpis and not outcome.municipalities:
        console.print(
            f"Visa dem med t.ex. `tillit values {outcome.kpis[0]} --municipality Stockholm`."
        )


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(
        ...,
        help="Filer: Parquet/CSV med värden, eller Koladas metadata som JSON.",
        show_default=False,
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json eller csv."),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Ersätt hela katalogen (nyckeltal, kommuner, grupper, enheter) med filens poster "
        "i stället för att slå samman dem per id.",
    ),
) -> None:
    """Läs in filer i Kolada-format (när Kolada inte kan nås, eller för stora uttag).

    Värdefiler har kolumnerna `kpi`, `municipality_id`, `year`, `gender` och `value` (`count`
    och `status` får finnas). Felaktiga rader redovisas (fil, rad, orsak) och de korrekta sparas.
    """
    from tillit.sync import import_path

    _, store = store_for()
    console = err_console()
    # Metadata first, so values can be looked up by name as soon as they land.
    ordered = sorted(paths, key=lambda p: not p.name.lower().endswith(".json"))
    summaries = []
    failed: list[str] = []
    for path in ordered:
        try:
            with RichProgress(console, unit="rader") as progress:
                result = import_path(store, path, replace=replace, progress=progress)
        except StoreLockedError:
            raise
        except TillitError as exc:
            # One bad file does not stop the others: say what is wrong with it and go on.
            failed.append(path.name)
            message = exc.message if path.name in exc.message else f"{path.name}: {exc.message}"
            print_error(message, exc.hint)
            summaries.append(
                {
                    "file": str(path),
                    "kind": None,
                    "rows_read": 0,
                    "rows_kept": 0,
                    "rejected": 0,
                    "report": None,
                    "seconds": 0.0,
                    "error": message,
                }
            )
            continue
        summaries.append(
            {
                "file": str(path),
                "kind": result.kind,
                "rows_read": result.rows_read,
                "rows_kept": result.rows_kept,
                "rejected": result.rejected_total,
                "report": str(result.report) if result.report else None,
                "seconds": result.seconds,
                "error": None,
            }
        )
        if result.rejected and fmt is Format.table:
            first = (
                ""
                if result.rejected_total <= 10
                else (f" (de första 10 av {number(result.rejected_total)})")
            )
            emit(
                [{"line": r.line, "reason": r.reason, **r.row} for r in result.rejected[:10]],
                Format.table,
                title=f"Avvisade rader i {path.name}{first}",
                columns=[
                    ("line", "Rad"),
                    ("reason", "Orsak"),
                    ("kpi", "Nyckeltal"),
                    ("municipality_id", "Kommun"),
                    ("year", "År"),
                    ("gender", "Kön"),
                    ("value", "Värde"),
                ]
                + (
                    [("text", "Raden")]
                    if any(r.row.get("text") for r in result.rejected[:10])
                    else []
                ),
            )
            console.print(f"Alla avvisade rader: {safe(result.report)}")
        what = "rader" if result.kind == "values" else f"poster ({swedish.dataset(result.kind)})"
        console.print(
            f"[bold green]Klart:[/bold green] {safe(path.name)}: {number(result.rows_read)} {what} "
            f"lästa, {number(result.rows_kept)} sparade, {number(result.rejected_total)} "
            f"avvisade på {number(result.seconds, 1)} s "
            f"({number(result.rows_per_second, 0)} rader/s)."
        )
    if fmt is not Format.table:
        emit(summaries, fmt)
    if failed:
        print_error(
            f"{len(failed)} av {len(ordered)} filer kunde inte läsas in: {', '.join(failed)}.",
            "Rätta filerna enligt felen ovan och läs in dem igen"
            + ("." if len(failed) == len(ordered) else "; de andra filerna är inlästa."),
        )
        raise typer.Exit(1)


@app.command()
def status(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json eller csv."),
) -> None:
    """Visa vad arkivet innehåller och varifrån det kom (proveniens)."""
    _, store = store_for()
    summary = store.summary()
    history: list[dict[str, Any]] = [
        {
            "when": p.fetched_at,
            "kind": p.kind,
            "dataset": p.dataset,
            "source": p.source,
            "rows": p.rows,
            "checksum": p.checksum,
            "licence": p.licence,
        }
        for p in store.provenance()
    ]
    if fmt is Format.json:
        emit([{**summary, "history": history}], fmt)
        return
    if fmt is Format.csv:
        emit([{k: v for k, v in h.items() if k != "rows"} for h in history], fmt)
        return
    console = out_console()
    console.print(f"Arkiv: {safe(summary['directory'])}")
    console.print(
        f"{number(summary['values'])} värden"
        + (
            f" för {number(summary['kpis_with_values'])} nyckeltal och "
            f"{number(summary['municipalities_with_values'])} kommuner/regioner, "
            f"{summary['first_year']}–{summary['last_year']}"
            if summary["values"]
            else ""
        )
        + f"; {number(summary['ou_values'])} enhetsvärden."
    )
    meta = summary["metadata"]
    console.print(
        f"Metadata: {number(meta['kpi'])} nyckeltal, {number(meta['kpi_groups'])} grupper, "
        f"{number(meta['municipality'])} kommuner/regioner, "
        f"{number(meta['municipality_groups'])} kommungrupper, {number(meta['ou'])} enheter."
    )
    for unfinished in summary["unfinished_syncs"]:
        console.print(
            f"[yellow]Avbruten synk[/yellow] från "
            f"{str(unfinished['created'])[:16].replace('T', ' ')} (UTC): "
            f"{number(unfinished['pages'])} sidor hämtade. Kör samma `tillit sync` igen för att "
            "avsluta den."
        )
    if not summary["values"] and not meta["kpi"]:
        console.print(
            'Arkivet är tomt. Börja med `tillit sync --group "Kommunens kvalitet i '
            'korthet"` eller, utan nätverk, `tillit import FIL`.'
        )
        return
    emit(
        [
            {
                **h,
                "when": h["when"][:16].replace("T", " "),
                "kind": _KINDS.get(h["kind"], h["kind"]),
                "dataset": swedish.dataset(h["dataset"]),
                "source": Path(h["source"]).name if h["kind"] == "import" else h["source"],
                "rows": ", ".join(
                    f"{number(v)} {swedish.ROW_COUNTS.get(k, k)}" for k, v in h["rows"].items()
                ),
            }
            for h in history[-15:]
        ],
        Format.table,
        title="Senaste synkar och importer",
        columns=[
            ("when", "När (UTC)"),
            ("kind", "Typ"),
            ("dataset", "Data"),
            ("rows", "Rader"),
            ("source", "Källa"),
        ],
    )
