"""Pure analyses: frames in, dataclasses out, no I/O.

Nothing here imports from tillit except :mod:`tillit.errors`; the CLI, the web pages and the
reports call these functions with data read from the store.
"""

from tillit.analyses._polarity import Polarity

__all__ = ["Polarity"]
