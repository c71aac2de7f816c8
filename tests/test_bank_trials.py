"""Trials (försök) in the bank, on SQLite and PostgreSQL: who may do what, every field's
validation, the pre-registration stamps, optimistic locking, listing, the donor-pool
exclusion, the example link, the migration and the export/import round trip."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from tests.bank_fixtures import (
    FAST_PASSWORDS,
    ORGANISATIONS,
    PASSWORD,
    People,
    _truncate,
    seed_people,
)
from tillit.bank import (
    Bank,
    TrialKpiRecord,
    TrialRecord,
    create_bank_engine,
    current_revision,
    export_bank,
    head_revision,
    import_bank,
    open_bank,
    upgrade,
)
from tillit.bank._validate import field_name
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

GOOD: dict[str, Any] = {
    "municipality": "1480",
    "title": "Tillitsbaserad hemtjänst",
    "description": "Teamen planerar själva sina besök från och med 2021.",
    "start_year": 2021,
    "kpis": [
        {"kpi": "u21468", "direction": "increase"},
        {"kpi": "N15419", "direction": "decrease"},
    ],
}
THROUGH: dict[str, int | None] = {"U21468": 2020, "N15419": None, "N00945": 2019}


def _register(bank: Bank, who: Any, **changes: Any) -> TrialRecord:
    return bank.register_trial(who, {**GOOD, **changes}, THROUGH)


# -- registering and reading ---------------------------------------------------------------


def test_an_editor_registers_a_pre_registered_trial_for_their_organisation(
    bank: Bank, people: People
) -> None:
    before = datetime.now(UTC)
    trial = _register(bank, people.goteborg)
    assert (trial.organisation_code, trial.organisation_name) == ("1480", "Göteborg")
    assert (trial.municipality, trial.start_year, trial.version) == ("1480", 2021, 1)
    assert trial.title == GOOD["title"] and trial.description == GOOD["description"]
    assert trial.registered_by == people.goteborg.id
    assert before - timedelta(seconds=1) <= trial.registered_at <= datetime.now(UTC)
    assert trial.registered_at.tzinfo is not None and trial.updated_at == trial.registered_at
    assert trial.kpis == (
        TrialKpiRecord("N15419", "decrease", trial.registered_at, None, False),
        TrialKpiRecord("U21468", "increase", trial.registered_at, 2020, False),
    )
    assert trial.pre_registered
    assert (trial.example_id, trial.example_title) == (None, None)
    # Trials are public: a visitor reads them too.
    assert bank.trial(None, trial.id) == trial
    assert bank.trials(None) == [trial]


@pytest.mark.parametrize(
    ("data_through", "known"),
    [(None, False), (2020, False), (2021, True), (2023, True)],
)
def test_results_are_known_when_the_store_held_a_treated_year_at_registration(
    bank: Bank, people: People, data_through: int | None, known: bool
) -> None:
    trial = bank.register_trial(
        people.goteborg,
        {**GOOD, "kpis": [{"kpi": "N15419", "direction": "decrease"}]},
        {"n15419": data_through},
    )
    assert trial.kpis[0].data_through == data_through
    assert trial.kpis[0].results_known is known
    assert trial.pre_registered is not known


def test_who_may_register_a_trial(bank: Bank, people: People) -> None:
    with pytest.raises(PermissionDeniedError, match="egen organisation"):
        _register(bank, people.stockholm, organisation_id=people.goteborg.organisation_id)
    with pytest.raises(PermissionDeniedError, match="redaktörer"):
        _register(bank, people.reader)
    with pytest.raises(PermissionDeniedError, match="redaktörer"):
        _register(bank, None)
    assert bank.trials(None) == []
    # An editor may name their own organisation; an admin any.
    own = _register(bank, people.goteborg, organisation_id=people.goteborg.organisation_id)
    assert own.organisation_code == "1480"
    region = bank.organisation("0014")
    by_admin = _register(bank, people.admin, organisation_id=region.id)
    assert by_admin.organisation_name == "Region Västra Götaland"
    # An admin belongs to no organisation, so must say which.
    with pytest.raises(InvalidInputError, match="organisation") as info:
        _register(bank, people.admin)
    assert info.value.field == "organisation_id"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError, match="finns inte"):
        _register(bank, people.admin, organisation_id=999)


def test_who_may_change_and_delete_a_trial(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    for outsider in (people.stockholm, people.reader):
        with pytest.raises(PermissionDeniedError):
            bank.update_trial(outsider, trial.id, 1, {"title": "x"}, {})
        with pytest.raises(PermissionDeniedError):
            bank.delete_trial(outsider, trial.id, 1)
    with pytest.raises(PermissionDeniedError):
        bank.update_trial(None, trial.id, 1, {"title": "x"}, {})
    with pytest.raises(PermissionDeniedError):
        bank.delete_trial(None, trial.id, 1)
    assert bank.trial(None, trial.id) == trial
    changed = bank.update_trial(people.admin, trial.id, 1, {"title": "Av admin"}, {})
    assert (changed.title, changed.version) == ("Av admin", 2)
    changed = bank.update_trial(people.goteborg, trial.id, 2, {"title": "Av redaktör"}, {})
    assert changed.version == 3
    bank.delete_trial(people.admin, trial.id, 3)
    with pytest.raises(NotFoundError, match="finns inte"):
        bank.trial(None, trial.id)


def test_a_deactivated_editor_can_no_longer_register(bank: Bank, people: People) -> None:
    bank.set_active(people.admin, people.goteborg.id, False)
    with pytest.raises(PermissionDeniedError, match="avstängt"):
        _register(bank, people.goteborg)


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"municipality": None}, "municipality"),
        ({"municipality": "148"}, "municipality"),
        ({"municipality": "Göteborg"}, "municipality"),
        ({"municipality": 1480}, "municipality"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 5}, "title"),
        ({"description": None}, "description"),
        ({"description": ""}, "description"),
        ({"start_year": None}, "start_year"),
        ({"start_year": 1989}, "start_year"),
        ({"start_year": 2101}, "start_year"),
        ({"start_year": "tjugo"}, "start_year"),
        ({"start_year": True}, "start_year"),
        ({"start_year": 2021.5}, "start_year"),
        ({"kpis": []}, "kpis"),
        ({"kpis": None}, "kpis"),
        ({"kpis": "N15419"}, "kpis"),
        ({"kpis": ["N15419"]}, "kpis[0]"),
        ({"kpis": [{"kpi": "N1541", "direction": "increase"}]}, "kpis[0].kpi"),
        ({"kpis": [{"kpi": None, "direction": "increase"}]}, "kpis[0].kpi"),
        ({"kpis": [{"kpi": "N15419", "direction": "up"}]}, "kpis[0].direction"),
        ({"kpis": [{"kpi": "N15419"}]}, "kpis[0].direction"),
        ({"kpis": [{"kpi": "N15419", "direction": "increase", "note": "x"}]}, "kpis[0].note"),
        (
            {
                "kpis": [
                    {"kpi": "N15419", "direction": "increase"},
                    {"kpi": "n15419", "direction": "decrease"},
                ]
            },
            "kpis[1].kpi",
        ),
        ({"example_id": 999}, "example_id"),
        ({"example_id": "sju"}, "example_id"),
        ({"example_id": False}, "example_id"),
        ({"organisation_id": "Göteborg"}, "organisation_id"),
        ({"status": "draft"}, "status"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_registered(
    bank: Bank, people: People, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        bank.register_trial(people.goteborg, {**GOOD, **changes}, {"N15419": None, **THROUGH})
    assert info.value.field == field  # type: ignore[attr-defined]
    assert repr(field_name(field)) in info.value.message  # in words, not the key
    assert bank.trials(None) == []


def test_a_missing_field_is_named(bank: Bank, people: People) -> None:
    for name in ("municipality", "title", "description", "start_year", "kpis"):
        data = {k: v for k, v in GOOD.items() if k != name}
        with pytest.raises(InvalidInputError) as info:
            bank.register_trial(people.goteborg, data, THROUGH)
        assert info.value.field == name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data_through", "field"),
    [
        ({"U21468": 2020}, "data_through.N15419"),
        ({**THROUGH, "U21468": 1800}, "data_through.U21468"),
        ({**THROUGH, "U21468": "i fjol"}, "data_through.U21468"),
        ({**THROUGH, "nyckeltal": 2020}, "data_through['nyckeltal']"),
    ],
)
def test_every_kpi_needs_a_valid_data_through(
    bank: Bank, people: People, data_through: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        bank.register_trial(people.goteborg, GOOD, data_through)
    assert info.value.field == field  # type: ignore[attr-defined]
    assert bank.trials(None) == []


def test_text_is_stored_verbatim_but_stripped(bank: Bank, people: People) -> None:
    trial = _register(
        bank, people.goteborg, title="  <b>Försök</b> ”citat” ", description="Rad ett\nrad två"
    )
    assert trial.title == "<b>Försök</b> ”citat”"
    assert trial.description == "Rad ett\nrad två"
    assert _register(bank, people.goteborg, title="x" * 200, start_year="1990").start_year == 1990


# -- editing -------------------------------------------------------------------------------


def test_editing_text_keeps_every_kpis_registration(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    changed = bank.update_trial(
        people.goteborg, trial.id, 1, {"title": "Ny titel", "description": "Mer text."}, {}
    )
    assert (changed.title, changed.description, changed.version) == ("Ny titel", "Mer text.", 2)
    assert changed.kpis == trial.kpis
    assert changed.registered_at == trial.registered_at
    assert changed.updated_at > trial.updated_at


def test_a_new_kpi_is_stamped_now_and_kept_ones_keep_their_stamp(
    bank: Bank, people: People
) -> None:
    trial = _register(bank, people.goteborg)
    kpis = [*GOOD["kpis"], {"kpi": "N00945", "direction": "increase"}]
    # The new KPI's data_through must be given; results for 2021 are known by now.
    with pytest.raises(InvalidInputError, match=r"data till och med, N00945"):
        bank.update_trial(people.goteborg, trial.id, 1, {"kpis": kpis}, {})
    assert bank.trial(None, trial.id) == trial
    changed = bank.update_trial(
        people.goteborg, trial.id, 1, {"kpis": kpis}, {"N00945": 2023, "U21468": 2024}
    )
    by_kpi = {k.kpi: k for k in changed.kpis}
    assert by_kpi["U21468"] == trial.kpis[1]  # kept: its stamp is not moved to 2024
    assert by_kpi["N15419"] == trial.kpis[0]
    new = by_kpi["N00945"]
    assert new.registered_at > trial.registered_at
    assert (new.data_through, new.results_known) == (2023, True)
    assert not changed.pre_registered
    # Dropping a KPI removes it; the others keep their stamps.
    dropped = bank.update_trial(people.goteborg, trial.id, 2, {"kpis": GOOD["kpis"][:1]}, {})
    assert dropped.kpis == (trial.kpis[1],)


def test_a_changed_direction_is_a_new_registration(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    kpis = [{"kpi": "U21468", "direction": "decrease"}, GOOD["kpis"][1]]
    changed = bank.update_trial(people.goteborg, trial.id, 1, {"kpis": kpis}, {"U21468": 2022})
    by_kpi = {k.kpi: k for k in changed.kpis}
    assert by_kpi["N15419"] == trial.kpis[0]
    assert by_kpi["U21468"].direction == "decrease"
    assert by_kpi["U21468"].registered_at > trial.registered_at
    assert by_kpi["U21468"].results_known


def test_a_new_start_year_re_stamps_every_kpi(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    with pytest.raises(InvalidInputError, match=r"data till och med, N15419"):
        bank.update_trial(people.goteborg, trial.id, 1, {"start_year": 2019}, {"U21468": 2024})
    changed = bank.update_trial(
        people.goteborg, trial.id, 1, {"start_year": 2019}, {"U21468": 2024, "N15419": 2018}
    )
    assert changed.start_year == 2019
    assert changed.registered_at == trial.registered_at  # the trial's own registration stays
    assert all(k.registered_at > trial.registered_at for k in changed.kpis)
    assert [(k.kpi, k.data_through, k.results_known) for k in changed.kpis] == [
        ("N15419", 2018, False),
        ("U21468", 2024, True),
    ]
    # The audit log has the old and new values.
    entry = bank.audit_log(people.admin, entity="trial", entity_id=trial.id)[0]
    assert entry.action == "trial.update" and entry.user_id == people.goteborg.id
    assert entry.details["version"] == 2
    assert entry.details["fields"] == ["start_year", "kpis"]
    assert entry.details["changes"]["start_year"] == {"old": 2021, "new": 2019}
    old_kpis = entry.details["changes"]["kpis"]["old"]
    assert [(k["kpi"], k["data_through"]) for k in old_kpis] == [("N15419", None), ("U21468", 2020)]
    assert old_kpis[0]["registered_at"] == trial.registered_at.isoformat()
    assert entry.details["restamped"] == ["N15419", "U21468"]


def test_the_same_start_year_re_stamps_nothing(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    same = bank.update_trial(
        people.goteborg, trial.id, 1, {"start_year": "2021", "kpis": GOOD["kpis"][::-1]}, {}
    )
    assert same == trial  # nothing changed, nothing written
    assert [a.action for a in bank.audit_log(people.admin, entity="trial")] == ["trial.register"]


def test_a_stale_version_is_a_conflict_and_changes_nothing(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    bank.update_trial(people.admin, trial.id, 1, {"title": "Först"}, {})
    with pytest.raises(ConflictError, match="sedan version 1 \\(nu version 2\\)") as info:
        bank.update_trial(people.goteborg, trial.id, 1, {"title": "Sen"}, {})
    assert "Läs in försöket igen" in (info.value.hint or "")
    with pytest.raises(ConflictError):
        bank.delete_trial(people.goteborg, trial.id, 1)
    assert bank.trial(None, trial.id).title == "Först"


@pytest.mark.parametrize("field", ["municipality", "organisation_id"])
def test_the_municipality_and_owner_cannot_change(bank: Bank, people: People, field: str) -> None:
    trial = _register(bank, people.goteborg)
    with pytest.raises(InvalidInputError, match="kan inte ändras") as info:
        bank.update_trial(people.admin, trial.id, 1, {field: "0180"}, {})
    assert "nytt försök" in (info.value.hint or "")
    with pytest.raises(InvalidInputError, match="nyckeltal"):
        bank.update_trial(people.admin, trial.id, 1, {"kpis": []}, {})
    with pytest.raises(NotFoundError):
        bank.update_trial(people.admin, 999, 1, {"title": "x"}, {})


def test_delete_removes_the_trial_and_audits_its_last_state(bank: Bank, people: People) -> None:
    trial = _register(bank, people.goteborg)
    other = _register(bank, people.admin, municipality="1481", organisation_id=_region(bank))
    bank.delete_trial(people.goteborg, trial.id, 1)
    assert [t.id for t in bank.trials(None)] == [other.id]
    with pytest.raises(NotFoundError):
        bank.delete_trial(people.goteborg, trial.id, 1)
    assert bank.trial_municipalities("N15419") == frozenset({"1481"})
    entry = bank.audit_log(people.admin, entity="trial", entity_id=trial.id)[0]
    assert entry.action == "trial.delete"
    assert entry.details["last"]["title"] == GOOD["title"]
    assert [k["kpi"] for k in entry.details["last"]["kpis"]] == ["N15419", "U21468"]


# -- listing and the donor pool ------------------------------------------------------------


def test_trials_are_listed_newest_first_and_filtered(bank: Bank, people: People) -> None:
    first = _register(bank, people.goteborg)
    second = _register(
        bank,
        people.stockholm,
        municipality="0180",
        kpis=[{"kpi": "U21468", "direction": "decrease"}],
    )
    third = _register(
        bank,
        people.admin,
        organisation_id=_region(bank),
        municipality="1481",
        kpis=[{"kpi": "N00945", "direction": "increase"}],
    )
    ids = [t.id for t in bank.trials(people.reader)]
    assert ids == [third.id, second.id, first.id]
    assert [t.id for t in bank.trials(None, municipality=" 0180 ")] == [second.id]
    assert [t.id for t in bank.trials(None, kpi="u21468")] == [second.id, first.id]
    assert [t.id for t in bank.trials(None, municipality="1480", kpi="N00945")] == []
    assert [t.id for t in bank.trials(None, limit=1, offset=1)] == [second.id]
    with pytest.raises(InvalidInputError, match="limit"):
        bank.trials(None, limit=0)
    with pytest.raises(InvalidInputError, match="offset"):
        bank.trials(None, offset=-1)


def test_trial_municipalities_are_the_donors_to_leave_out(bank: Bank, people: People) -> None:
    own = _register(bank, people.goteborg)
    _register(bank, people.stockholm, municipality="0180", kpis=[GOOD["kpis"][0]])
    _register(bank, people.goteborg)  # a second trial in the same municipality
    assert bank.trial_municipalities("U21468") == frozenset({"1480", "0180"})
    assert bank.trial_municipalities(" n15419 ") == frozenset({"1480"})
    assert bank.trial_municipalities("N15419", exclude_trial=own.id) == frozenset({"1480"})
    assert bank.trial_municipalities("N00945") == frozenset()
    only = _register(
        bank,
        people.admin,
        organisation_id=_region(bank),
        municipality="0181",
        kpis=[{"kpi": "N00945", "direction": "increase"}],
    )
    assert bank.trial_municipalities("N00945", exclude_trial=only.id) == frozenset()


def test_a_municipality_registers_trials_only_in_itself_a_region_in_any(
    bank: Bank, people: People
) -> None:
    with pytest.raises(InvalidInputError, match="sin egen kommun") as info:
        _register(bank, people.goteborg, municipality="1481")
    assert info.value.field == "municipality"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError, match="sin egen kommun"):
        _register(
            bank, people.admin, municipality="0180", organisation_id=people.goteborg.organisation_id
        )
    assert bank.trials(None) == []
    by_region = _register(bank, people.admin, municipality="1481", organisation_id=_region(bank))
    assert (by_region.municipality, by_region.organisation_name) == (
        "1481",
        "Region Västra Götaland",
    )


def _region(bank: Bank) -> int:
    return bank.organisation("0014").id


# -- the link to a good example ------------------------------------------------------------


def test_a_linked_example_is_shown_to_those_who_may_see_it(bank: Bank, people: People) -> None:
    published = bank.publish(
        people.goteborg, bank.create_example(people.goteborg, {"title": "Ute"}).id
    )
    draft = bank.create_example(people.goteborg, {"title": "Utkast"})
    trial = _register(bank, people.goteborg, example_id=published.id)
    assert (trial.example_id, trial.example_title) == (published.id, "Ute")
    # Stockholm's editor may link to Göteborg's published example, not to its draft.
    with pytest.raises(InvalidInputError, match="gott exempel"):
        _register(bank, people.stockholm, municipality="0180", example_id=draft.id)
    linked = _register(bank, people.stockholm, municipality="0180", example_id=published.id)
    assert linked.example_title == "Ute"
    # A draft linked by its own organisation is not shown to others.
    to_draft = bank.update_trial(people.goteborg, trial.id, 1, {"example_id": str(draft.id)}, {})
    assert (to_draft.example_id, to_draft.example_title) == (draft.id, "Utkast")
    assert (bank.trial(None, trial.id).example_id, bank.trial(None, trial.id).example_title) == (
        None,
        None,
    )
    assert bank.trial(people.admin, trial.id).example_id == draft.id
    unlinked = bank.update_trial(people.goteborg, trial.id, 2, {"example_id": None}, {})
    assert unlinked.example_id is None and unlinked.version == 3


def test_deleting_the_example_unlinks_the_trial(bank: Bank, people: People) -> None:
    example = bank.publish(
        people.goteborg, bank.create_example(people.goteborg, {"title": "Går bort"}).id
    )
    trial = _register(bank, people.goteborg, example_id=example.id)
    bank.delete_example(people.goteborg, example.id)
    after = bank.trial(None, trial.id)
    assert (after.example_id, after.example_title, after.version) == (None, None, 1)
    assert after.kpis == trial.kpis


# -- migration and transfer ----------------------------------------------------------------


def _downgrade(url: str, revision: str) -> None:
    engine = create_bank_engine(url)
    try:
        with (
            resources.as_file(resources.files("tillit.bank") / "migrations") as location,
            engine.begin() as connection,
        ):
            config = Config()
            config.set_main_option("script_location", str(location))
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_bank_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_0005_adds_the_trial_tables_and_downgrades(blank_url: str) -> None:
    assert upgrade(blank_url, "0004") == "0004"
    assert not {"trials", "trial_kpis"} & _tables(blank_url)
    assert upgrade(blank_url, "0005") == "0005"
    assert {"trials", "trial_kpis"} <= _tables(blank_url)
    engine = create_bank_engine(blank_url)
    try:
        indexes = {i["name"] for i in inspect(engine).get_indexes("trial_kpis")}
        assert "ix_trial_kpis_kpi" in indexes
        assert inspect(engine).get_pk_constraint("trial_kpis")["constrained_columns"] == [
            "trial_id",
            "kpi",
        ]
    finally:
        engine.dispose()
    upgrade(blank_url)  # open_bank needs the newest migration
    with open_bank(blank_url, passwords=FAST_PASSWORDS) as bank:
        bank.seed_organisations(ORGANISATIONS)
        editor = bank.add_user("g@example.se", PASSWORD, "G", "editor", "1480")
        bank.register_trial(editor, GOOD, THROUGH)
    _downgrade(blank_url, "0004")
    assert not {"trials", "trial_kpis"} & _tables(blank_url)
    assert {"examples", "organisations"} <= _tables(blank_url)
    engine = create_bank_engine(blank_url)
    try:
        assert current_revision(engine) == "0004"
    finally:
        engine.dispose()
    assert upgrade(blank_url) == head_revision()
    with open_bank(blank_url, passwords=FAST_PASSWORDS) as bank:
        assert bank.trials(None) == []


def _fill(bank: Bank, people: People) -> None:
    example = bank.publish(people.goteborg, bank.create_example(people.goteborg, {"title": "E"}).id)
    trial = _register(bank, people.goteborg, example_id=example.id)
    bank.update_trial(
        people.goteborg,
        trial.id,
        1,
        {"kpis": [*GOOD["kpis"], {"kpi": "N00945", "direction": "increase"}]},
        {"N00945": 2022},
    )
    _register(bank, people.stockholm, municipality="0180", kpis=[GOOD["kpis"][0]])


def _export(bank: Bank) -> str:
    out = io.StringIO()
    export_bank(bank, out)
    return out.getvalue()


def test_export_and_import_round_trip_trials_with_their_stamps(
    bank: Bank, people: People, tmp_path: Any
) -> None:
    _fill(bank, people)
    original = _export(bank)
    assert '"table":"trials"' in original and '"table":"trial_kpis"' in original
    counts = export_bank(bank, tmp_path / "bank.jsonl")
    assert (counts["trials"], counts["trial_kpis"]) == (2, 4)
    copy_url = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    upgrade(copy_url)
    with open_bank(copy_url, passwords=FAST_PASSWORDS) as copy:
        assert import_bank(copy, io.StringIO(original)) == counts
        assert _export(copy) == original
        assert copy.trials(people.admin) == bank.trials(people.admin)
        # ids continue after the imported trials
        new = copy.register_trial(people.goteborg, GOOD, THROUGH)
        assert new.id == max(t.id for t in bank.trials(None)) + 1


@pytest.mark.postgres
def test_trials_round_trip_sqlite_postgresql_sqlite(
    postgres_migrated_url: str, tmp_path: Any
) -> None:
    first_url = f"sqlite:///{tmp_path / 'first.sqlite'}"
    last_url = f"sqlite:///{tmp_path / 'last.sqlite'}"
    upgrade(first_url)
    upgrade(last_url)
    _truncate(postgres_migrated_url)
    with open_bank(first_url, passwords=FAST_PASSWORDS) as first:
        people = seed_people(first)
        _fill(first, people)
        original = _export(first)
        trials = first.trials(people.admin)
    with open_bank(postgres_migrated_url, passwords=FAST_PASSWORDS) as middle:
        import_bank(middle, io.StringIO(original))
        assert _export(middle) == original
        assert middle.trials(people.admin) == trials
        again = _export(middle)
        # the trials' id sequence was moved past the imported rows
        new = middle.register_trial(people.goteborg, GOOD, THROUGH)
        assert new.id == max(t.id for t in trials) + 1
    with open_bank(last_url, passwords=FAST_PASSWORDS) as last:
        import_bank(last, io.StringIO(again))
        assert _export(last) == original
