"""Row blocks computed on the machine's cores.

Some steps of the national matrix evaluate the same elementwise formula on hundreds of
thousands of rows (the peers' median's order statistics, the moderated p-values). NumPy
and SciPy release the interpreter lock inside such operations, so blocks of rows run in
threads use every core. Each block is computed by exactly the operations it would get in
one pass (every row on its own), so the result does not depend on the number of threads
or on the block size: the same to the bit. NumPy's error state (``np.errstate``) is per thread
and not inherited by the pool's: a block function sets its own."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: At most this many threads, however many cores: the blocks share memory bandwidth.
MAX_THREADS = 4


def threads() -> int:
    """The cores this process may use (its CPU affinity where the system has one),
    at most MAX_THREADS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - systems without affinity (macOS, Windows)
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def for_blocks(run: Callable[[slice], None], rows: int, block: int) -> None:
    """Call ``run`` once for each slice of ``block`` rows out of ``rows``, in threads
    when there is more than one block and more than one core. ``run`` must write only
    its own rows."""
    parts = [slice(start, min(start + block, rows)) for start in range(0, rows, block)]
    workers = min(threads(), len(parts))
    if workers <= 1:
        for part in parts:
            run(part)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done in pool.map(run, parts):
            del done  # re-raises a block's exception here
