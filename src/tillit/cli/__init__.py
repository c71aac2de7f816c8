"""The `tillit` command line: each command parses, makes one call, and prints."""

from tillit.cli import _analyses, _bank, _bank_import, _data, _lookup, _report, _serve  # noqa: F401
from tillit.cli._app import app, main

__all__ = ["app", "main", "run"]


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
