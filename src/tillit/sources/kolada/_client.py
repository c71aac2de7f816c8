"""The Kolada v3 HTTP client: throttling, retries, paging and chunked data paths."""

from __future__ import annotations

import email.utils
import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx
import orjson
import pyarrow as pa

from tillit.errors import KoladaHTTPError, KoladaPayloadError, KoladaUnavailableError
from tillit.sources.kolada._pages import UnreadableBodyError, parse_data_page
from tillit.sources.kolada._schema import parse_envelope, parse_metadata

T = TypeVar("T")

__all__ = [
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_SECONDS",
    "MAX_IDS_PER_SEGMENT",
    "MAX_PER_PAGE",
    "Catalogue",
    "DataPage",
    "KoladaClient",
    "Page",
    "chunked",
]

MAX_IDS_PER_SEGMENT = 25
MAX_PER_PAGE = 5000
DEFAULT_MAX_PAGES = 10_000
DEFAULT_MAX_SECONDS = 300.0
_CONNECT_RETRIES = 2
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_OFFLINE_HINT = (
    "Kontrollera nätverket och TILLIT_KOLADA_URL. Utan förbindelse med Kolada kan du läsa in en "
    "fil i Kolada-format: `tillit import FIL` (Parquet/CSV med värden eller Koladas JSON-metadata)."
)


class _TooSlowError(Exception):
    """A whole answer did not arrive within ``max_seconds``."""


def chunked(ids: Sequence[str], size: int = MAX_IDS_PER_SEGMENT) -> list[list[str]]:
    """Split ``ids`` into lists of at most ``size`` (Kolada takes at most 25 ids per segment)."""
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class DataPage:
    """One page of a data request: its URL, the next page's URL (None on the last page),
    the number of values and the sha256 of the raw body."""

    url: str
    next_url: str | None
    values: int
    sha256: str


@dataclass
class Catalogue:
    """The validated rows of one metadata endpoint and the sha256 of each page body."""

    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UnreadableBodyError from None


@dataclass(frozen=True)
class Page:
    """One page of a Kolada answer: its rows, the next page's URL (None on the last page)
    and the sha256 of the raw body, for provenance."""

    url: str
    values: list[Any]
    next_url: str | None
    sha256: str


