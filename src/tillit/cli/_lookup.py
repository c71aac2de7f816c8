"""`tillit kpi`, `tillit municipality`, `tillit values`: looking things up in the store."""

from __future__ import annotations

from typing import Any

import typer

from tillit.cli._app import app, kpi_app, municipality_app, parse_years, split_ids, store_for
from tillit.cli._output import (
    Format,
    decimals_for,
    emit,
    err_console,
    number,
    out_console,
    safe,
    shown_of,
)
from tillit.errors import InvalidInputError
from tillit.store import LICENCE

_FMT = typer.Option(Format.table, "--format", "-f", help="table, json eller csv.")
_YES_NO = {True: "ja", False: "nej", None: "–"}


@kpi_app.command("search")
def kpi_search(
    text: str = typer.Argument(..., help='Sökord, t.ex. "äldreomsorgen" eller "väntetid".'),
    limit: int = typer.Option(20, "--limit", "-n", help="Högst så många träffar."),
    fmt: Format = _FMT,
) -> None:
    """Sök nyckeltal på titel och beskrivning (böjningar, versaler och å/ä/ö spelar ingen roll)."""
    if limit < 1:
        raise InvalidInputError("--limit måste vara minst 1.")
    _, store = store_for()
    hits, total = store.search_kpis_page(text, limit=limit)
    rows = [
        {
            "id": r["id"],
            "title": r["title"],
            "operating_area": r["operating_area"],
            "municipality_type": r["municipality_type"],
            "score": s,
        }
        for r, s in hits
    ]
    if fmt is Format.table and not rows:
        err_console().print(
            f"Inga nyckeltal matchar {safe(repr(text))}. Prova ett kortare eller annat ord."
        )
        return
    emit(
        [{**r, "score": None if r["score"] == float("inf") else r["score"]} for r in rows],
        fmt,
        keys=["id", "title", "operating_area", "municipality_type", "score"],
        title=f"Nyckeltal som matchar {text!r}",
        columns=[("id", "Id"), ("title", "Titel"), ("operating_area", "Verksamhetsområde")],
        caption=f"{shown_of(len(rows), total, 'nyckeltal')}." if fmt is Format.table else None,
    )


@kpi_app.command("show")
def kpi_show(
    kpi: str = typer.Argument(..., help="Nyckeltalets id, t.ex. N00945."),
    fmt: Format = _FMT,
) -> None:
    """Visa ett nyckeltals beskrivning och metadata."""
    _, store = store_for()
    row = {k: v for k, v in store.kpi(kpi).items() if not k.startswith("search_")}
    groups = {
        m["group_id"] for m in store.metadata.read("kpi_group_members") if m["kpi"] == row["id"]
    }
    row["groups"] = [g["title"] for g in store.metadata.read("kpi_groups") if g["id"] in groups]
    if fmt is not Format.table:
        emit([row], fmt)
        return
    labels = [
        ("id", "Id"),
        ("title", "Titel"),
        ("description", "Beskrivning"),
        ("operating_area", "Verksamhetsområde"),
        ("perspective", "Perspektiv"),
        ("municipality_type", "Gäller (K kommun, L region, A alla)"),
        ("is_divided_by_gender", "Könsuppdelat"),
        ("has_ou_data", "Enhetsdata"),
        ("publ_period", "Senaste period"),
        ("publication_date", "Publiceras"),
        ("groups", "Ingår i grupper"),
    ]
    show = [
        {
            "field": label,
            "value": _YES_NO[row[k]]
            if isinstance(row[k], bool | None) and k in ("is_divided_by_gender", "has_ou_data")
            else (", ".join(row[k]) if isinstance(row[k], list) else row[k]),
        }
        for k, label in labels
    ]
    emit(
        show,
        Format.table,
        title=f"{row['id']} {row['title']}",
        columns=[("field", ""), ("value", "")],
        caption=LICENCE,
    )


@kpi_app.command("groups")
def kpi_groups(
    text: str = typer.Argument(None, help="Del av gruppens namn (utelämna för alla)."),
    fmt: Format = _FMT,
) -> None:
    """Lista Koladas nyckeltalsgrupper (t.ex. \"Kommunens kvalitet i korthet\")."""
    _, store = store_for()
    rows = store.kpi_groups(text)
    emit(
        rows,
        fmt,
        title="Nyckeltalsgrupper",
        numeric=["kpis"],
        columns=[("id", "Id"), ("title", "Titel"), ("kpis", "Nyckeltal")],
    )


def _kind(row: dict[str, Any]) -> str:
    """kommun, region or riket (Kolada's type K or L, and Riket's code 0000)."""
    if row["id"] == "0000":
        return "riket"
    return {"K": "kommun", "L": "region"}.get(row["type"], row["type"] or "–")


def _municipality_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "title": r["title"], "type": _kind(r)} for r in rows]


@municipality_app.command("search")
def municipality_search(
    text: str = typer.Argument(..., help="Namn, del av namn eller kod."),
    limit: int = typer.Option(20, "--limit", "-n", help="Högst så många träffar."),
    fmt: Format = _FMT,
) -> None:
    """Sök kommuner och regioner på namn eller kod ("goteborg" hittar Göteborg)."""
    if limit < 1:
        raise InvalidInputError("--limit måste vara minst 1.")
    _, store = store_for()
    found = _municipality_rows(store.search_municipalities(text, limit=100_000))
    rows = found[:limit]
    if fmt is Format.table and not rows:
        err_console().print(f"Ingen kommun eller region matchar {safe(repr(text))}.")
        return
    emit(
        rows,
        fmt,
        title=f"Kommuner och regioner som matchar {text!r}",
        columns=[("id", "Kod"), ("title", "Namn"), ("type", "Typ")],
        caption=f"{shown_of(len(rows), len(found), 'träff')}." if fmt is Format.table else None,
    )


