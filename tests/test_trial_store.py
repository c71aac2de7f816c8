"""One evaluation, kept: the generic codec that stores a trial's evaluation as JSON and reads
back the same dataclasses (arrays, NaN and infinities, None, nested tuples), the store's
state that keys it, and the bank's table of stored evaluations on SQLite and PostgreSQL
(found by key, replaced, pruned when stale, listed for the trials list, gone with its
trial)."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson
import pytest

from tests.bank_fixtures import People
from tillit.analyses import SynthEvaluation, SynthPanel, evaluate_synthetic_control
from tillit.bank import Bank, NewEvaluation
from tillit.query import store_state
from tillit.query._trial_codec import CodecError, decode, encode
from tillit.store import Store


def same(a: Any, b: Any) -> bool:
    """Equal as values: dataclasses field by field, arrays element by element (NaN equal to
    NaN, the same dtype), floats with NaN equal to NaN, and the same container types."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float | np.floating) and not isinstance(a, bool):
        return isinstance(b, float | np.floating) and (
            float(a) == float(b) or (math.isnan(a) and math.isnan(b))
        )
    return bool(a == b)


@dataclass(frozen=True)
class Inner:
    name: str
    values: npt.NDArray[np.float64]
    kind: Literal["a", "b"] = "a"


@dataclass(frozen=True)
class Outer:
    count: int
    ratio: float
    maybe: float | None
    span: tuple[int, int] | None
    inners: tuple[Inner, ...]
    pairs: tuple[tuple[str, str], ...]
    names: Mapping[str, str]
    flag: bool
    nested: Inner | None = None
    ints: npt.NDArray[np.int64] | None = None


def _outer() -> Outer:
    return Outer(
        count=3,
        ratio=math.inf,
        maybe=None,
        span=(2008, 2015),
        inners=(
            Inner("x", np.array([1.5, np.nan, -np.inf, np.inf, 0.1 + 0.2])),
            Inner("y", np.zeros((2, 3)), "b"),
            Inner("tom", np.array([], dtype=np.float64)),
        ),
        pairs=(("Lerum", "saknar värden"),),
        names={"1384": "Kungsbacka", "1441": "Lerum"},
        flag=False,
        nested=Inner("z", np.array([math.nan])),
        ints=np.array([[1, 2], [3, 4]], dtype=np.int64),
    )


def test_codec_round_trips_dataclasses_arrays_nonfinite_floats_and_none() -> None:
    value = _outer()
    text = orjson.dumps(encode(value))  # JSON proper: no NaN or Infinity literals
    assert b"NaN" in text and b"Infinity" in text
    back = decode(Outer, orjson.loads(text))
    assert same(back, value)
    assert isinstance(back.inners, tuple) and isinstance(back.span, tuple)
    assert back.inners[0].values.dtype == np.float64 and back.ints is not None
    assert back.ints.dtype == np.int64 and back.ints.shape == (2, 2)
    assert not same(decode(Outer, orjson.loads(orjson.dumps(encode(_changed())))), value)


def _changed() -> Outer:
    value = _outer()
    inner = dataclasses.replace(value.inners[0], values=np.array([1.5, np.nan, 0.0, 1.0, 0.3]))
    return dataclasses.replace(value, inners=(inner, *value.inners[1:]))


def test_codec_round_trips_a_whole_synthetic_control_evaluation() -> None:
    rng = np.random.default_rng(7)
    rows = [(f"K{i}", t) for i in range(7) for t in range(2004, 2016)]
    values = [
        math.nan if (u, t) == ("K5", 2006) else 10 + int(u[1]) + 0.3 * (t - 2004) + rng.normal()
        for u, t in rows
    ]
    panel = SynthPanel.from_long([u for u, _ in rows], [t for _, t in rows], {"y": values})
    evaluation = evaluate_synthetic_control(
        panel, outcome="y", treated="K3", start=2012, unit="kr/inv", expected="increase"
    )
    back = decode(SynthEvaluation, orjson.loads(orjson.dumps(encode(evaluation))))
    assert same(back, evaluation)
    assert back.spec.unit == "kr/inv" and back.verdict == evaluation.verdict
    assert back.fit.weights.dtype == np.float64


def test_data_of_another_format_is_refused_not_guessed() -> None:
    data = encode(_outer())
    missing = {k: v for k, v in data.items() if k != "flag"}
    with pytest.raises(CodecError, match="flag"):
        decode(Outer, missing)
    with pytest.raises(CodecError):
        decode(Outer, {**data, "count": "tre"})
    with pytest.raises(CodecError):
        decode(Outer, {**data, "inners": [{**data["inners"][0], "kind": "c"}]})
    with pytest.raises(CodecError):
        decode(Outer, {**data, "span": [2008]})
    # a field given by the caller needs no stored value
    assert decode(Outer, missing, flag=True).flag is True


