"""Goals (mål) in the bank, on SQLite and PostgreSQL: who may do what, the fields' checks,
target revisions that stay visible, optimistic locking, links to trials and examples,
search, the audit log, the migration and the export/import round trip."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.bank_fixtures import FAST_PASSWORDS, ORGANISATIONS, PASSWORD, People
from tests.test_bank_trials import _downgrade, _tables
from tillit.bank import (
    Bank,
    GoalIndicatorRecord,
    GoalRecord,
    create_bank_engine,
    current_revision,
    export_bank,
    goals_of,
    head_revision,
    import_bank,
    open_bank,
    upgrade,
)
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

INDICATOR: dict[str, Any] = {
    "kpi": "n15419",
    "baseline_year": 2020,
    "baseline_value": 85,
    "target_value": "90,5",
    "target_year": 2026,
    "direction": "increase",
    "interim": [{"year": 2023, "value": 88}],
}
GOOD: dict[str, Any] = {
    "title": "Fler elever klarar gymnasiet",
    "description": "Andelen som tar examen inom fyra år ska öka.",
    "political_level": "kommunfullmäktige",
    "indicators": [INDICATOR],
}


def _set(bank: Bank, who: Any, **changes: Any) -> GoalRecord:
    return goals_of(bank).create_goal(who, {**GOOD, **changes})


def test_an_editor_sets_a_goal_for_their_own_municipality_and_everyone_reads_it(
    bank: Bank, people: People
) -> None:
    before = datetime.now(UTC)
    goal = _set(bank, people.goteborg)
    assert (goal.organisation_code, goal.organisation_name, goal.organisation_kind) == (
        "1480",
        "Göteborg",
        "kommun",
    )
    assert (goal.title, goal.political_level, goal.version) == (
        GOOD["title"],
        "kommunfullmäktige",
        1,
    )
    assert goal.indicators == (
        GoalIndicatorRecord("N15419", "T", 2020, 85.0, 90.5, 2026, "increase", ((2023, 88.0),)),
    )
    assert goal.created_by == people.goteborg.id == goal.updated_by
    assert before - timedelta(seconds=1) <= goal.created_at <= datetime.now(UTC)
    assert goal.target_changes == ()
    goals = goals_of(bank)
    assert goals.goal(None, goal.id) == goal
    assert goals.goals(None) == [goal]
    assert goals.goals(None, organisation="1480") == [goal]
    assert goals.goals(None, organisation="0180") == []
    assert goals.goals(None, kpi="N15419") == [goal]
    assert goals.goals(None, kpi="N00945") == []


def test_who_may_set_change_and_delete_a_goal(bank: Bank, people: People) -> None:
    goals = goals_of(bank)
    with pytest.raises(PermissionDeniedError, match="egen organisation"):
        _set(bank, people.stockholm, organisation="1480")
    for nobody in (people.reader, None):
        with pytest.raises(PermissionDeniedError, match="redaktörer"):
            _set(bank, nobody)
    # An admin sets goals for any municipality or region, but must say which.
    region = _set(bank, people.admin, organisation="0014")
    assert (region.organisation_code, region.organisation_kind) == ("0014", "region")
    with pytest.raises(InvalidInputError, match="kommun eller region") as info:
        _set(bank, people.admin)
    assert info.value.field == "organisation"  # type: ignore[attr-defined]
    bank.add_organisation("SKR", actor=people.admin)
    with pytest.raises(InvalidInputError, match="ingen kommun eller region"):
        _set(bank, people.admin, organisation="SKR")
    with pytest.raises(InvalidInputError, match="finns inte"):
        _set(bank, people.admin, organisation="9999")
    goal = _set(bank, people.goteborg)
    for outsider in (people.stockholm, people.reader, None):
        with pytest.raises(PermissionDeniedError):
            goals.update_goal(outsider, goal.id, 1, {"title": "x"})
        with pytest.raises(PermissionDeniedError):
            goals.delete_goal(outsider, goal.id, 1)
    assert goals.goal(None, goal.id) == goal
    by_admin = goals.update_goal(people.admin, goal.id, 1, {"title": "Av admin"})
    assert (by_admin.title, by_admin.version, by_admin.updated_by) == ("Av admin", 2, 1)
    goals.delete_goal(people.goteborg, goal.id, 2)
    with pytest.raises(NotFoundError, match="finns inte"):
        goals.goal(None, goal.id)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kpi": "X"}, "indicators[0].kpi", "nyckeltals-id"),
        ({"gender": "X"}, "indicators[0].gender", "kön"),
        ({"direction": "up"}, "indicators[0].direction", "riktning"),
        ({"target_year": 2019}, "indicators[0].target_year", "efter basåret"),
        ({"target_year": 2300}, "indicators[0].target_year", "utanför"),
        ({"baseline_value": "mycket"}, "indicators[0].baseline_value", "inget tal"),
        ({"baseline_value": float("nan")}, "indicators[0].baseline_value", "ändligt"),
        ({"target_value": 80}, "indicators[0].target_value", "över basvärdet"),
        (
            {"direction": "decrease", "target_value": 90},
            "indicators[0].target_value",
            "under basvärdet",
        ),
        ({"interim": [[2020, 86]]}, "indicators[0].interim[0]", "mellan basåret"),
        ({"interim": [[2022, 86], [2022, 87]]}, "indicators[0].interim[1]", "redan"),
        ({"colour": "röd"}, "indicators[0]", "okänt fält"),
    ],
)
def test_a_bad_indicator_names_its_field_and_stores_nothing(
    bank: Bank, people: People, change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        _set(bank, people.goteborg, indicators=[{**INDICATOR, **change}])
    assert info.value.field == field  # type: ignore[attr-defined]
    assert goals_of(bank).goals(None) == []


def test_a_goal_needs_a_title_and_an_indicator_and_no_kpi_twice(bank: Bank, people: People) -> None:
    with pytest.raises(InvalidInputError, match="tomt"):
        _set(bank, people.goteborg, title="  ")
    with pytest.raises(InvalidInputError, match="minst en indikator"):
        _set(bank, people.goteborg, indicators=[])
    with pytest.raises(InvalidInputError, match="finns redan"):
        _set(bank, people.goteborg, indicators=[INDICATOR, {**INDICATOR, "gender": "t"}])
    women = _set(bank, people.goteborg, indicators=[INDICATOR, {**INDICATOR, "gender": "K"}])
    assert [(i.kpi, i.gender) for i in women.indicators] == [("N15419", "T"), ("N15419", "K")]
    with pytest.raises(InvalidInputError, match="kan inte anges här"):
        goals_of(bank).update_goal(people.goteborg, women.id, 1, {"organisation": "0180"})


def test_every_target_change_stays_visible_with_its_time_author_and_reason(
    bank: Bank, people: People
) -> None:
    goals = goals_of(bank)
    goal = _set(bank, people.goteborg)
    renamed = goals.update_goal(people.goteborg, goal.id, 1, {"title": "Nytt namn"})
    assert renamed.target_changes == ()  # a new title changes no target
    lowered = goals.update_goal(
        people.goteborg,
        goal.id,
        2,
        {
            "indicators": [{**INDICATOR, "target_value": 88, "target_year": 2027}],
            "note": "Budgeten krymper.",
        },
    )
    assert lowered.version == 3
    changes = [(c.version, c.field, c.old, c.new, c.author, c.note) for c in lowered.target_changes]
    assert changes == [
        (3, "target_value", 90.5, 88.0, "Gö", "Budgeten krymper."),
        (3, "target_year", 2026, 2027, "Gö", "Budgeten krymper."),
    ]
    assert lowered.target_changes[0].by == people.goteborg.id
    assert lowered.target_changes[0].at == lowered.updated_at
    # Adding and removing indicators are target changes too, and the history keeps growing.
    swapped = goals.update_goal(
        people.admin,
        goal.id,
        3,
        {"indicators": [{**INDICATOR, "kpi": "N00945", "target_value": 95}]},
    )
    fields = [(c.version, c.kpi, c.field, c.author) for c in swapped.target_changes]
    assert fields[:2] == [(3, "N15419", "target_value", "Gö"), (3, "N15419", "target_year", "Gö")]
    assert fields[2:] == [(4, "N15419", "removed", "Admin"), (4, "N00945", "added", "Admin")]
    assert swapped.target_changes[3].new["target_value"] == 95.0
    revisions = goals.goal_revisions(None, goal.id)
    assert [r.version for r in revisions] == [1, 2, 3, 4]
    assert revisions[2].data["indicators"][0]["target_value"] == 88.0
    assert revisions[0].data["indicators"][0]["target_value"] == 90.5
    audit = bank.audit_log(people.admin, entity="goal", entity_id=goal.id)
    assert [a.action for a in audit] == ["goal.update"] * 3 + ["goal.create"]
    assert audit[1].details["target_changes"][0]["field"] == "target_value"
    assert audit[1].details["note"] == "Budgeten krymper."


def test_a_change_that_changes_nothing_writes_nothing(bank: Bank, people: People) -> None:
    goals = goals_of(bank)
    goal = _set(bank, people.goteborg)
    same = goals.update_goal(
        people.goteborg, goal.id, 1, {"title": GOOD["title"], "indicators": [INDICATOR]}
    )
    assert same == goal
    assert len(goals.goal_revisions(None, goal.id)) == 1


def test_optimistic_locking_refuses_a_stale_version(bank: Bank, people: People) -> None:
    goals = goals_of(bank)
    goal = _set(bank, people.goteborg)
    goals.update_goal(people.goteborg, goal.id, 1, {"title": "Först"})
    with pytest.raises(ConflictError, match="version 1") as info:
        goals.update_goal(people.admin, goal.id, 1, {"title": "Sen"})
    assert "Läs in målet igen" in (info.value.hint or "")
    with pytest.raises(ConflictError):
        goals.delete_goal(people.goteborg, goal.id, 1)
    assert goals.goal(None, goal.id).title == "Först"


def test_links_to_trials_and_examples_and_a_draft_does_not_leak(bank: Bank, people: People) -> None:
    goals = goals_of(bank)
    trial = bank.register_trial(
        people.goteborg,
        {
            "municipality": "1480",
            "title": "Läxhjälp",
            "description": "Läxhjälp för alla från 2021.",
            "start_year": 2021,
            "kpis": [{"kpi": "N15419", "direction": "increase"}],
        },
        {"N15419": 2020},
    )
    published = bank.publish(
        people.goteborg, bank.create_example(people.goteborg, {"title": "Ute"}).id
    )
    draft = bank.create_example(people.goteborg, {"title": "Utkast"})
    with pytest.raises(InvalidInputError, match="försöket 999"):
        _set(bank, people.goteborg, trial_ids=[999])
    with pytest.raises(InvalidInputError, match="exemplet"):
        _set(bank, people.stockholm, example_ids=[draft.id])
    goal = _set(bank, people.goteborg, trial_ids=[trial.id], example_ids=[published.id, draft.id])
    assert [(t.id, t.title) for t in goal.trials] == [(trial.id, "Läxhjälp")]
    assert [e.title for e in goal.examples] == ["Ute", "Utkast"]
    assert [e.title for e in goals.goal(None, goal.id).examples] == ["Ute"]
    bank.delete_example(people.goteborg, published.id)
    assert goals.goal(None, goal.id).examples == ()
    unlinked = goals.update_goal(people.goteborg, goal.id, 1, {"trial_ids": []})
    assert unlinked.trials == () and unlinked.version == 2


def test_goals_are_found_by_swedish_words(bank: Bank, people: People) -> None:
    goals = goals_of(bank)
    school = _set(bank, people.goteborg)
    care = _set(
        bank,
        people.goteborg,
        title="Tryggare äldreomsorg",
        description="Färre personal per brukare i hemtjänsten.",
        political_level="äldrenämnden",
    )
    assert goals.goals(None, query="gymnasiet") == [school]
    assert goals.goals(None, query="Äldreomsorgen") == [care]
    assert goals.goals(None, query="hemtjänst brukare") == [care]
    assert goals.goals(None, query="nämnden") == [care]  # a part of "äldrenämnden"
    assert goals.goals(None, query="cykelvägar") == []
    assert goals.goals(None, query="elever äldreomsorg") == []
    assert goals.goals(None, limit=1, offset=1) == [care]
    with pytest.raises(InvalidInputError, match="limit"):
        goals.goals(None, limit=0)


def test_migration_0009_adds_the_goal_tables_and_downgrades(blank_url: str) -> None:
    goal_tables = {"goals", "goal_indicators", "goal_trials", "goal_examples", "goal_revisions"}
    assert upgrade(blank_url, "0008") == "0008"
    assert not goal_tables & _tables(blank_url)
    assert upgrade(blank_url, "0009") == "0009"
    assert goal_tables <= _tables(blank_url)
    upgrade(blank_url)
    with open_bank(blank_url, passwords=FAST_PASSWORDS) as bank:
        bank.seed_organisations(ORGANISATIONS)
        editor = bank.add_user("g@example.se", PASSWORD, "G", "editor", "1480")
        goals_of(bank).create_goal(editor, GOOD)
    _downgrade(blank_url, "0008")
    assert not goal_tables & _tables(blank_url)
    engine = create_bank_engine(blank_url)
    try:
        assert current_revision(engine) == "0008"
    finally:
        engine.dispose()
    assert upgrade(blank_url) == head_revision()
    with open_bank(blank_url, passwords=FAST_PASSWORDS) as bank:
        assert goals_of(bank).goals(None) == []


def _export(bank: Bank) -> str:
    out = io.StringIO()
    export_bank(bank, out)
    return out.getvalue()


def test_export_and_import_round_trip_goals_with_their_revisions(
    bank: Bank, people: People, tmp_path: Any
) -> None:
    goals = goals_of(bank)
    example = bank.publish(people.goteborg, bank.create_example(people.goteborg, {"title": "E"}).id)
    goal = _set(bank, people.goteborg, example_ids=[example.id])
    goals.update_goal(
        people.goteborg,
        goal.id,
        1,
        {"indicators": [{**INDICATOR, "target_value": 88}], "note": "Sänkt."},
    )
    _set(bank, people.stockholm, indicators=[INDICATOR, {**INDICATOR, "gender": "K"}])
    original = _export(bank)
    counts = export_bank(bank, tmp_path / "bank.jsonl")
    assert (counts["goals"], counts["goal_indicators"], counts["goal_revisions"]) == (2, 3, 3)
    assert counts["goal_examples"] == 1
    copy_url = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    upgrade(copy_url)
    with open_bank(copy_url, passwords=FAST_PASSWORDS) as copy:
        assert import_bank(copy, io.StringIO(original)) == counts
        assert _export(copy) == original
        assert goals_of(copy).goals(people.admin) == goals.goals(people.admin)
        # New goals get new ids after the imported ones (PostgreSQL's sequences too).
        added = goals_of(copy).create_goal(people.goteborg, GOOD)
        assert added.id == 3


def test_an_export_from_before_goals_still_imports(
    bank: Bank, people: People, tmp_path: Any
) -> None:
    """Backward compatible: a file without goal rows (an older bank) loads, with no goals."""
    goal = _set(bank, people.goteborg)
    lines = [ln for ln in _export(bank).splitlines() if '"table":"goal' not in ln]
    copy_url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(copy_url)
    with open_bank(copy_url, passwords=FAST_PASSWORDS) as copy:
        counts = import_bank(copy, io.StringIO("\n".join(lines) + "\n"))
        assert counts["goals"] == 0 and counts["organisations"] == len(ORGANISATIONS)
        assert goals_of(copy).goals(None) == []
    assert goal.id == 1
