"""Settings: the one place that reads ``os.environ``.

Every setting is a ``TILLIT_*`` environment variable, read once into a frozen :class:`Settings`.
Each is documented in docs/settings.md (a test checks that every field is).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from tillit.errors import ConfigError

__all__ = [
    "DEFAULT_KOLADA_URL",
    "Settings",
    "default_database_url",
    "load_settings",
    "normalise_database_url",
    "setting_names",
]

DEFAULT_KOLADA_URL = "https://api.kolada.se/v3"


@dataclass(frozen=True)
class Settings:
    """Tillit's settings. Build with :func:`load_settings`; construct directly in tests."""

    home: Path
    """TILLIT_HOME: the data directory; the store (values, metadata, provenance, staging of
    unfinished syncs, import reports) is its ``store/`` folder."""
    kolada_url: str = DEFAULT_KOLADA_URL
    """TILLIT_KOLADA_URL: base URL of the Kolada v3 API."""
    kolada_rate: float = 5.0
    """TILLIT_KOLADA_RATE: at most this many requests per second to Kolada; 0 means no limit."""
    kolada_timeout: float = 30.0
    """TILLIT_KOLADA_TIMEOUT: seconds to wait for one Kolada response before retrying."""
    kolada_retries: int = 5
    """TILLIT_KOLADA_RETRIES: retries of one request after 429, 5xx, timeouts and resets."""
    kolada_per_page: int = 5000
    """TILLIT_KOLADA_PER_PAGE: rows per page asked of Kolada (1–5000)."""
    kolada_max_seconds: float = 300.0
    """TILLIT_KOLADA_MAX_SECONDS: the longest one Kolada answer may take to arrive whole."""
    sync_max_pages: int = 10_000
    """TILLIT_SYNC_MAX_PAGES: the most pages followed (next_url) for one Kolada request."""
    sync_max_shrink: float = 0.1
    """TILLIT_SYNC_MAX_SHRINK: the largest share (0–1) by which a metadata sync may shrink a
    stored catalogue; a listing with more records missing is refused unless ``--replace``."""
    memory_limit: str = "1GB"
    """TILLIT_MEMORY_LIMIT: DuckDB's memory limit for imports and merges (spills beyond)."""
    polarity_file: Path | None = None
    """TILLIT_POLARITY_FILE: the user's CSV saying which way is better for KPIs (overrides
    Tillit's own table and title rules); ``None`` when unset."""
    eligibility_file: Path | None = None
    """TILLIT_ELIGIBILITY_FILE: the user's CSV saying which KPIs to test or leave out, and
    their minimum practical differences (overrides Tillit's list and rules); ``None`` when
    unset."""
    database_url: str = ""
    """TILLIT_DATABASE_URL: the bank's database, an SQLAlchemy URL. Empty means the embedded
    default ``sqlite:///<home>/bank.sqlite``; ``postgresql://`` is normalised to
    ``postgresql+psycopg://``."""

    cookie_secure: bool = False
    """TILLIT_COOKIE_SECURE: mark the web session cookie Secure even when the request
    reaches Tillit over plain http (behind a proxy that terminates https)."""
    trusted_proxies: tuple[str, ...] = ()
    """TILLIT_TRUSTED_PROXIES: the reverse proxies (IP addresses or CIDR networks, separated
    by commas) whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` the web server believes;
    empty (the default) believes no one and takes the connecting address as the client's."""
    goals_max: int = 15
    """TILLIT_GOALS_MAX: an organisation with more goals than this gets a note (målträngsel)
    on its goals in the CLI, the API and the pages."""
    site_owner: str = ""
    """TILLIT_SITE_OWNER: the organisation that runs this Tillit site, named in the
    accessibility statement (``/tillganglighet``); empty: the statement says it is not
    given."""
    feedback_email: str = ""
    """TILLIT_FEEDBACK_EMAIL: where visitors report accessibility problems and ask for
    content in another form, an e-mail address or an https address (a contact form); empty:
    the statement says there is none and points to Digg."""
    feedback_days: int = 10
    """TILLIT_FEEDBACK_DAYS: within how many working days the site owner answers such a
    message, as the accessibility statement promises."""

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", default_database_url(self.home))

    @property
    def store_dir(self) -> Path:
        return self.home / "store"


