"""`tillit serve`: the web app, Swedish pages and the JSON API, on the embedded defaults
(the store under TILLIT_HOME and its SQLite bank) or on TILLIT_DATABASE_URL's bank."""

from __future__ import annotations

import typer

from tillit.cli._app import app, store_for
from tillit.cli._output import err_console
from tillit.config import Settings
from tillit.errors import TillitError


def prepare_bank(settings: Settings) -> str:
    """Make the embedded SQLite bank ready with no other setup: create or migrate it, and
    add the store's municipalities and regions as organisations when it has none. A
    shared server's bank (TILLIT_DATABASE_URL, PostgreSQL) is migrated by its owner with
    `tillit db upgrade`; it is only checked when the app opens it. Returns a note for
    the start-up message ("" when nothing was done)."""
    from tillit.bank import open_bank, upgrade

    if not settings.database_url.startswith("sqlite"):
        return ""
    upgrade(settings.database_url)
    bank = open_bank(settings.database_url)
    try:
        if bank.organisations():
            return ""
        from tillit.cli._bank import organisation_rows

        _settings, store = store_for(settings)
        try:
            rows = organisation_rows(store)
        except TillitError:  # an empty store: nothing to seed from yet
            return ""
        added, _updated = bank.seed_organisations(rows)
        return f"Banken fick {added} kommuner och regioner som organisationer."
    finally:
        bank.close()


@app.command("serve", rich_help_panel="Webb")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Adress att lyssna på."),
    port: int = typer.Option(8000, "--port", help="Port att lyssna på."),
    cookie_secure: bool = typer.Option(
        False,
        "--cookie-secure",
        help="Märk sessionskakan Secure (bakom en proxy som sköter https).",
    ),
) -> None:
    """Starta webbplatsen: sidor om kommunernas resultat, jämförelser och goda exempel,
    och JSON-API:t på /api (dokumentation på /api/docs). Arkivet är TILLIT_HOME, banken
    TILLIT_DATABASE_URL (standard: SQLite under TILLIT_HOME, som skapas vid behov)."""
    import uvicorn

    from tillit.cli._analyses import overrides_for
    from tillit.query import Atlas
    from tillit.web import create_app

    settings, store = store_for()
    note = prepare_bank(settings)
    atlas = Atlas(store, overrides=overrides_for(settings))
    web = create_app(settings, cookie_secure=cookie_secure, atlas=atlas, warm=True)
    console = err_console()
    if note:
        console.print(note, highlight=False)
    console.print(
        f"Tillit lyssnar på http://{host}:{port}/ (API-dokumentation: /api/docs). "
        "Analyserna läses in i bakgrunden. Avsluta med Ctrl-C.",
        highlight=False,
    )
    uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=True)
