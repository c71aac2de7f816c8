"""`tillit serve`: the web app (the bank's JSON API now; the Swedish pages come later)."""

from __future__ import annotations

import typer

from tillit.cli._app import app
from tillit.cli._output import err_console


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
    """Starta webbappen: JSON-API:t för banken med goda exempel på /api (dokumentation på
    /api/docs). Banken är TILLIT_DATABASE_URL (standard: SQLite under TILLIT_HOME)."""
    import uvicorn

    from tillit.web import create_app

    web = create_app(cookie_secure=cookie_secure)
    err_console().print(
        f"Tillit lyssnar på http://{host}:{port}/ (API-dokumentation: /api/docs). "
        "Avsluta med Ctrl-C."
    )
    uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=True)
