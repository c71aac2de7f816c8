"""Schemathesis against the OpenAPI schema, in process (ASGI), on SQLite and PostgreSQL:
whatever it sends, the API never answers 5xx and does what its schema says: only documented
status codes, content types, headers and bodies, and every request the schema forbids is
refused (negative data rejection). It runs as an administrator with a Bearer token, so the
write endpoints are exercised too (a fresh token per case: a generated DELETE
/api/tokens/{id} may revoke the one before).

Not checked: that every schema-valid request is accepted (positive data acceptance), since
the bank refuses what a schema cannot say (a period that ends before it starts, an
organisation that does not exist, a stale version)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.bank_fixtures import DIALECTS, FAST_PASSWORDS, ORGANISATIONS, PASSWORD, _truncate
from tillit.bank import Bank, UserRecord, open_bank
from tillit.web import create_app

MAX_EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
EXAMPLE_IDS = [1, 2, 3, 4, 5]


@pytest.fixture(scope="module", params=DIALECTS)
def fuzzed_bank(request: pytest.FixtureRequest) -> Iterator[Bank]:
    """A bank with two cities, an admin, an editor and five examples (SQLite, PostgreSQL)."""
    if request.param == "sqlite":
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        path = factory.mktemp("schemathesis") / "bank.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_migrated_url")
        _truncate(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    bank.seed_organisations(ORGANISATIONS)
    admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
    bank.add_user("g@example.se", PASSWORD, "Gö", "editor", "1480", actor=admin)
    for i in EXAMPLE_IDS:
        bank.create_example(
            admin,
            {
                "title": f"Hemtjänst {i} <script>alert(1)</script>",
                "summary": "Hemtjänsten planerar själv.",
                "organisation": "1480" if i % 2 else "0180",
                "status": "published" if i % 2 else "draft",
                "principles": ["tillit"],
                "kpis": [{"kpi": "N00945", "municipality": "1480"}],
            },
        )
    try:
        yield bank
    finally:
        bank.close()


@pytest.fixture(scope="module")
def fuzzed_admin(fuzzed_bank: Bank) -> UserRecord:
    return fuzzed_bank.user_by_email("admin@example.se")


@pytest.fixture(scope="module")
def api_schema(fuzzed_bank: Bank) -> Any:
    app = create_app(bank=fuzzed_bank)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, read from the schema of an app over an empty,
    unmigrated in-memory bank (building the schema never touches the database)."""
    app = create_app(bank=open_bank("sqlite://", check=False))
    paths = app.openapi()["paths"]
    found = [(method.upper(), path) for path in sorted(paths) for method in sorted(paths[path])]
    return sorted(found, key=lambda op: op[0] == "DELETE")  # deletions last


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_the_api_does_what_its_schema_says(
    api_schema: Any, fuzzed_bank: Bank, fuzzed_admin: UserRecord, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    answered: list[int] = []

    # Valid requests (they reach the bank) and invalid ones (they must stop at validation).
    cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )
    if "{example_id}" in path:  # also valid requests about examples that exist
        cases |= st.sampled_from(EXAMPLE_IDS).flatmap(
            lambda i: operation.as_strategy(path_parameters={"example_id": i})
        )

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        token, _ = fuzzed_bank.create_token(fuzzed_admin, "schemathesis")
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        answered.append(response.status_code)
        # A body over the size limit is refused before it is read (413): a rejection too.
        checks = (
            CHECKS
            if response.status_code != 413
            else [c for c in CHECKS if c is not negative_data_rejection]
        )
        case.validate_response(response, checks=checks)
        # Every answer, error or not, is JSON (a 204 has no body at all).
        if response.status_code != 204:
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type.startswith("application/json"), response.text

    check()
    assert answered and max(answered) < 500
