"""`tillit db …`, `tillit bank …` and `tillit user …`: the bank of good examples."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tillit.cli._app import bank_app, db_app, store_for, user_app
from tillit.cli._output import number, out_console, safe
from tillit.config import Settings, load_settings
from tillit.errors import InvalidInputError, NoDataError

# tillit.bank (SQLAlchemy, Alembic) loads when a bank command runs, not with every command.
if TYPE_CHECKING:
    from tillit.bank import Bank
    from tillit.store import Store

#: Kolada's municipality types: K a municipality, L a region ("0000", Riket, is no organisation).
KINDS = {"K": "kommun", "L": "region"}


def _bank(settings: Settings | None = None) -> Bank:
    from tillit.bank import open_bank

    return open_bank((settings or load_settings()).database_url)


def _where(bank: Bank) -> str:
    return bank.url


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Skapa bankens databas eller uppdatera den till den senaste versionen."""
    from tillit.bank import open_bank, upgrade

    settings = load_settings()
    revision = upgrade(settings.database_url)
    bank = open_bank(settings.database_url)
    try:
        out_console().print(
            f"Banken i {safe(_where(bank))} är på version {revision}.", highlight=False
        )
    finally:
        bank.close()


@db_app.command("status")
def db_status() -> None:
    """Visa vilken version bankens databas är på."""
    from tillit.bank import current_revision, head_revision, open_bank

    settings = load_settings()
    bank = open_bank(settings.database_url, check=False)
    try:
        current, head = current_revision(bank.engine), head_revision()
    finally:
        bank.close()
    state = "aktuell" if current == head else "behöver `tillit db upgrade`"
    out_console().print(
        f"Banken i {safe(_where(bank))}: version {current or 'ingen'} (senaste {head}), {state}.",
        highlight=False,
    )


def organisation_rows(store: Store) -> list[tuple[str, str, str]]:
    """(code, name, kind) of the store's municipalities and regions, for the bank."""
    return [
        (r["id"], r["title"], KINDS[r["type"]])
        for r in store.municipalities()
        if r["type"] in KINDS and r["id"] != "0000"
    ]


@bank_app.command("seed")
def bank_seed() -> None:
    """Lägg in kommunerna och regionerna ur arkivets metadata som organisationer."""
    settings, store = store_for()
    rows = organisation_rows(store)
    if not rows:
        raise NoDataError(
            "Arkivet har inga kommuner eller regioner.",
            hint="Kör `tillit sync --metadata` eller importera municipality-katalogen först.",
        )
    bank = _bank(settings)
    try:
        added, updated = bank.seed_organisations(rows)
    finally:
        bank.close()
    municipalities = sum(1 for r in rows if r[2] == "kommun")
    out_console().print(
        f"{number(municipalities)} kommuner och {number(len(rows) - municipalities)} regioner: "
        f"{number(added)} nya, {number(updated)} ändrade, "
        f"{number(len(rows) - added - updated)} oförändrade.",
        highlight=False,
    )


@bank_app.command("add-organisation")
def bank_add_organisation(
    name: str = typer.Argument(..., help='Namnet, t.ex. "SKR" eller "Socialstyrelsen".'),
    code: str = typer.Option(None, "--code", help="En egen kod (frivillig)."),
) -> None:
    """Lägg till en organisation som inte är en kommun eller region (SKR, en myndighet …)."""
    bank = _bank()
    try:
        org = bank.add_organisation(name, "other", code=code)
    finally:
        bank.close()
    out_console().print(
        f"Organisationen {safe(org.name)} är tillagd (id {org.id}).", highlight=False
    )


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {number(n)}" for table, n in counts.items() if n)


@bank_app.command("export")
def bank_export(
    file: Path = typer.Argument(..., help="JSON Lines-filen att skriva, t.ex. bank.jsonl."),
) -> None:
    """Exportera hela banken som JSON Lines (en säkerhetskopia; innehåller lösenordshashar)."""
    from tillit.bank import export_bank

    bank = _bank()
    try:
        counts = export_bank(bank, file)
    finally:
        bank.close()
    out_console().print(
        f"Exporterade {number(sum(counts.values()))} rader till {safe(file)} "
        f"({_summary(counts) or 'tom bank'}).",
        highlight=False,
    )


@bank_app.command("import")
def bank_import(
    file: Path = typer.Argument(..., help="En fil från `tillit bank export`."),
) -> None:
    """Läs in en export i en tom, migrerad bank (t.ex. för att flytta till PostgreSQL)."""
    from tillit.bank import import_bank

    if not file.is_file():
        raise InvalidInputError(f"Filen {file} finns inte.")
    bank = _bank()
    try:
        counts = import_bank(bank, file)
    finally:
        bank.close()
    out_console().print(
        f"Läste in {number(sum(counts.values()))} rader ({_summary(counts) or 'tom fil'}).",
        highlight=False,
    )


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInputError("Inget lösenord på standard in.")
        return password
    password = str(typer.prompt("Lösenord", hide_input=True))
    again = str(typer.prompt("Upprepa lösenordet", hide_input=True))
    if password != again:
        raise InvalidInputError("Lösenorden är olika.", hint="Kör kommandot igen.")
    return password


@user_app.command("add")
def user_add(
    email: str = typer.Argument(..., help="E-postadressen, som också är inloggningsnamnet."),
    role: str = typer.Option(..., "--role", "-r", help="admin, editor eller reader."),
    organisation: str = typer.Option(
        None, "--organisation", "-o", help="Organisationens kod eller namn (krävs för editor)."
    ),
    name: str = typer.Option(None, "--name", "-n", help="Namnet som visas."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Läs lösenordet från standard in i stället för att fråga."
    ),
) -> None:
    """Lägg till ett konto i banken."""
    from tillit.bank import ROLES

    if role not in ROLES:
        raise InvalidInputError(
            f"Okänd roll {role!r}.", hint="Använd --role admin, editor eller reader."
        )
    bank = _bank()
    try:
        password = _password(password_stdin)
        user = bank.add_user(email, password, name or "", role, organisation)
    finally:
        bank.close()
    where = f" för {user.organisation_code}" if user.organisation_code else ""
    out_console().print(
        f"Kontot {safe(user.email)} ({user.role}{where}) är skapat, id {user.id}.", highlight=False
    )


@user_app.command("list")
def user_list() -> None:
    """Visa bankens konton."""
    bank = _bank()
    try:
        users = bank.users()
    finally:
        bank.close()
    console = out_console()
    for user in users:
        state = "" if user.is_active else " (avstängt)"
        org = f" {user.organisation_code}" if user.organisation_code else ""
        console.print(f"{user.id}\t{safe(user.email)}\t{user.role}{org}{state}", highlight=False)