def _default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("tillit", appauthor=False))


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    value = _number(env, name, default, low=low, high=high)
    if not float(value).is_integer():
        raise ConfigError(
            f"{name}={env.get(name)!r} är inget heltal.",
            hint=f"Sätt {name} till ett heltal mellan {low} och {high}.",
        )
    return int(value)


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} är inte ett tal.", hint=f"Sätt {name} till ett tal, eller ta bort den."
        ) from None
    if not low <= value <= high:
        raise ConfigError(
            f"{name}={raw!r} ligger utanför {low:g}–{high:g}.",
            hint=f"Sätt {name} till ett värde mellan {low:g} och {high:g}.",
        )
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the ``TILLIT_*`` variables from ``env`` (default: ``os.environ``) into Settings."""
    env = os.environ if env is None else env
    home_raw = env.get("TILLIT_HOME", "").strip()
    home = Path(home_raw).expanduser() if home_raw else _default_home()
    url = env.get("TILLIT_KOLADA_URL", "").strip() or DEFAULT_KOLADA_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"TILLIT_KOLADA_URL={url!r} är ingen http(s)-adress.",
            hint=f"Sätt TILLIT_KOLADA_URL till t.ex. {DEFAULT_KOLADA_URL}.",
        )
    memory = env.get("TILLIT_MEMORY_LIMIT", "").strip() or "1GB"
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", memory, re.IGNORECASE):
        raise ConfigError(
            f"TILLIT_MEMORY_LIMIT={memory!r} är ingen minnesmängd.",
            hint="Sätt TILLIT_MEMORY_LIMIT till t.ex. 1GB eller 512MB.",
        )
    return Settings(
        home=home,
        kolada_url=url.rstrip("/"),
        kolada_rate=_number(env, "TILLIT_KOLADA_RATE", 5.0, low=0, high=10_000),
        kolada_timeout=_number(env, "TILLIT_KOLADA_TIMEOUT", 30.0, low=0.1, high=3600),
        kolada_retries=_whole(env, "TILLIT_KOLADA_RETRIES", 5, low=0, high=50),
        kolada_per_page=_whole(env, "TILLIT_KOLADA_PER_PAGE", 5000, low=1, high=5000),
        kolada_max_seconds=_number(env, "TILLIT_KOLADA_MAX_SECONDS", 300.0, low=1, high=86_400),
        sync_max_pages=_whole(env, "TILLIT_SYNC_MAX_PAGES", 10_000, low=1, high=10_000_000),
        sync_max_shrink=_number(env, "TILLIT_SYNC_MAX_SHRINK", 0.1, low=0, high=1),
        memory_limit=memory,
        polarity_file=_existing_file(env, "TILLIT_POLARITY_FILE"),
        eligibility_file=_existing_file(env, "TILLIT_ELIGIBILITY_FILE"),
        database_url=normalise_database_url(env.get("TILLIT_DATABASE_URL", "")),
        cookie_secure=_flag(env, "TILLIT_COOKIE_SECURE"),
        trusted_proxies=_networks(env, "TILLIT_TRUSTED_PROXIES"),
        goals_max=_whole(env, "TILLIT_GOALS_MAX", 15, low=1, high=1000),
        site_owner=_text(env, "TILLIT_SITE_OWNER"),
        feedback_email=_contact(env, "TILLIT_FEEDBACK_EMAIL"),
        feedback_days=_whole(env, "TILLIT_FEEDBACK_DAYS", 10, low=1, high=90),
    )


#: The longest organisation name TILLIT_SITE_OWNER may hold.
MAX_TEXT = 200
_EMAIL = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:/]+\.[^@\s<>\"(),;:/.]{2,}")


def _text(env: Mapping[str, str], name: str) -> str:
    """A short line of text: surrounding spaces removed; no control characters."""
    raw = env.get(name, "").strip()
    hint = f"Sätt {name} till ett namn på en rad, högst {MAX_TEXT} tecken."
    if len(raw) > MAX_TEXT:
        raise ConfigError(f"{name} är för lång ({len(raw)} tecken).", hint=hint)
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise ConfigError(f"{name} har styrtecken (radbrytningar eller tabbar).", hint=hint)
    return raw


def _contact(env: Mapping[str, str], name: str) -> str:
    """An e-mail address or an https address with a host; "" when unset."""
    from urllib.parse import urlsplit

    raw = _text(env, name)
    if not raw or _EMAIL.fullmatch(raw):
        return raw
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket: not an address
        host = None
    if host and parts.scheme.lower() == "https" and not any(c.isspace() for c in raw):
        return raw
    raise ConfigError(
        f"{name}={raw!r} är varken en e-postadress eller en https-adress.",
        hint=f"Sätt {name} till t.ex. tillganglighet@kommunen.se eller "
        "https://kommunen.se/kontakt, eller ta bort den.",
    )


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or CIDR networks, each normalised (``10.0.0.1/32``)."""
    import ipaddress

    found: list[str] = []
    for part in env.get(name, "").split(","):
        if not part.strip():
            continue
        try:
            found.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name}: {part.strip()!r} är ingen IP-adress eller CIDR-nätverk.",
                hint=f"Sätt {name} till t.ex. 127.0.0.1 eller 10.0.0.0/8,::1 "
                "(kommaseparerat), eller ta bort den.",
            ) from None
    return tuple(found)


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "nej"):
        return False
    if raw in ("1", "true", "yes", "ja"):
        return True
    raise ConfigError(
        f"{name}={env.get(name)!r} är varken sant eller falskt.",
        hint=f"Sätt {name} till 1 (ja) eller 0 (nej), eller ta bort den.",
    )


