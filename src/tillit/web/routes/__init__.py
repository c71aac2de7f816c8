"""The API's routes, one module per subject; each route parses, makes one bank call, and
shapes the answer (the Swedish pages of issue 5 will call the same bank functions)."""

from fastapi import APIRouter

from tillit.web.routes import (
    _accounts,
    _audit,
    _docs,
    _examples,
    _goals,
    _organisations,
    _search,
)
from tillit.web.routes._common import document_schema

__all__ = ["TAGS", "api_router", "document_schema"]

api_router = APIRouter(prefix="/api")
for _module in (_accounts, _examples, _goals, _search, _organisations, _audit, _docs):
    api_router.include_router(_module.router)

TAGS = [
    {
        "name": "konto",
        "description": "Inloggning, utloggning, den inloggade användaren och API-tokens.",
    },
    {
        "name": "exempel",
        "description": "Goda exempel: läsa, skapa, ändra, publicera, ta bort, historik.",
    },
    {
        "name": "mål",
        "description": "Mål på nyckeltal: läsa med bedömning, pröva mätbarheten, sätta, "
        "ändra, ta bort, historik.",
    },
    {"name": "sök", "description": "Fritextsökning på svenska bland goda exempel."},
    {"name": "organisationer", "description": "Kommuner, regioner och andra organisationer."},
    {"name": "granskning", "description": "Granskningsloggen (bara administratörer)."},
]
