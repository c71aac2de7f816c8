"""Printing for the CLI: Swedish number formats, tables, JSON/CSV, progress bars."""

from __future__ import annotations

import csv
import enum
import io
import re
import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgressBar
from rich.table import Column, Table
from rich.text import Text

from tillit import swedish

__all__ = [
    "Format",
    "RichProgress",
    "clean",
    "decimals_for",
    "emit",
    "err_console",
    "number",
    "out_console",
    "print_error",
    "safe",
]


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


# C0 controls but tab and newline, DEL and the C1 controls (ESC, CSI \x9b, BEL, CR …): from data
# they could move the cursor, clear the screen, retitle the window or make a hyperlink.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """``text`` without terminal control characters: each becomes U+FFFD, a tab a space, and a
    carriage return (Windows line ends, or one meant to overwrite the line) a newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("\ufffd", text)


def safe(value: Any) -> str:
    """Data to put into a Rich markup string: control characters cleaned and markup escaped,
    so that "[/]" or "[link=…]" in a title is printed as it is."""
    return escape(clean(str(value)))


# A markup tag as Rich reads one (rich.markup.RE_TAGS), with the backslashes before it.
_TAG = re.compile(r"(\\*)\[([a-z#/@][^\[]*?)]")
# Rich makes a hyperlink of "link URL" or "link=URL" anywhere in a style tag, in any case.
_LINK_WORD = re.compile(r"\blink\b", re.IGNORECASE)


def _unlink(text: str) -> str:
    """``text`` with every markup tag that mentions ``link`` escaped, so it prints as it is.
    Tillit never writes a link tag itself: one in a markup string came from data."""

    def escape_tag(match: re.Match[str]) -> str:
        backslashes, content = match.groups()
        if len(backslashes) % 2 or not _LINK_WORD.search(content):
            return match.group(0)  # escaped already, or no link
        return f"{backslashes}\\[{content}]"

    return _TAG.sub(escape_tag, text)