class _Throttle:
    """Spaces request starts at least ``1/rate`` seconds apart (rate 0: no limit)."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.interval = 0.0 if rate <= 0 else 1.0 / rate
        self.clock, self.sleep = clock, sleep
        self.next_start = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if self.interval == 0:
            return
        with self.lock:
            now = self.clock()
            delay = self.next_start - now
            self.next_start = max(now, self.next_start) + self.interval
        if delay > 0:
            self.sleep(delay)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isascii() and raw.isdigit():  # "²".isdigit() is True, float("²") fails
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class KoladaClient:
    """A client of Kolada's v3 API (https://api.kolada.se/v3).

    Requests are throttled to ``rate`` per second; 429, 5xx, timeouts, connection resets and
    unreadable bodies are retried up to ``retries`` times with exponential backoff (base
    ``backoff`` seconds, at most ``max_backoff``), honouring ``Retry-After``. A whole answer
    must arrive within ``max_seconds``. Paging follows ``next_url`` until it is absent or
    empty, for at most ``max_pages`` pages, and only on the host of ``base_url`` (redirects
    too).
    """

    def __init__(
        self,
        base_url: str,
        *,
        rate: float = 5.0,
        timeout: float = 30.0,
        retries: int = 5,
        per_page: int = MAX_PER_PAGE,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        max_retry_after: float = 300.0,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.per_page = per_page
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.sleep = sleep
        self.max_pages, self.max_seconds = max_pages, max_seconds
        base = httpx.URL(self.base_url)
        self._origin = (base.scheme, base.host, base.port)
        self.requests_made = 0  # HTTP requests sent, retries included
        self._count_lock = threading.Lock()  # the sync's fetch workers share one client
        self._throttle = _Throttle(rate, time.monotonic, sleep)
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "tillit (+https://kolada.se)"},
            follow_redirects=True,
            # A redirect is followed only on Kolada's own host, like a next_url.
            event_hooks={"request": [self._stay_on_host]},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request ---------------------------------------------------------------------
    def on_host(self, url: str, *, came_from: str) -> str:
        """``url`` (a next_url or a redirect) if it is on the configured host; an http link on
        an https host comes back as https. Anything else is a KoladaPayloadError."""
        target = httpx.URL(url)
        scheme, host, port = self._origin
        if (target.scheme, target.host, target.port) == ("http", host, None) and (
            scheme == "https" and port is None
        ):
            return str(target.copy_with(scheme="https"))
        if (target.scheme, target.host, target.port) != self._origin:
            where = target.host or url
            raise KoladaPayloadError(
                f"Kolada pekade vidare till en annan adress ({where}); Tillit följer bara "
                f"sidor på {self._origin[1]}.",
                url=came_from,
                field="next_url",
                hint="Inget lagrat har ändrats. Kontrollera TILLIT_KOLADA_URL och försök igen "
                "senare.",
            )
        return url

    def _stay_on_host(self, request: httpx.Request) -> None:
        if self.on_host(str(request.url), came_from=str(request.url)) != str(request.url):
            # A redirect from https down to http on Kolada's host: not followed either.
            raise KoladaPayloadError(
                f"Kolada skickade vidare till en okrypterad adress ({request.url}).",
                url=str(request.url),
                field="(omdirigering)",
            )

    def _read(self, url: str) -> httpx.Response | bytes:
        """GET ``url``: the body of a 200 answer, read in pieces so that the whole answer must
        arrive within ``max_seconds`` (a body that trickles would never time out otherwise);
        any other answer as a read Response."""
        deadline = time.monotonic() + self.max_seconds
        with self._http.stream("GET", url) as response:
            if response.status_code != 200:
                response.read()
                return response
            pieces = []
            for piece in response.iter_bytes():
                pieces.append(piece)
                if time.monotonic() > deadline:
                    raise _TooSlowError
            return b"".join(pieces)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            asked = _retry_after(response)
            if asked is not None:
                return min(asked, self.max_retry_after)
        base = min(self.max_backoff, self.backoff * (2**attempt))
        return float(base + random.uniform(0, self.backoff))

    def get_json(self, url: str) -> Any:
        """GET ``url`` and return its decoded JSON, retrying what can be retried."""
        return self._get(url, _json)[0]

    def _get(self, url: str, decode: Callable[[bytes], T]) -> tuple[T, str]:
        """GET ``url``; return ``decode(body)`` and the sha256 of the body. A body ``decode``
        finds unreadable (UnreadableBodyError) is fetched again, like a dropped connection."""
        last_problem = ""
        for attempt in range(self.retries + 1):
            response: httpx.Response | None = None
            self._throttle.wait()
            with self._count_lock:
                self.requests_made += 1
            try:
                answer = self._read(url)
            except _TooSlowError:
                last_problem = f"tidsgränsen för hela svaret ({self.max_seconds:g} s) passerades"
            except httpx.TimeoutException:
                last_problem = "tidsgränsen för svaret passerades"
            except httpx.ConnectError as exc:
                # No connection at all (DNS, refused, no network) rarely heals in seconds:
                # try twice more, then tell the user instead of backing off for a minute.
                last_problem = f"ingen förbindelse ({exc or type(exc).__name__})"
                if attempt >= min(self.retries, _CONNECT_RETRIES):
                    break
            except httpx.TransportError as exc:
                last_problem = f"förbindelsen bröts ({type(exc).__name__})"
            else:
                if isinstance(answer, bytes):
                    try:
                        return decode(answer), hashlib.sha256(answer).hexdigest()
                    except UnreadableBodyError:
                        last_problem = "svaret var ingen hel JSON (avklippt?)"
                        if attempt == self.retries:
                            raise KoladaPayloadError(
                                f"Kolada skickade ett svar som inte är giltig JSON ({url}).",
                                url=url,
                                field="(svaret)",
                                hint="Inget lagrat har ändrats. Kör samma kommando igen; "
                                "synken fortsätter där den slutade.",
                            ) from None
                elif answer.status_code in _RETRY_STATUSES:
                    response = answer
                    last_problem = f"HTTP {answer.status_code}"
                else:
                    snippet = answer.text[:200].strip()
                    raise KoladaHTTPError(
                        f"Kolada svarade HTTP {answer.status_code} på {url}: {snippet}",
                        url=url,
                        status=answer.status_code,
                        hint="Kontrollera id:n och årtal i anropet (t.ex. `tillit kpi search`).",
                    )
            if attempt < self.retries:
                self.sleep(self._delay(attempt, response))
        raise KoladaUnavailableError(
            f"Kolada kunde inte nås: {last_problem} ({url}).",
            url=url,
            hint=_OFFLINE_HINT,
        )

    # -- paging --------------------------------------------------------------------------
    def url_for(self, path: str, **params: str | int | None) -> str:
        query = {"per_page": self.per_page, **{k: v for k, v in params.items() if v is not None}}
        return str(httpx.URL(f"{self.base_url}/{path.lstrip('/')}", params=query))

    def _follow(self, url: str, fetch: Callable[[str], tuple[T, str | None]]) -> Iterator[T]:
        """Yield what ``fetch`` makes of each page from ``url`` on, following the next URL it
        returns until there is none. A next URL that points back to a page already fetched
        would never end: that is a payload error."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            if len(seen) >= self.max_pages:
                raise self.too_many_pages(url)
            if next_url in seen:
                raise KoladaPayloadError(
                    f"Kolada pekade tillbaka på en redan hämtad sida ({next_url}).",
                    url=next_url,
                    field="next_url",
                )
            seen.add(next_url)
            item, next_url = fetch(next_url)
            yield item

    def too_many_pages(self, url: str) -> KoladaPayloadError:
        return KoladaPayloadError(
            f"Kolada slutade inte bläddra: fler än {self.max_pages} sidor för ett anrop ({url}).",
            url=url,
            field="next_url",
            hint="Inget lagrat har ändrats. Försök igen senare; väntar du så många sidor, höj "
            "TILLIT_SYNC_MAX_PAGES.",
        )

    def iter_pages(self, url: str) -> Iterator[Page]:
        """Yield every :class:`Page` of a request, following ``next_url`` from ``url``."""

        def fetch(page_url: str) -> tuple[Page, str | None]:
            payload, sha = self._get(page_url, _json)
            values, following = parse_envelope(payload, page_url)
            next_url = urljoin(page_url, following) if following else None
            if next_url:
                next_url = self.on_host(next_url, came_from=page_url)
            return Page(page_url, values, next_url, sha), next_url

        return self._follow(url, fetch)

    # -- metadata ------------------------------------------------------------------------
    def metadata(self, kind: str, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """All rows of a metadata endpoint: ``kpi``, ``kpi_groups``, ``municipality``,
        ``municipality_groups`` or ``ou`` (optionally only ``ids``)."""
        return self.catalogue(kind, ids).rows

    def catalogue(self, kind: str, ids: Sequence[str] | None = None) -> Catalogue:
        """Like :meth:`metadata`, with the sha256 of every page body for provenance."""
        paths = [kind] if not ids else [f"{kind}/{','.join(c)}" for c in chunked(ids)]
        catalogue = Catalogue(kind)
        for path in paths:
            for page in self.iter_pages(self.url_for(path)):
                catalogue.rows.extend(parse_metadata(kind, page.values, page.url))
                catalogue.sha256.append(page.sha256)
        return catalogue

    # -- data ----------------------------------------------------------------------------
    def data_urls(
        self,
        *,
        kpis: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        ou: bool = False,
        from_date: date | None = None,
    ) -> list[str]:
        """The first-page URLs of a data request, each segment chunked to 25 ids.

        At least two of ``kpis``, ``units`` (municipality codes, or OU ids with ``ou=True``) and
        ``years`` must be given, as Kolada requires.
        """
        unit_name = "ou" if ou else "municipality"
        segments = [
            (name, list(ids))
            for name, ids in (("kpi", kpis), (unit_name, units), ("year", years))
            if ids
        ]
        if len(segments) < 2:
            raise ValueError("Kolada needs at least two of kpi, municipality/ou and year")
        chunked_segments = [
            [(name, chunk) for chunk in chunked([str(i) for i in ids])] for name, ids in segments
        ]
        urls: list[str] = [""]
        for options in chunked_segments:
            urls = [f"{u}/{name}/{','.join(chunk)}" for u in urls for name, chunk in options]
        root = "oudata" if ou else "data"
        stamp = from_date.isoformat() if from_date else None
        return [self.url_for(f"{root}{u}", from_date=stamp) for u in urls]

    def fetch_page(self, url: str, *, ou: bool = False) -> tuple[DataPage, pa.Table]:
        """Fetch and validate one page of data at ``url`` (a first page, or a ``next_url``
        saved from an interrupted run). The table has the columns of VALUE_COLUMNS."""
        unit_key = "ou" if ou else "municipality"
        (table, following), sha = self._get(
            url, lambda body: parse_data_page(body, url, unit_key=unit_key)
        )
        next_url = urljoin(url, following) if following else None
        if next_url:
            next_url = self.on_host(next_url, came_from=url)
        if next_url == url:
            raise KoladaPayloadError(
                f"Kolada pekade tillbaka på samma sida ({url}).", url=url, field="next_url"
            )
        return DataPage(url, next_url, table.num_rows, sha), table

    def fetch_values(self, url: str, *, ou: bool = False) -> Iterator[tuple[DataPage, pa.Table]]:
        """Yield every page of the data request at ``url`` with its validated values."""

        def fetch(page_url: str) -> tuple[tuple[DataPage, pa.Table], str | None]:
            page, table = self.fetch_page(page_url, ou=ou)
            return (page, table), page.next_url

        return self._follow(url, fetch)
