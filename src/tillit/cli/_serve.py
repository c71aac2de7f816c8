"""`tillit serve`: the web app, Swedish pages and the JSON API, on the embedded defaults
(the store under TILLIT_HOME and its SQLite bank) or on TILLIT_DATABASE_URL's bank."""

from __future__ import annotations

import typer

from tillit.cli._app import app, store_for
from tillit.cli._output import err_console
from tillit.config import Settings, load_settings, set_for_workers
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


def empty_store_note(settings: Settings) -> str:
    """For the start-up message: what to run when the store has no data yet ("" when it
    has). The site starts all the same; its start page says the same to the visitor."""
    _settings, store = store_for(settings)
    if store.metadata.exists("municipality") and store.values.manifest().get("rows", 0):
        return ""
    return (
        f"Obs: Arkivet ({settings.store_dir}) har inga nyckeltal ännu; webbplatsen startar ändå "
        "och säger det på startsidan. Läs in data medan den är igång: `tillit sync --metadata` "
        'och t.ex. `tillit sync --group "Kommunens kvalitet i korthet"`, eller utan nätverk '
        "`tillit import FIL…`."
    )


@app.command("serve", rich_help_panel="Webb")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Adress att lyssna på."),
    port: int = typer.Option(8000, "--port", help="Port att lyssna på."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Antal serverprocesser (var och en läser in analyserna, ca 0,7 GB minne).",
    ),
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

    if cookie_secure:
        set_for_workers("TILLIT_COOKIE_SECURE", "1")
    settings = load_settings()
    console = err_console()
    for note in (prepare_bank(settings), empty_store_note(settings)):
        if note:
            console.print(note, highlight=False, markup=False)
    console.print(
        f"Tillit lyssnar på http://{host}:{port}/ (API-dokumentation: /api/docs). "
        "Analyserna läses in i bakgrunden. Avsluta med Ctrl-C.",
        highlight=False,
    )
    if workers == 1:
        from tillit.web import app_from_environment

        uvicorn.run(
            app_from_environment(),
            host=host,
            port=port,
            log_level="warning",
            # Forwarded addresses are believed only from TILLIT_TRUSTED_PROXIES (the app's
            # ForwardedMiddleware), never from uvicorn's default of 127.0.0.1.
            proxy_headers=False,
        )
    else:
        _serve_workers(host, port, workers)


def _serve_workers(host: str, port: int, workers: int) -> None:
    """Several server processes on one listening socket. uvicorn creates that socket
    without naming TCP, so asyncio leaves Nagle's algorithm on for the connections it
    accepts, and small responses then wait for the client's delayed ACK (~40 ms each).
    TCP_NODELAY on the listening socket is inherited by every accepted connection."""
    import contextlib
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "tillit.web:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,  # TILLIT_TRUSTED_PROXIES decides (ForwardedMiddleware)
    )
    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()
