from __future__ import annotations

from typing import Any

import pytest

from tests.bank_fixtures import People
from tillit.bank import TRUST_PRINCIPLES, Bank, KpiLink
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

GOOD: dict[str, Any] = {
    "title": "Färre överbeläggningar genom tillit i hemtjänsten",
    "summary": "Kort om exemplet.",
    "problem": "Detaljstyrning.",
    "what_was_done": "Teamen fick planera själva.",
    "results": "Nöjdare brukare.",
    "operating_area": "Äldreomsorg",
    "period_start": 2019,
    "period_end": 2022,
    "contact_role": "Verksamhetschef hemtjänst",
    "tags": ["hemtjänst"],
    "principles": ["tillit", "handlingsutrymme"],
    "kpis": [{"kpi": "u21468", "municipality": "1480", "year_from": 2018, "year_to": 2022}],
}


def _all_rows(bank: Bank, who: Any) -> tuple[Any, ...]:
    page = bank.list_examples(who, limit=500)
    return tuple((e.id, e.version, e.title, e.status) for e in page.items)


def test_an_editor_creates_a_draft_for_their_organisation(bank: Bank, people: People) -> None:
    example = bank.create_example(people.goteborg, GOOD)
    assert example.organisation_code == "1480"
    assert (example.status, example.version) == ("draft", 1)
    assert example.principles == ("tillit", "handlingsutrymme")
    assert example.tags == ("hemtjänst",)
    assert example.kpis == (KpiLink("U21468", "1480", 2018, 2022, ""),)
    assert bank.example(people.goteborg, example.id) == example


def test_trust_principles_can_come_as_tags_too(bank: Bank, people: People) -> None:
    example = bank.create_example(
        people.goteborg, {"title": "T", "tags": ["öppenhet", "skola"], "principles": ["stöd"]}
    )
    assert example.principles == ("stöd", "öppenhet")
    assert example.tags == ("skola",)
    assert set(TRUST_PRINCIPLES) >= set(example.principles)


def test_an_editor_cannot_touch_another_organisations_examples(bank: Bank, people: People) -> None:
    draft = bank.create_example(people.goteborg, GOOD)
    published = bank.publish(people.goteborg, bank.create_example(people.goteborg, GOOD).id)
    # Another municipality's draft does not exist for Stockholm's editor.
    with pytest.raises(NotFoundError):
        bank.example(people.stockholm, draft.id)
    with pytest.raises(NotFoundError):
        bank.update_example(people.stockholm, draft.id, {"title": "x"}, 1)
    with pytest.raises(NotFoundError):
        bank.delete_example(people.stockholm, draft.id)
    # A published one is visible but not writable.
    assert bank.example(people.stockholm, published.id).id == published.id
    with pytest.raises(PermissionDeniedError):
        bank.update_example(people.stockholm, published.id, {"title": "x"}, published.version)
    with pytest.raises(PermissionDeniedError):
        bank.delete_example(people.stockholm, published.id)
    with pytest.raises(PermissionDeniedError):
        bank.unpublish(people.stockholm, published.id)
    with pytest.raises(PermissionDeniedError):
        bank.create_example(people.stockholm, {**GOOD, "organisation": "1480"})
    listed = bank.list_examples(people.stockholm)
    assert [e.id for e in listed.items] == [published.id]
    assert bank.example(people.admin, draft.id).title == GOOD["title"]


def test_readers_and_visitors_see_only_published_and_cannot_write(
    bank: Bank, people: People
) -> None:
    draft = bank.create_example(people.goteborg, GOOD)
    published = bank.publish(people.admin, bank.create_example(people.goteborg, GOOD).id)
    for who in (people.reader, None):
        assert [e.id for e in bank.list_examples(who).items] == [published.id]
        with pytest.raises(NotFoundError):
            bank.example(who, draft.id)
        with pytest.raises(NotFoundError):
            bank.revisions(who, draft.id)
        with pytest.raises(PermissionDeniedError):
            bank.create_example(who, {**GOOD, "organisation": "1480"})
        with pytest.raises(PermissionDeniedError):
            bank.update_example(who, published.id, {"title": "x"}, published.version)
        with pytest.raises(PermissionDeniedError):
            bank.delete_example(who, published.id)
    assert len(bank.revisions(None, published.id)) == 2


def test_admin_may_do_everything_and_move_an_example(bank: Bank, people: People) -> None:
    example = bank.create_example(people.admin, {**GOOD, "organisation": "0180"})
    moved = bank.update_example(people.admin, example.id, {"organisation": "1480"}, 1)
    assert (moved.organisation_code, moved.version) == ("1480", 2)
    with pytest.raises(PermissionDeniedError):
        bank.update_example(people.goteborg, example.id, {"organisation": "0180"}, 2)
    bank.delete_example(people.admin, example.id)
    with pytest.raises(NotFoundError):
        bank.example(people.admin, example.id)


