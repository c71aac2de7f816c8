"""The Swedish pages (server-rendered Jinja2, a JSON twin for each): the analyses
(start, search, municipality, region, peers, KPI), the bank (examples, login, account) and the
trials (försök) with their evaluations, and the goals (mål) with their forms."""

from fastapi import APIRouter

from tillit.web.pages import (
    _accessibility,
    _account,
    _analyses,
    _bank,
    _citizen,
    _example_form,
    _goal_form,
    _goals,
    _kpis,
    _regions,
    _remiss,
    _remiss_forms,
    _remiss_upload,
    _report,
    _trial_form,
    _trials,
)
from tillit.web.pages._analyses import warm_pages
from tillit.web.pages._render import PAGE_CSP, render_error
from tillit.web.pages._report import warm_national
from tillit.web.pages._trial_eval import TrialEvaluator

__all__ = [
    "PAGE_CSP",
    "TrialEvaluator",
    "pages_router",
    "render_error",
    "warm_national",
    "warm_pages",
]

pages_router = APIRouter(include_in_schema=False)
for _module in (
    _analyses,
    _regions,
    _kpis,
    _account,
    _bank,
    _example_form,
    _trial_form,
    _trials,
    _goal_form,
    _goals,
    _report,
    _citizen,
    _remiss_forms,
    _remiss_upload,
    _remiss,
    _accessibility,
):
    pages_router.include_router(_module.router)