class _SafeConsole(Console):
    """A Console that never lets a control character through a string it prints, never makes
    a hyperlink from a link tag in one, and prints a string whose markup does not parse as plain
    text instead of failing. Data in markup strings still belongs in :func:`safe`; this is the
    net under every message."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        text = clean(text)
        markup = kwargs.get("markup")
        if not (self._markup if markup is None else markup):
            return super().render_str(text, **kwargs)
        try:
            return super().render_str(_unlink(text), **kwargs)
        except MarkupError:
            return super().render_str(text, **{**kwargs, "markup": False})


def out_console() -> Console:
    return _SafeConsole(file=sys.stdout, highlight=False, soft_wrap=False)


def err_console() -> Console:
    # soft_wrap: messages are left to the terminal to wrap, so Rich never breaks a line inside
    # a number at its (narrow no-break) thousands space.
    return _SafeConsole(file=sys.stderr, highlight=False, soft_wrap=True)


def print_error(message: str, hint: str | None) -> None:
    """The one shape of every error: "Fel:" and what went wrong, "Nästa steg:" and what to do."""
    console = err_console()
    console.print(f"[bold red]Fel:[/bold red] {escape(message)}", highlight=False)
    if hint:
        console.print(f"[bold]Nästa steg:[/bold] {escape(hint)}", highlight=False)


def shown_of(shown: int, total: int, singular: str, plural_form: str | None = None) -> str:
    """What a search shows of what it found: "Visar 20 av 181 träffar, --limit för fler",
    or "3 träffar" when it shows them all."""
    if shown >= total:
        return swedish.count(total, singular, plural_form)
    return f"Visar {swedish.count_of(shown, total, singular, plural_form)}, --limit för fler"


def number(value: float | int | None, decimals: int | None = None) -> str:
    """A number in the one Swedish voice (``tillit.swedish.number``): 984 748 and 31,3 (a
    narrow no-break space groups thousands, U+2212 is the minus sign)."""
    return swedish.number(value, decimals)


def decimals_for(values: Sequence[float]) -> int:
    """Decimals to show a set of numbers with (``tillit.swedish.decimals_for``)."""
    return swedish.decimals_for(values)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: Format,
    *,
    title: str | None = None,
    columns: Sequence[tuple[str, str]] | None = None,
    caption: str | None = None,
    numeric: Sequence[str] = (),
    keys: Sequence[str] | None = None,
    label_width: int | None = None,
) -> None:
    """Print ``rows``: a Rich table with Swedish ``columns`` (key, heading), or JSON/CSV with
    the raw keys for scripts (``keys``: the CSV header when there are no rows). In CSV a list
    becomes "a; b" and a boolean true/false. ``label_width``: the least width of the first
    column, where it names the row (a KPI title, a municipality)."""
    if fmt is Format.json:
        sys.stdout.write(orjson.dumps(list(rows), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt is Format.csv:
        header = list(rows[0].keys()) if rows else list(keys or [k for k, _ in columns or []])
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
        return
    columns = columns or [(k, k) for k in (rows[0].keys() if rows else [])]
    # Titles, captions and cells are plain text (Text, never markup): they carry data.
    table = Table(
        title=Text(clean(title)) if title is not None else None,
        caption=Text(clean(caption)) if caption is not None else None,
        title_justify="left",
        caption_justify="left",
    )
    for i, (key, heading) in enumerate(columns):
        table.add_column(
            heading,
            justify="right" if key in numeric else "left",
            overflow="fold",
            min_width=label_width if i == 0 else None,
        )
    # A numeric column has one set of decimals ("86,0" under "83,7", never "86").
    places = {
        k: swedish.decimals_for(
            [
                v
                for row in rows
                if isinstance(v := row.get(k), int | float) and not isinstance(v, bool)
            ]
        )
        for k in numeric
    }
    for row in rows:
        table.add_row(
            *[
                Text(
                    number(row.get(k), places[k])
                    if k in numeric and not isinstance(row.get(k), str)
                    else ("" if row.get(k) is None else clean(str(row[k])))
                )
                for k, _ in columns
            ]
        )
    out_console().print(table)


class _RateColumn(ProgressColumn):
    """Values (or rows) per second in the current stage."""

    def render(self, task: Task) -> Text:
        rows = task.fields.get("rows", 0)
        elapsed = task.elapsed or 0.0
        if not rows or elapsed <= 0:
            return Text("")
        unit = task.fields.get("unit", "värden")
        return Text(f"{number(rows)} {unit} · {number(rows / elapsed, 0)}/s", style="cyan")


class RichProgress:
    """The sync layer's Progress protocol drawn as Rich progress bars on stderr."""

    def __init__(self, console: Console, unit: str = "värden") -> None:
        self.console = console
        self.unit = unit
        self.bar = RichProgressBar(
            SpinnerColumn(),
            # Long file names are cut short rather than wrapping the line.
            TextColumn(
                "{task.description}",
                table_column=Column(no_wrap=True, overflow="ellipsis", max_width=48),
            ),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            _RateColumn(table_column=Column(no_wrap=True)),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: Any = None
        self.rows = 0

    def __enter__(self) -> RichProgress:
        return self  # the bar starts with the first stage: an early error prints no empty bar

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._finish()  # an interrupted stage is not shown as done
        if self.task is None:
            return
        if exc_type is None:
            self.bar.stop()
            return
        # A failed or interrupted run clears its bars, so that the error printed next is not
        # left below a bar frozen half-way (Progress.stop would add an empty line to a file).
        self.bar.live.transient = True
        self.bar.live.stop()

    def _finish(self) -> None:
        if self.task is not None:
            total = self.bar.tasks[self.task].total
            if total is None:
                self.bar.update(self.task, total=1, completed=1)

    def stage(self, description: str, total: int | None) -> None:
        if self.task is None:
            self.bar.start()
        self._finish()
        self.rows = 0
        self.task = self.bar.add_task(safe(description), total=total, rows=0, unit=self.unit)

    def advance(self, steps: int = 1, *, rows: int = 0) -> None:
        self.rows += rows
        self.bar.update(self.task, advance=steps, rows=self.rows)

    def note(self, text: str) -> None:
        self.console.print(f"[yellow]{safe(text)}[/yellow]")