def test_every_change_writes_a_revision_and_an_audit_entry(bank: Bank, people: People) -> None:
    example = bank.create_example(people.goteborg, GOOD)
    bank.update_example(people.goteborg, example.id, {"summary": "Ny", "tags": ["äldre"]}, 1)
    bank.publish(people.goteborg, example.id)
    bank.unpublish(people.goteborg, example.id, expected_version=3)
    revisions = bank.revisions(people.goteborg, example.id)
    assert [r.version for r in revisions] == [1, 2, 3, 4]
    assert [r.data["status"] for r in revisions] == ["draft", "draft", "published", "draft"]
    assert revisions[1].data["summary"] == "Ny" and revisions[0].data["summary"] == GOOD["summary"]
    assert revisions[1].data["tags"] == ["äldre"]
    assert all(r.created_by == people.goteborg.id for r in revisions)
    entries = bank.audit_log(people.admin, entity="example", entity_id=example.id)
    assert [(e.action, e.details["version"]) for e in reversed(entries)] == [
        ("example.create", 1),
        ("example.update", 2),
        ("example.publish", 3),
        ("example.unpublish", 4),
    ]
    assert entries[2].details["fields"] == ["summary", "tags"]
    assert {e.user_id for e in entries} == {people.goteborg.id}
    bank.delete_example(people.goteborg, example.id)
    last = bank.audit_log(people.admin, limit=1)[0]
    assert (last.action, last.entity_id) == ("example.delete", str(example.id))
    assert last.details["last"]["title"] == GOOD["title"]


def test_a_change_that_changes_nothing_writes_nothing(bank: Bank, people: People) -> None:
    example = bank.create_example(people.goteborg, GOOD)
    same = bank.update_example(people.goteborg, example.id, {"title": GOOD["title"]}, 1)
    assert same.version == 1
    assert len(bank.revisions(people.goteborg, example.id)) == 1


