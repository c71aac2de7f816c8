"""Serving the fake standalone, from a shell or another process."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Sequence

from ._server import FakeKolada


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Serve standalone: print the API root URL on stdout, serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        # Run as a package, argparse would call it "__main__.py".
        prog="python -m tests.kolada_fake",
        description="Serve a fake Kolada v3 API on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--kpis", default="N00945,N01951", help="comma-separated KPI ids")
    which.add_argument("--all-kpis", action="store_true", help="serve every KPI in the panel")
    parser.add_argument("--municipalities", help="comma-separated codes (default: all)")
    parser.add_argument("--last-next-url", choices=("absent", "empty", "null"), default="empty")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    started = time.perf_counter()
    fake = FakeKolada(
        None if args.all_kpis else _split(args.kpis),
        _split(args.municipalities),
        port=args.port,
        last_next_url=args.last_next_url,
    )
    with fake:
        print(fake.url, flush=True)
        print(
            f"serving {len(fake.served_kpis)} KPIs x {len(fake.served_municipalities)} "
            f"municipalities (loaded in {time.perf_counter() - started:.1f} s); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0
