"""Typer's and Click's own words in Swedish: the help's "Usage:", "[OPTIONS]", the help
option's "Show this message and exit.", the types shown beside an option ("<int>", "<str>")
and the usage errors ("Missing argument", "No such option", …).

Typer 0.29 carries its own copy of Click without Click's gettext calls, so these words cannot
be translated with a message catalogue; only Typer's panel titles are settings
(``typer.rich_utils``, set in ``_app``). The rest is done here through Click's public command
API, on the command tree Typer builds once per run (docs/architecture.md, "One voice"): a
context class whose help formatter writes "Användning:", ``options_metavar`` and
``subcommand_metavar``, each parameter's ``metavar``, and the help option's ``help``. Usage
errors are rewritten from the exception's fields (the option's name, the parameter), never
from its English text."""

from __future__ import annotations

import re
from typing import Any

import typer

__all__ = ["HELP_TEXT", "swedish_command", "usage_error"]

HELP_TEXT = "Visa den här hjälpen och avsluta."
USAGE = "Användning: "

#: What an argument is called in the usage line and in errors ("tillit trial show FÖRSÖK").
ARGUMENT_NAMES = {
    "trial_id": "FÖRSÖK",
    "file": "FIL",
    "paths": "FIL",
    "text": "TEXT",
    "kpi": "NYCKELTAL",
    "kpis": "NYCKELTAL",
    "municipality": "KOMMUN",
    "name": "NAMN",
    "email": "E-POST",
}

#: What kind of value an option takes, by the type Typer would show.
_VALUE_NAMES = {
    "str": "text",
    "int": "heltal",
    "float": "tal",
    "Path": "sökväg",
    "int range": "heltal",
    "float range": "tal",
    "datetime": "datum",
}


def _context_class(base: Any) -> Any:
    """``base`` (Typer's context class) whose help formatter writes "Användning:"."""
    formatter = base.formatter_class

    class SwedishFormatter(formatter):  # type: ignore[misc, valid-type]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, USAGE if prefix is None else prefix)

    return type("SwedishContext", (base,), {"formatter_class": SwedishFormatter})


def _value_kind(param: Any, ctx: Any) -> str | None:
    """The kind of value ``param`` takes in Swedish ("<heltal>"); None for a choice, whose
    values (table|json|csv) are what one writes."""
    shown = param.display_type(ctx)
    if shown is None:
        return None
    shown = str(shown).removeprefix("<").removesuffix(">")
    listed = re.fullmatch(r"list\[(.*)\]", shown)
    inner = listed[1] if listed else shown
    if "|" in inner:  # a choice: its values are what one writes
        return None
    word = _VALUE_NAMES.get(inner, inner)
    return f"<{word}>" + ("…" if listed else "")


def _translate(command: Any, context_class: Any) -> None:
    command.context_class = context_class
    command.options_metavar = "[FLAGGOR]"
    if hasattr(command, "subcommand_metavar"):
        command.subcommand_metavar = "KOMMANDO [ARGUMENT]..."
    ctx = context_class(command, info_name=command.name)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        help_option.help = HELP_TEXT
        help_option.metavar = ""
    for param in command.params:
        if param.metavar is not None:
            continue
        if param.param_type_name == "argument":
            param.metavar = ARGUMENT_NAMES.get(param.name, str(param.name).upper())
            # The type column beside an argument has no setting of its own: the parameter
            # answers with the Swedish kind instead of Typer's Python type name.
            kind = _value_kind(param, ctx)
            param.display_type_rich = lambda ctx, kind=kind: kind
        elif param.param_type_name == "option":
            if getattr(param, "is_flag", False):
                param.metavar = ""
            else:
                param.metavar = _value_kind(param, ctx)
    for child in (getattr(command, "commands", None) or {}).values():
        _translate(child, context_class)


def swedish_command(app: typer.Typer) -> Any:
    """The Click command Typer builds for ``app``, with Click's words in Swedish."""
    command = typer.main.get_command(app)
    _translate(command, _context_class(command.context_class))
    return command


def _hint(exc: Any) -> str:
    param = getattr(exc, "param", None)
    if getattr(exc, "param_hint", None):
        hint = exc.param_hint
        return " / ".join(hint) if isinstance(hint, list | tuple) else str(hint)
    if param is None:
        return ""
    if param.param_type_name == "argument":
        return str(param.metavar or param.name)
    return " / ".join(param.opts)


_EXPECTED = {"<heltal>": "ett heltal", "<tal>": "ett tal", "<datum>": "ett datum"}


def _bad_value(exc: Any) -> str:
    hint, param = _hint(exc), getattr(exc, "param", None)
    text = f"Ogiltigt värde för {hint}" if hint else "Ogiltigt värde"
    descriptor = getattr(param, "type_descriptor", None)
    choices = [str(getattr(c, "value", c)) for c in getattr(descriptor, "choices", None) or ()]
    if len(choices) > 1:
        return f"{text}: välj {', '.join(choices[:-1])} eller {choices[-1]}."
    shown = param.display_type_rich(getattr(exc, "ctx", None)) if param is not None else None
    expected = _EXPECTED.get(str(shown))
    return f"{text}: skriv {expected}." if expected else f"{text}."


def usage_error(exc: Any) -> str:
    """A usage error (Typer's exception) in Swedish, from its fields."""
    kind = type(exc).__name__
    if kind == "NoSuchOption":
        text = f"Flaggan {exc.option_name} finns inte."
        if exc.possibilities:
            text += " Menade du " + " eller ".join(sorted(exc.possibilities)) + "?"
        return text
    if kind == "MissingParameter":
        param = getattr(exc, "param", None)
        missing = getattr(exc, "param_type", None) or getattr(param, "param_type_name", "")
        what = {"argument": "Argumentet", "option": "Flaggan"}.get(str(missing), "Värdet")
        return f"{what} {_hint(exc)} saknas."
    if kind == "BadOptionUsage":
        return f"Flaggan {exc.option_name} används fel: den ska ha ett värde."
    if kind == "BadArgumentUsage":
        return "Fel antal värden för ett argument."
    if kind == "BadParameter":
        return _bad_value(exc)
    message = str(getattr(exc, "message", exc))
    if match := re.fullmatch(r"No such command '(.*)'\.", message):
        return f"Kommandot {match[1]!r} finns inte."
    if message == "Missing command.":
        return "Ange ett kommando."
    if match := re.fullmatch(r"Got unexpected extra argument\(s\) \((.*)\)", message):
        return f"För många argument: {match[1]}."
    return message
