"""Tillit: an open learning system for Sweden's municipalities and regions."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