def test_store_state_is_the_same_for_two_readers_and_changes_with_the_data(
    metadata_store: Store,
) -> None:
    first = store_state(metadata_store)
    assert len(first) == 16
    assert store_state(Store(metadata_store.directory)) == first
    table = sorted(metadata_store.metadata.directory.glob("*.parquet"))[0]
    stat = table.stat()
    os.utime(table, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = store_state(metadata_store)
    assert second != first
    manifest = metadata_store.values.directory / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_bytes(b'{"generation": 1, "buckets": {}}')
    third = store_state(metadata_store)
    assert third not in (first, second)
    assert store_state(Store(metadata_store.directory)) == third


# -- the bank's table, SQLite and PostgreSQL ----------------------------------------------


def _trial(bank: Bank, people: People, kpis: tuple[str, ...] = ("N15419", "N00945")) -> Any:
    return bank.register_trial(
        people.goteborg,
        {
            "municipality": "1480",
            "title": "Läxhjälp",
            "description": "Varje eftermiddag.",
            "start_year": 2016,
            "kpis": [{"kpi": k, "direction": "increase"} for k in kpis],
        },
        {k: 2022 for k in kpis},
    )


def _row(kpi: str, key: str, label: str = "ingen säker effekt") -> NewEvaluation:
    return NewEvaluation(kpi, key, "no_clear_effect", label, f'{{"kpi": "{kpi}", "key": "{key}"}}')


def test_stored_evaluations_are_found_by_key_and_replaced(bank: Bank, people: People) -> None:
    trial = _trial(bank, people)
    assert (
        bank.store_evaluations(trial.id, 1, "s1", "m1", [_row("N15419", "a"), _row("N00945", "b")])
        == 2
    )
    found = bank.stored_evaluations(["a", "b", "c"])
    assert set(found) == {"a", "b"}
    assert found["a"].kpi == "N15419" and found["a"].payload == '{"kpi": "N15419", "key": "a"}'
    assert found["a"].computed_at.tzinfo is not None
    # the same key again replaces the row
    bank.store_evaluations(trial.id, 1, "s1", "m1", [_row("N15419", "a", "tydlig ökning")])
    verdicts = bank.stored_verdicts([(trial.id, 1)], "s1", "m1")
    assert verdicts[(trial.id, "N15419")].label == "tydlig ökning"
    assert verdicts[(trial.id, "N00945")].label == "ingen säker effekt"
    assert bank.stored_evaluations([]) == {}


def test_a_new_state_prunes_stale_rows_and_the_list_reads_the_current_ones(
    bank: Bank, people: People
) -> None:
    trial = _trial(bank, people)
    bank.store_evaluations(trial.id, 1, "s1", "m1", [_row("N15419", "old")])
    # other settings at the same state are kept beside it
    bank.store_evaluations(trial.id, 1, "s1", "m1", [_row("N15419", "peers10", "annan")])
    assert set(bank.stored_evaluations(["old", "peers10"])) == {"old", "peers10"}
    time.sleep(0.01)
    assert bank.stored_verdicts([(trial.id, 1)], "s1", "m1")[(trial.id, "N15419")].label == (
        "annan"
    )  # the latest
    # a sync (another state) prunes the trial's rows of the older state for the same KPI
    bank.store_evaluations(trial.id, 1, "s2", "m1", [_row("N15419", "new")])
    assert set(bank.stored_evaluations(["old", "peers10", "new"])) == {"new"}
    assert bank.stored_verdicts([(trial.id, 1)], "s1", "m1") == {}
    assert set(bank.stored_verdicts([(trial.id, 1)], "s2", "m1")) == {(trial.id, "N15419")}
    # another version of the trial or of the method is not listed
    assert bank.stored_verdicts([(trial.id, 2)], "s2", "m1") == {}
    assert bank.stored_verdicts([(trial.id, 1)], "s2", "m2") == {}


def test_deleting_a_trial_removes_its_stored_evaluations(bank: Bank, people: People) -> None:
    trial = _trial(bank, people)
    other = _trial(bank, people, ("N15419",))
    bank.store_evaluations(trial.id, 1, "s", "m", [_row("N15419", "a"), _row("N00945", "b")])
    bank.store_evaluations(other.id, 1, "s", "m", [_row("N15419", "c")])
    bank.delete_trial(people.goteborg, trial.id, trial.version)
    assert set(bank.stored_evaluations(["a", "b", "c"])) == {"c"}
    # a trial deleted while its evaluation ran: nothing is stored, nothing fails
    assert bank.store_evaluations(trial.id, 1, "s", "m", [_row("N15419", "d")]) == 0
    assert bank.stored_evaluations(["d"]) == {}
    assert bank.forget_evaluations(other.id) == 1


def test_stored_evaluations_are_not_exported(bank: Bank, people: People, tmp_path: Path) -> None:
    from tillit.bank import export_bank

    trial = _trial(bank, people, ("N15419",))
    bank.store_evaluations(trial.id, 1, "s", "m", [_row("N15419", "a")])
    counts = export_bank(bank, tmp_path / "bank.jsonl")
    assert "trial_evaluations" not in counts and counts["trials"] == 1
    assert '"trial_evaluations"' not in (tmp_path / "bank.jsonl").read_text(encoding="utf-8")