def test_a_stale_version_is_a_conflict_and_changes_nothing(bank: Bank, people: People) -> None:
    example = bank.create_example(people.goteborg, GOOD)
    bank.update_example(people.goteborg, example.id, {"title": "Först"}, 1)
    with pytest.raises(ConflictError) as info:
        bank.update_example(people.admin, example.id, {"title": "Sen"}, 1)
    assert info.value.hint
    with pytest.raises(ConflictError):
        bank.delete_example(people.goteborg, example.id, expected_version=1)
    with pytest.raises(ConflictError):
        bank.publish(people.goteborg, example.id, expected_version=1)
    now = bank.example(people.goteborg, example.id)
    assert (now.title, now.version, now.status) == ("Först", 2, "draft")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"status": "archived"}, "status"),
        ({"principles": ["tillit", "lydnad"]}, "principles[1]"),
        ({"kpis": [{"kpi": "N1", "municipality": "1480"}]}, "kpis[0].kpi"),
        ({"kpis": [{"kpi": "N00945", "municipality": "Gbg"}]}, "kpis[0].municipality"),
        ({"kpis": [{"kpi": "N00945", "municipality": "1480", "year_from": 1800}]}, "year_from"),
        ({"kpis": [{"kpi": "N00945", "municipality": "1480", "year_from": 2022, "year_to": 2020}]},
         "kpis[0].year_to"),
        ({"period_start": 2023, "period_end": 2020}, "period_end"),
        ({"period_start": "tjugo"}, "period_start"),
        ({"tags": "en sträng"}, "tags"),
        ({"colour": "blå"}, "colour"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_changes_nothing(
    bank: Bank, people: People, data: dict[str, Any], field: str
) -> None:
    example = bank.create_example(people.goteborg, GOOD)
    before = _all_rows(bank, people.admin)
    audit_before = len(bank.audit_log(people.admin, limit=1000))
    with pytest.raises(InvalidInputError) as info:
        bank.update_example(people.goteborg, example.id, data, 1)
    assert field in info.value.field  # type: ignore[attr-defined]
    assert "Fältet " in info.value.message and "_" not in info.value.message.split(":")[0]
    with pytest.raises(InvalidInputError):
        bank.create_example(people.goteborg, {**GOOD, **data})
    assert _all_rows(bank, people.admin) == before
    assert len(bank.audit_log(people.admin, limit=1000)) == audit_before
    assert bank.example(people.admin, example.id).kpis == (KpiLink("U21468", "1480", 2018, 2022),)


def test_html_and_script_are_stored_verbatim(bank: Bank, people: People) -> None:
    text = "<script>alert('x')</script> & <b>fet</b> \"citat\" ' åäö"
    example = bank.create_example(
        people.goteborg, {"title": text, "summary": text, "tags": ["<i>tag</i>"]}
    )
    again = bank.example(people.goteborg, example.id)
    assert (again.title, again.summary, again.tags) == (text, text, ("<i>tag</i>",))
    assert bank.revisions(people.goteborg, example.id)[0].data["title"] == text


def test_listing_filters_and_pages(bank: Bank, people: People) -> None:
    ids = []
    for i in range(5):
        data = {**GOOD, "title": f"Exempel {i}", "tags": [f"t{i % 2}"]}
        ids.append(bank.publish(people.goteborg, bank.create_example(people.goteborg, data).id).id)
    sthlm = bank.create_example(people.stockholm, {**GOOD, "kpis": [], "principles": ["stöd"]})
    page = bank.list_examples(people.admin, limit=2, offset=1)
    assert page.total == 6 and len(page.items) == 2
    assert bank.list_examples(None, tag="t0").total == 3
    assert bank.list_examples(people.admin, principle="stöd").items[0].id == sthlm.id
    assert bank.list_examples(people.admin, kpi="U21468").total == 5
    assert bank.list_examples(people.admin, organisation="0180", status="draft").total == 1
    assert bank.list_examples(people.stockholm, status="draft").total == 1
    assert bank.list_examples(people.goteborg, status="draft").total == 0
    with pytest.raises(InvalidInputError):
        bank.list_examples(None, limit=0)


def test_a_deactivated_or_demoted_actor_is_checked_against_the_database(
    bank: Bank, people: People
) -> None:
    example = bank.create_example(people.goteborg, GOOD)
    bank.set_role(people.admin, people.goteborg.id, "reader")
    with pytest.raises(NotFoundError):  # the draft is no longer theirs to see
        bank.update_example(people.goteborg, example.id, {"title": "x"}, 1)
    bank.set_active(people.admin, people.goteborg.id, False)
    with pytest.raises(PermissionDeniedError):
        bank.list_examples(people.goteborg)


def test_search_follows_every_change_and_respects_visibility(bank: Bank, people: People) -> None:
    draft = bank.create_example(people.goteborg, {**GOOD, "title": "Simskola för vuxna"})
    assert [h.example_id for h in bank.search(people.goteborg, "simskola").hits] == [draft.id]
    assert bank.search(people.stockholm, "simskola").total == 0
    assert bank.search(None, "simskola").total == 0
    bank.publish(people.goteborg, draft.id)
    assert bank.search(None, "simskola").total == 1
    bank.update_example(people.goteborg, draft.id, {"title": "Cykelskola"}, 2)
    assert bank.search(None, "simskola").total == 0
    assert bank.search(people.reader, "cykelskola").hits[0].example_id == draft.id
    bank.delete_example(people.admin, draft.id)
    assert bank.search(people.admin, "cykelskola").total == 0


def test_two_simultaneous_saves_of_one_version_cannot_both_win(bank: Bank, people: People) -> None:
    import threading

    example = bank.create_example(people.goteborg, GOOD)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def save(who: Any, title: str) -> None:
        barrier.wait()
        try:
            bank.update_example(who, example.id, {"title": title, "tags": [title]}, 1)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")
        except Exception as exc:  # reported by the assertion below
            outcomes.append(repr(exc))

    threads = [
        threading.Thread(target=save, args=(who, f"t{i}"))
        for i, who in enumerate([people.goteborg, people.admin] * 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    final = bank.example(people.admin, example.id)
    assert final.version == 2 and final.tags == (final.title,)
    assert [r.version for r in bank.revisions(people.admin, example.id)] == [1, 2]


def test_published_counts_count_only_published_examples_per_organisation_and_area(
    bank: Bank, people: People
) -> None:
    def add(who: Any, title: str, area: str | None, publish: bool) -> None:
        example = bank.create_example(who, {"title": title, "operating_area": area})
        if publish:
            bank.publish(who, example.id, example.version)

    add(people.goteborg, "Läxhjälp", "Skola", True)
    add(people.goteborg, "Läsfrämjande", "Skola", True)
    add(people.goteborg, "Utkast om skola", "Skola", False)
    add(people.goteborg, "Hemtjänst", None, True)
    add(people.stockholm, "Park", "Miljö", True)
    assert bank.published_counts(["1480", "0180"]) == {
        ("1480", "Skola"): 2,
        ("1480", None): 1,
        ("0180", "Miljö"): 1,
    }
    assert bank.published_counts(["1480"]) == {("1480", "Skola"): 2, ("1480", None): 1}
    assert bank.published_counts([]) == {}
