"""Tillit: an open learning system for Sweden's municipalities and regions."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tillit")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
