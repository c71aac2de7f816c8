"""The `tillit` Typer app, its shared options, and the one place errors become messages."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from datetime import date
from enum import IntEnum
from typing import Any

import typer
from rich.markup import escape
from typer import rich_utils

from tillit import __version__
from tillit.cli._output import err_console
from tillit.cli._swedish import swedish_command, usage_error
from tillit.config import Settings, load_settings
from tillit.errors import InvalidInputError, TillitError
from tillit.store import Store

__all__ = [
    "ExitCode",
    "app",
    "bank_app",
    "db_app",
    "goal_app",
    "kpi_app",
    "main",
    "municipality_app",
    "parse_years",
    "remiss_app",
    "split_ids",
    "store_for",
    "trial_app",
    "user_app",
]

# Typer's help panels, in Swedish like the rest of what Tillit prints.
rich_utils.ARGUMENTS_PANEL_TITLE = "Argument"
rich_utils.OPTIONS_PANEL_TITLE = "Flaggor"
rich_utils.COMMANDS_PANEL_TITLE = "Kommandon"
rich_utils.ERRORS_PANEL_TITLE = "Fel"
rich_utils.REQUIRED_LONG_STRING = "[krävs]"
rich_utils.DEFAULT_STRING = "[standard: {}]"

app = typer.Typer(
    name="tillit",
    help="Tillit: Koladas nyckeltal lokalt – hämta, läs in och slå upp.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
kpi_app = typer.Typer(help="Sök och visa nyckeltal (KPI).", no_args_is_help=True)
municipality_app = typer.Typer(help="Sök och visa kommuner och regioner.", no_args_is_help=True)
app.add_typer(kpi_app, name="kpi")
app.add_typer(municipality_app, name="municipality")
db_app = typer.Typer(help="Bankens databas: migreringar.", no_args_is_help=True)
bank_app = typer.Typer(
    help="Banken med goda exempel: läs in, exportera, importera.", no_args_is_help=True
)
user_app = typer.Typer(help="Konton i banken.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bank_app, name="bank")
app.add_typer(user_app, name="user")
trial_app = typer.Typer(
    help="Försök: registrera, visa och utvärdera med syntetisk kontroll.", no_args_is_help=True
)
app.add_typer(trial_app, name="trial")
goal_app = typer.Typer(
    help="Mål: sätt mål på nyckeltal, pröva mätbarheten och följ upp dem ärligt.",
    no_args_is_help=True,
)
app.add_typer(goal_app, name="goal")
remiss_app = typer.Typer(
    help="Remisser: läs in remissvar och sammanställ ståndpunkterna förslag för förslag.",
    no_args_is_help=True,
)
app.add_typer(remiss_app, name="remiss")


class ExitCode(IntEnum):
    """The exit codes of `tillit`, the ones docs/cli.md lists (a test holds them equal)."""

    OK = 0
    """Success; also "nothing matched", and `tillit` or a command group alone (the help)."""
    ERROR = 1
    """A Tillit error: "Fel: …" and "Nästa steg: …" on stderr."""
    USAGE = 2
    """A usage error: an unknown option or command, a missing or malformed argument."""
    INTERRUPTED = 130
    """Ctrl-C in a sync or an import; what was saved is kept."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tillit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Visa versionen."
    ),
) -> None:
    """Tillit: Koladas nyckeltal lokalt – hämta, läs in och slå upp."""


def store_for(settings: Settings | None = None) -> tuple[Settings, Store]:
    settings = settings or load_settings()
    return settings, Store(settings.store_dir, memory_limit=settings.memory_limit)


def split_ids(values: Sequence[str] | None) -> list[str]:
    """Options may repeat and hold comma lists: --kpi N1,N2 --kpi N3."""
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]


_YEAR_PART = re.compile(r"^(\d{4})(?:\s*[-–:]\s*(\d{4}))?$")


def parse_years(text: str | None) -> list[int]:
    """ "2015-2024", "2020", "2018,2020-2022" -> a sorted list of years."""
    if not text:
        return []
    years: set[int] = set()
    for part in text.split(","):
        match = _YEAR_PART.match(part.strip())
        if not match:
            raise InvalidInputError(
                f"Kan inte tolka årtalen {text!r}.",
                hint="Skriv t.ex. --years 2020, --years 2015-2024 eller --years 2018,2020-2022.",
            )
        first, last = int(match[1]), int(match[2] or match[1])
        if first > last or not 1900 <= first <= 2200 or not 1900 <= last <= 2200:
            raise InvalidInputError(f"Årsintervallet {part.strip()!r} är ogiltigt.")
        years.update(range(first, last + 1))
    return sorted(years)


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"Kan inte tolka datumet {text!r}.",
            hint="Skriv datum som ÅÅÅÅ-MM-DD, t.ex. 2025-01-31.",
        ) from None


def _show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
    err_console().print(f"[yellow]Obs:[/yellow] {escape(str(message))}")


def _print_error(message: str, hint: str | None) -> None:
    """The one shape of every error: "Fel:" and what went wrong, "Nästa steg:" and what to do."""
    console = err_console()
    console.print(f"[bold red]Fel:[/bold red] {escape(message)}", highlight=False)
    if hint:
        console.print(f"[bold]Nästa steg:[/bold] {escape(hint)}", highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; translate Tillit's errors into a message and the next step. Returns the
    exit code, one of `ExitCode`."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = _show_warning
        try:
            # Outside standalone mode Typer returns exit codes (130 for Ctrl-C) instead of
            # exiting; commands themselves return None.
            # prog_name: the help and the hints say `tillit …` also under `python -m tillit`.
            # Typer's own words (the help option, "Usage:", usage errors) in Swedish too.
            result = swedish_command(app).main(
                args=list(argv) if argv is not None else None,
                prog_name="tillit",
                standalone_mode=False,
            )
        except TillitError as exc:
            _print_error(exc.message, exc.hint)
            return ExitCode.ERROR
        except typer.Exit as exc:
            return int(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            result = ExitCode.INTERRUPTED
        except typer.TyperException as exc:  # usage errors: a wrong option or argument
            ctx = getattr(exc, "ctx", None)
            command = ctx.command_path if ctx is not None else "tillit"
            format_message = getattr(exc, "format_message", None)
            if not str(format_message() if format_message else exc).strip():
                return ExitCode.OK  # `tillit` alone: the help was shown, as asked
            _print_error(usage_error(exc), f"Se `{command} --help`.")
            return int(getattr(exc, "exit_code", ExitCode.USAGE))
    if result == ExitCode.INTERRUPTED:
        err_console().print(
            "[yellow]Avbrutet.[/yellow] Inget sparat har gått förlorat. Kör samma kommando igen "
            "för att fortsätta där det slutade."
        )
    return result if isinstance(result, int) else ExitCode.OK


# `tillit trial …`, `tillit goal …` and `tillit remiss …` have modules of their own; importing
# them adds their commands to `trial_app`, `goal_app` and `remiss_app`.
from tillit.cli import _goal, _remiss, _trial  # noqa: E402, F401