def default_database_url(home: Path) -> str:
    """The embedded bank: an SQLite file in the data directory."""
    return f"sqlite:///{home / 'bank.sqlite'}"


_DB_HINT = (
    "Sätt TILLIT_DATABASE_URL till t.ex. postgresql://användare@värd:5432/tillit eller "
    "sqlite:////sökväg/till/bank.sqlite, eller ta bort den för standardfilen i TILLIT_HOME."
)


def normalise_database_url(raw: str) -> str:
    """Check a database URL and give PostgreSQL the psycopg 3 driver; "" stays "" (default).

    Accepted: ``sqlite:///<path>``, ``postgresql://``, ``postgres://`` and
    ``postgresql+psycopg://`` URLs naming a database."""
    url = raw.strip()
    if not url:
        return ""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"TILLIT_DATABASE_URL={raw!r} är ingen databasadress.", hint=_DB_HINT)
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        database = rest.split("?", 1)[0].rpartition("/")[2] if "/" in rest else ""
        if not database:
            raise ConfigError(
                f"TILLIT_DATABASE_URL={raw!r} saknar databasens namn.",
                hint="Lägg till databasen sist i adressen, t.ex. "
                "postgresql://tillit@localhost:5432/tillit.",
            )
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(
                f"TILLIT_DATABASE_URL={raw!r} saknar sökvägen till SQLite-filen.", hint=_DB_HINT
            )
        return f"sqlite://{rest}"
    raise ConfigError(
        f"TILLIT_DATABASE_URL={raw!r}: databastypen {scheme!r} stöds inte.",
        hint="Tillit stöder SQLite och PostgreSQL (med drivrutinen psycopg). " + _DB_HINT,
    )


_FILE_DOCS = {
    "TILLIT_POLARITY_FILE": "docs/polarity.md",
    "TILLIT_ELIGIBILITY_FILE": "docs/eligibility.md",
}


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        what = "är en mapp, inte en fil" if path.is_dir() else "finns inte"
        raise ConfigError(
            f"{name}={raw!r} {what}.",
            hint=f"Peka {name} på en befintlig fil (se {_FILE_DOCS[name]}), eller ta bort den.",
        )
    return path


def setting_names() -> list[str]:
    """The environment variable of every setting, for docs and the documentation test."""
    return [f"TILLIT_{f.name.upper()}" for f in fields(Settings)]


def set_for_workers(name: str, value: str) -> None:
    """Set the setting ``name`` in this process's environment, so that the server processes
    `tillit serve --workers` starts (each reads its settings anew) see what the command
    line said."""
    if name not in setting_names():
        raise ConfigError(f"{name} är ingen inställning.", hint="Se docs/settings.md.")
    os.environ[name] = value
