"""Row blocks on the machine's cores (analyses/_blocks.py): every row once, a block's
error raised, and the two steps that use them — the peers' median's order statistics and
the moderated p-values — the same to the bit with one thread and with several."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tillit.analyses import _blocks, _evidence, _noise


def test_every_row_is_visited_once_in_several_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_blocks, "threads", lambda: 3)
    seen = np.zeros(1000, int)
    names: set[str] = set()

    def run(part: slice) -> None:
        seen[part] += 1
        names.add(threading.current_thread().name)
        time.sleep(0.01)  # the blocks overlap, so the pool starts more than one thread

    _blocks.for_blocks(run, 1000, 64)
    assert (seen == 1).all()
    assert len(names) > 1


def test_a_blocks_error_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_blocks, "threads", lambda: 2)

    def run(part: slice) -> None:
        if part.start == 128:
            raise ValueError("block 3")

    with pytest.raises(ValueError, match="block 3"):
        _blocks.for_blocks(run, 1000, 64)


def test_one_block_or_one_core_runs_in_this_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    _blocks.for_blocks(lambda part: names.append(threading.current_thread().name), 10, 64)
    monkeypatch.setattr(_blocks, "threads", lambda: 1)
    _blocks.for_blocks(lambda part: names.append(threading.current_thread().name), 200, 64)
    assert set(names) == {threading.current_thread().name} and len(names) == 5


def test_threads_are_bounded() -> None:
    assert 1 <= _blocks.threads() <= _blocks.MAX_THREADS


def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_blocks, "threads", lambda: 1)


def test_median_moments_in_threads_equal_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    level = rng.normal(0.0, 2.0, (3000, 7))
    variance = rng.uniform(0.1, 3.0, (3000, 7))
    level[rng.random(level.shape) < 0.1] = np.nan
    monkeypatch.setattr(_evidence, "MEDIAN_BLOCK", 128)
    monkeypatch.setattr(_blocks, "threads", lambda: 4)
    threaded = np.stack(_evidence.median_noise_moments(level, variance))
    _one_thread(monkeypatch)
    single = np.stack(_evidence.median_noise_moments(level, variance))
    assert np.isfinite(single).sum() > 5000
    assert np.array_equal(threaded, single, equal_nan=True)


def test_mixture_p_in_threads_equals_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(12)
    n = 5000
    z = rng.normal(0.0, 3.0, n)
    own = rng.uniform(0.2, 2.0, n)
    other = rng.uniform(0.0, 1.0, n)
    total_df = rng.uniform(2.0, 40.0, n)
    tail_df = np.where(rng.random(n) < 0.2, 6.0, 1e6)
    z[::97] = np.nan
    monkeypatch.setattr(_noise, "_MIX_CHUNK", 256)
    monkeypatch.setattr(_blocks, "threads", lambda: 4)
    threaded = _noise.mixture_p(z, own, other, total_df, tail_df)
    _one_thread(monkeypatch)
    single = _noise.mixture_p(z, own, other, total_df, tail_df)
    assert np.isfinite(single).sum() > 4900
    assert np.array_equal(threaded, single, equal_nan=True)
