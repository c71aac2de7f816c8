from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.bank_fixtures import (
    FAST_PASSWORDS,
    PASSWORD,
    People,
    _truncate,
    seed_people,
)
from tillit.bank import AuditEntry, Bank, Organisation, export_bank, import_bank, open_bank, upgrade
from tillit.errors import ConflictError, InvalidInputError


def _fill(bank: Bank, people: People) -> None:
    """A bank with something in every table."""
    bank.add_organisation("SKR")
    example = bank.create_example(
        people.goteborg,
        {
            "title": "<b>Tillit</b> i hemtjänsten",
            "summary": "Rad ett\nrad två – ”citat” 😀",
            "principles": ["tillit", "öppenhet"],
            "tags": ["hemtjänst"],
            "kpis": [{"kpi": "U21468", "municipality": "1480", "year_from": 2018}],
            "period_start": 2019,
        },
    )
    bank.update_example(people.goteborg, example.id, {"results": "Bättre"}, 1)
    bank.publish(people.goteborg, example.id)
    doomed = bank.create_example(people.stockholm, {"title": "Tas bort"})
    bank.delete_example(people.admin, doomed.id)
    bank.create_example(people.stockholm, {"title": "Utkast"})
    token, _ = bank.create_token(people.goteborg, "skript")
    bank.user_for_token(token)
    bank.create_session(people.reader)


def _export(bank: Bank) -> str:
    out = io.StringIO()
    export_bank(bank, out)
    return out.getvalue()


def test_export_is_json_lines_in_dependency_order(bank: Bank, people: People) -> None:
    _fill(bank, people)
    lines = [json.loads(line) for line in _export(bank).splitlines()]
    assert lines[0]["table"] == "_bank" and lines[0]["format"] == 1
    tables = [line["table"] for line in lines[1:]]
    assert tables.index("organisations") < tables.index("users") < tables.index("examples")
    assert tables.index("examples") < tables.index("example_revisions")
    example = next(line for line in lines if line["table"] == "examples")
    assert example["title"] == "<b>Tillit</b> i hemtjänsten"
    assert example["created_at"].endswith("+00:00")


def test_import_restores_everything_into_an_empty_bank(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    _fill(bank, people)
    path = tmp_path / "bank.jsonl"
    counts = export_bank(bank, path)
    assert counts["examples"] == 2 and counts["audit_log"] > 5
    assert path.stat().st_mode & 0o077 == 0  # it holds password hashes
    target_url = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    upgrade(target_url)
    with open_bank(target_url, passwords=FAST_PASSWORDS) as copy:
        assert import_bank(copy, path) == counts
        assert _export(copy) == path.read_text(encoding="utf-8")
        # ids continue after the imported ones, and logins still work
        assert copy.authenticate("g@example.se", PASSWORD) == people.goteborg
        new = copy.create_example(people.goteborg, {"title": "Nytt"})
        assert new.id > max(e.id for e in copy.list_examples(people.admin).items if e != new)


def test_import_refuses_a_bank_that_is_not_empty(bank: Bank, people: People) -> None:
    data = _export(bank)
    with pytest.raises(ConflictError, match="inte tom") as info:
        import_bank(bank, io.StringIO(data))
    assert "tillit db upgrade" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"table": "users", "id": 1}\n', "första raden"),
        ('{"table": "_bank", "format": 1}\n{"table": "secrets", "id": 1}\n', "okänd tabell"),
        ('{"table": "_bank", "format": 1}\nnot json\n', "Rad 2"),
        ('{"table": "_bank", "format": 1}\n{"table": "organisations", "id": 1, "x": 2}\n', "'x'"),
        ('{"table": "_bank", "format": 1}\n{"table": "organisations", "id": 1}\n', "organisations"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(bank: Bank, text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        import_bank(bank, io.StringIO(text))
    assert bank.organisations() == []


@pytest.mark.postgres
def test_round_trip_sqlite_postgresql_sqlite_is_identical(
    postgres_migrated_url: str, tmp_path: Path, request: pytest.FixtureRequest
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
    with open_bank(postgres_migrated_url, passwords=FAST_PASSWORDS) as middle:
        import_bank(middle, io.StringIO(original))
        assert _export(middle) == original
        # the sequences were reset: a new row gets the next id
        skr2 = middle.add_organisation("Myndigheten")
        assert skr2.id == max(o.id for o in middle.organisations() if o != skr2) + 1
        with middle.transaction() as session:  # take it away again
            session.query(AuditEntry).filter(AuditEntry.action == "organisation.create").filter(
                AuditEntry.entity_id == str(skr2.id)
            ).delete()
            session.query(Organisation).filter(Organisation.id == skr2.id).delete()
        again = _export(middle)
    with open_bank(last_url, passwords=FAST_PASSWORDS) as last:
        import_bank(last, io.StringIO(again))
        assert _export(last) == original