@municipality_app.command("show")
def municipality_show(
    municipality: str = typer.Argument(..., help="Namn eller kod."),
    fmt: Format = _FMT,
) -> None:
    """Visa en kommun: kod, typ, SKR:s kommungrupp och Koladas "Liknande kommuner"-grupper."""
    _, store = store_for()
    out = store.municipality_profile(municipality)
    if fmt is not Format.table:
        emit([out], fmt)
        return
    similar = "Liknande regioner" if out["type"] == "L" else "Liknande kommuner"
    emit(
        [
            {"field": "Kod", "value": out["id"]},
            {"field": "Namn", "value": out["title"]},
            {"field": "Typ", "value": _kind(out)},
            {"field": "SKR:s kommungrupp 2023", "value": out["kommungrupp_2023"] or "–"},
            {
                "field": f"{similar} (Kolada)",
                "value": "\n".join(out["liknande_kommuner"]) or "–",
            },
        ],
        Format.table,
        title=out["title"],
        columns=[("field", ""), ("value", "")],
    )


@app.command()
def values(
    kpi: list[str] = typer.Argument(None, help="Nyckeltals-id, ett eller flera."),
    group: str = typer.Option(None, "--group", "-g", help="Alla nyckeltal i en grupp."),
    municipality: list[str] = typer.Option(
        None, "--municipality", "-m", help="Kommun eller region (namn eller kod)."
    ),
    years: str = typer.Option(None, "--years", "-y", help="År, t.ex. 2018-2022."),
    gender: str = typer.Option("T", "--gender", help="T (totalt), K (kvinnor), M (män) eller all."),
    fmt: Format = _FMT,
) -> None:
    """Visa lagrade värden för nyckeltal, per kommun och år."""
    _, store = store_for()
    table = store.lookup_values(
        split_ids(kpi),
        group=group,
        municipalities=split_ids(municipality),
        years=parse_years(years),
        genders=None if gender.lower() == "all" else [g.upper() for g in split_ids([gender])],
    )
    rows = table.to_pylist()
    if fmt is not Format.table:
        emit(rows, fmt, keys=table.column_names)
        return
    _print_wide(store, rows)


def _print_wide(store: Any, rows: list[dict[str, Any]]) -> None:
    """Years across (the latest ten). One municipality: one table, a KPI per row. Several:
    a table per KPI, a municipality per row. The gender column only when not all are T."""
    if not rows:
        err_console().print("Inga värden matchar urvalet. Prova andra år eller kommuner.")
        return
    names = {m["id"]: m["title"] for m in store.metadata.read("municipality")}
    titles = {k["id"]: k["title"] for k in store.metadata.read("kpi")}
    with_gender = any(r["gender"] != "T" for r in rows)
    municipalities = {r["municipality"] for r in rows}
    if len(municipalities) == 1:
        (code,) = municipalities
        _year_table(
            rows,
            lambda r: (r["kpi"], r["gender"]),
            lambda r: {"row": f"{r['kpi']} {titles.get(r['kpi'], '')}", "gender": r["gender"]},
            title=f"{names.get(code, code)} ({code})",
            heading="Nyckeltal",
            with_gender=with_gender,
        )
        return
    by_kpi: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kpi.setdefault(row["kpi"], []).append(row)
    for kpi_id, kpi_rows in by_kpi.items():
        _year_table(
            kpi_rows,
            lambda r: (r["municipality"], r["gender"]),
            lambda r: {
                "row": f"{names.get(r['municipality'], '')} ({r['municipality']})",
                "gender": r["gender"],
            },
            title=f"{kpi_id} {titles.get(kpi_id, '')}",
            heading="Kommun",
            with_gender=with_gender,
        )


def _year_table(
    rows: list[dict[str, Any]],
    key: Any,
    label: Any,
    *,
    title: str,
    heading: str,
    with_gender: bool,
) -> None:
    years = sorted({r["period"] for r in rows})
    # As many recent years as fit beside a readable label: about 10 characters a year.
    room = out_console().width - (40 if with_gender else 34)
    shown = years[-max(3, min(10, room // 10)) :]
    grid: dict[Any, dict[str, Any]] = {}
    for r in rows:
        grid.setdefault(key(r), label(r))[str(r["period"])] = r["value"]
    for cells in grid.values():  # one number format per row: 37,00 beside 39,40, not 37
        numbers = [cells[str(y)] for y in shown if cells.get(str(y)) is not None]
        places = decimals_for(numbers)
        for y in shown:
            if str(y) in cells:
                cells[str(y)] = number(cells[str(y)], places)
    caption = LICENCE + (
        f". Visar {shown[0]}–{shown[-1]} av {years[0]}–{years[-1]}; välj år med --years."
        if len(years) > len(shown)
        else "."
    )
    columns = [("row", heading)] + ([("gender", "Kön")] if with_gender else [])
    columns += [(str(y), str(y)) for y in shown]
    emit(
        list(grid.values()),
        Format.table,
        title=title,
        columns=columns,
        label_width=28,
        numeric=[str(y) for y in shown],
        caption=caption,
    )
