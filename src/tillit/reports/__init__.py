"""Rendering analysis results for people: charts as self-contained SVG now (the web pages
use them), the yearly report later."""

__all__: list[str] = []
