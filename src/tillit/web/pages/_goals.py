"""The goal pages (mål): a municipality's or region's goals (``/kommun/{kod}/mal``,
``/region/{kod}/mal``), each judged with its reasons, a progress chart per indicator (the
values, the baseline, the target path to the target year and the projection with its
band), the measurability and ambition notes and the målträngsel notes; and one goal's page
(``/mal/{nr}``) with its target history. Each page has a JSON twin (``….json``) with the
one shape of ``tillit.query.goal_data``; each chart its CSV and SVG."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from tillit import swedish
from tillit.bank import GoalRecord, UserRecord, goals_of
from tillit.config import load_settings
from tillit.errors import NoDataError, NotFoundError
from tillit.query import assess_goals, goal_crowding, goal_data, resolve_municipality
from tillit.reports import Chart, Series, series_chart
from tillit.web._auth import WebState, web_state
from tillit.web._params import MAX_ID, request_int
from tillit.web.pages._analyses import NO_DATA, other_kind, see_other
from tillit.web.pages._render import (
    csv_response,
    json_cached,
    json_response,
    render,
    render_cached,
    svg_response,
    viewer,
)
from tillit.web.pages._render import swedish_number as num
from tillit.web.pages._units import words

__all__ = ["GoalFigure", "goal_page_data", "may_edit_goal", "router", "unit_goals_page_data"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

#: A goal's verdict on the page: a tone (colour) and always a word beside it.
VERDICT_TONES = {
    "met": "good",
    "on_track": "good",
    "uncertain": "uncertain",
    "off_track": "bad",
    "missed": "bad",
    "cannot_judge": "none",
}
GENDER_LABELS = {"T": "totalt", "K": "kvinnor", "M": "män"}
#: A goal's indicators at most (the bank's limit).
MAX_ROWS = 10
#: Goals a unit's page shows (the bank's own limit per call).
MAX_GOALS = 500


def may_edit_goal(user: UserRecord | None, organisation_id: int) -> bool:
    """The bank's rule for changing a goal: an admin, or an editor of its organisation."""
    if user is None:
        return False
    return user.role == "admin" or (
        user.role == "editor" and user.organisation_id == organisation_id
    )


def may_create_goal(user: UserRecord | None, organisation_id: int | None = None) -> bool:
    """An admin, or an editor (of ``organisation_id`` when one is given)."""
    if user is None or user.role not in ("admin", "editor"):
        return False
    return organisation_id is None or may_edit_goal(user, organisation_id)


# --- the progress chart ---------------------------------------------------------------------
@dataclass(frozen=True)
class GoalFigure:
    """An indicator's progress chart with its data as a table and as CSV (``slug``: its
    address under the goal, ``indikator-1``; ``anchor``: its id on the page)."""

    slug: str
    anchor: str
    chart: Chart
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    def body_html(self) -> Markup:
        """The table's rows: the year as row header, numbers right-aligned in Swedish."""
        # one number of decimals for the whole table: the values, the target path and the
        # projection are read against each other
        places = swedish.decimals_for(
            [r[c] for r in self.rows for c in self.columns[1:] if isinstance(r[c], float)]
        )
        lines = []
        for row in self.rows:
            cells = [f'<th scope="row">{escape(row[self.columns[0]])}</th>']
            for column in self.columns[1:]:
                cells.append(f'<td class="num">{num(row[column], places)}</td>')
            lines.append(f"<tr>{''.join(cells)}</tr>")
        return Markup("\n".join(lines))


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def indicator_figure(goal_id: int, index: int, name: str, item: dict[str, Any]) -> GoalFigure:
    """The progress chart of the goal's ``index``-th indicator (from 1) as ``goal_data``
    gives it, with ``series`` (the unit's values): the values, the target path (the baseline,
    any interim targets and the target), the projection and its band."""
    title = item.get("title") or item["kpi"]
    unit = swedish.kpi_unit(title)
    observed = {int(y): _finite(v) for y, v in item.get("series", [])}
    path = {int(item["baseline_year"]): float(item["baseline_value"])}
    path.update({int(i["year"]): float(i["value"]) for i in item["interim"]})
    path[int(item["target_year"])] = float(item["target_value"])
    judgement = item.get("judgement") or {}
    projection = {
        int(p["year"]): (p["mean"], p["low"], p["high"]) for p in judgement.get("projection", [])
    }
    last = max((y for y, v in observed.items() if v is not None), default=None)
    if projection and last is not None and last not in projection:
        # the projection starts from the last published value, so that the lines meet
        value = observed[last]
        projection[last] = (value, value, value)
    years = sorted(set(observed) | set(path) | set(projection))

    def line(name: str, values: dict[int, Any], role: Any) -> Series:
        # each line over its own years: the target path is straight from the baseline
        # through the interim targets to the target, not broken by the years between
        shown = sorted(values)
        return Series(name, tuple(shown), tuple(_finite(values[y]) for y in shown), role)

    gender = GENDER_LABELS[item["gender"]]
    who = name if item["gender"] == "T" else f"{name}, {gender}"
    band = f"{swedish.percent(80, 0)}-intervall"
    series = [
        line(who, observed, "focal"),
        line("Målbana (basvärde, delmål, mål)", path, "national"),
    ]
    if projection:
        series += [
            line("Prognos", {y: m for y, (m, _, _) in projection.items()}, "trend"),
            line(
                f"Prognosens {band}, nedre gräns",
                {y: lo for y, (_, lo, _) in projection.items()},
                "peer",
            ),
            line(
                f"Prognosens {band}, övre gräns",
                {y: hi for y, (_, _, hi) in projection.items()},
                "peer",
            ),
        ]
    with_unit = swedish.with_unit
    direction = item["direction_label"]
    parts = [
        f"{title} för {who}"
        + (f", {min(observed)}–{max(observed)}." if observed else ": inga värden i arkivet."),
        f"Basvärdet {with_unit(item['baseline_value'], unit)} ({item['baseline_year']}); målet är "
        f"att {direction} {with_unit(item['target_value'], unit)} till {item['target_year']}.",
    ]
    if item["interim"]:
        steps = ", ".join(f"{with_unit(i['value'], unit)} {i['year']}" for i in item["interim"])
        parts.append(f"Delmål: {steps}.")
    if judgement.get("projection"):
        end = judgement["projection"][-1]
        parts.append(
            f"Prognosen för {end['year']} är {with_unit(end['mean'], unit)}, med ett {band} "
            f"från {num(end['low'])} till {num(end['high'])}."
        )
    anchor = f"mal-{goal_id}-indikator-{index}"
    chart = series_chart(
        series,
        chart_id=anchor,
        title=f"{title}: {who} mot målet",
        description=" ".join(parts),
        unit=unit,
        show_title=False,
    )
    rows = tuple(
        {
            "ar": str(y),
            "varde": observed.get(y),
            "malbana": path.get(y),
            "prognos": _finite(projection[y][0]) if y in projection else None,
            "prognos_lag": _finite(projection[y][1]) if y in projection else None,
            "prognos_hog": _finite(projection[y][2]) if y in projection else None,
        }
        for y in years
    )
    columns = ("ar", "varde", "malbana", "prognos", "prognos_lag", "prognos_hog")
    headers = ("År", who, "Målbana", "Prognos", f"Prognos, {band} nedre", f"Prognos, {band} övre")
    return GoalFigure(f"indikator-{index}", anchor, chart, headers, columns, rows)


# --- the data -------------------------------------------------------------------------------
def _judged(
    state: WebState, goals: list[GoalRecord], notes: dict[int, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """Each goal as ``goal_data`` (judged when the server has a store), every indicator with
    the unit's ``series`` ([year, value] pairs) its chart draws, and the organisation's
    målträngsel ``notes``. The judgement is kept per store state, goal and version (and the
    links as this viewer sees them), so that a page asked again is not judged again."""
    if state.atlas is None:
        return [goal_data(g, notes=notes[g.organisation_id]) for g in goals]
    if not goals:
        return []
    atlas = state.atlas
    kind = "L" if goals[0].organisation_kind == "region" else "K"
    key = ("goal", *(_signature(g) for g in goals))

    def judge() -> list[dict[str, Any]]:
        store = atlas.store
        titles = {k["id"]: k["title"] for k in store.kpis()}
        out = []
        for a in assess_goals(store, goals, atlas=atlas):
            data = goal_data(a.goal, a, titles=titles)
            series = {
                (i.indicator.kpi, i.indicator.gender): [
                    [y, _finite(v)] for y, v in zip(i.series.years, i.series.values, strict=True)
                ]
                for i in a.indicators
            }
            for item in data["indicators"]:
                item["series"] = series.get((item["kpi"], item["gender"]), [])
            out.append(data)
        return out

    judged: list[dict[str, Any]] = _memo(state, kind)(key, judge)
    return [{**d, "notes": list(notes[d["organisation"]["id"]])} for d in judged]


def _signature(goal: GoalRecord) -> str:
    """What a goal's judged data depends on besides the store: its version, when it was
    made and saved, and its links (an example's title, or one the viewer may not see)."""
    links = (
        ",".join(f"t{t.id}:{t.title}" for t in goal.trials)
        + "|"
        + ",".join(f"e{e.id}:{e.title}" for e in goal.examples)
    )
    # the times too: a deleted goal's id may be given to a new one (SQLite reuses the
    # highest rowid), which must not inherit its judgement
    when = f"{goal.created_at.isoformat()}:{goal.updated_at.isoformat()}"
    return f"{goal.id}:{goal.version}:{when}:{links}"


def _memo(state: WebState, kind: str) -> Any:
    """The memo of the store's loaded analyses of ``kind`` (a fresh computation each time
    when they cannot be loaded: a store without the analyses still shows its goals)."""
    assert state.atlas is not None
    try:
        return state.atlas.loaded(kind).memo
    except NoDataError:
        return lambda _key, compute: compute()


def _annotate(data: dict[str, Any], user: UserRecord | None) -> dict[str, Any]:
    """The page's addresses and the viewer's rights beside the goal's data."""
    gid = data["id"]
    data["url"] = f"/mal/{gid}"
    data["may_edit"] = may_edit_goal(user, data["organisation"]["id"])
    base = "/region" if data["organisation"]["kind"] == "region" else "/kommun"
    data["unit_url"] = f"{base}/{data['organisation']['code']}/mal"
    return data


def _titles(state: WebState) -> dict[str, str]:
    """KPI titles by id, once per store state."""
    if state.atlas is None:
        return {}
    store = state.atlas.store
    titles: dict[str, str] = _memo(state, "K")(
        ("goal-titles",), lambda: {k["id"]: k["title"] for k in store.kpis()}
    )
    return titles


def _crowding(state: WebState, goals: list[GoalRecord]) -> tuple[str, ...]:
    return goal_crowding(goals, load_settings().goals_max, _titles(state))


def unit_goals_page_data(
    state: WebState, code: str, kind: str, user: UserRecord | None
) -> dict[str, Any]:
    """A municipality's (``kind`` "K") or region's ("L") goals page and its JSON twin:
    ``tillit.query.unit_goals_data``'s shape (the unit, each goal as ``goal_data``, the
    målträngsel notes, ``goals_max``), every indicator with its ``series``, and the
    addresses of the pages."""
    if state.atlas is None:
        raise NoDataError(NO_DATA, hint="Starta webbplatsen med `tillit serve` över ett arkiv.")
    unit = resolve_municipality(state.atlas.store, code)
    limit = load_settings().goals_max
    try:  # the unit's goals, as this viewer sees their links; the unit's id in the bank
        goals = goals_of(state.bank).goals(user, organisation=unit["id"], limit=MAX_GOALS)
        owner = goals[0].organisation_id if goals else state.bank.organisation(unit["id"]).id
    except NotFoundError:  # not an organisation in the bank (`tillit bank seed`)
        goals, owner = [], None
    notes = _crowding(state, goals)
    items = [
        _annotate(d, user) for d in _judged(state, goals, {g.organisation_id: notes for g in goals})
    ]
    w = words("L" if unit.get("type") == "L" else "K")
    return {
        "organisation": {
            "code": unit["id"],
            "name": unit["title"],
            "kind": "region" if w.kind == "L" else "kommun",
        },
        "goals": items,
        "notes": list(notes),
        "goals_max": limit,
        "in_bank": owner is not None,
        "may_create": owner is not None and may_create_goal(user, owner),
        "url": f"{w.path}/{unit['id']}/mal",
    }


def _goal_id(goal_id: int) -> int:
    if not 1 <= goal_id <= MAX_ID:
        hint = "Se kommunens eller regionens mål."
        raise NotFoundError(f"Målet {goal_id} finns inte.", hint=hint)
    return goal_id


#: A goal's organisation (its id and kind, "K" or "L") by the goal's id, per bank: a goal
#: never changes organisation, so its page reads the organisation's goals (for the målträngsel
#: notes) and finds the goal among them, in one query. A goal not among them (a new goal, or a
#: deleted one's id reused) is read alone.
_OWNERS: weakref.WeakKeyDictionary[Any, dict[int, tuple[int, str]]] = weakref.WeakKeyDictionary()


def _rights(user: UserRecord | None) -> str:
    """What a goal's page may differ by between viewers: the links they may see (another
    organisation's draft example: ``can_see``) and whether they may change the goal; both
    follow only from the role and, for an editor, the organisation."""
    if user is None or user.role not in ("admin", "editor"):
        return "-"
    return "admin" if user.role == "admin" else f"editor:{user.organisation_id}"


@dataclass(frozen=True)
class GoalPage:
    """A goal's page data, and where it is kept: ``key`` (None: not kept, a fresh read) in
    ``memo`` the store state's memo."""

    data: dict[str, Any]
    key: tuple[str, ...] | None
    memo: Any


def _goal_page(state: WebState, goal_id: int, user: UserRecord | None) -> GoalPage:
    """The goal's page data, kept per store state, goal, the bank's change stamp of its
    organisation's goals (``Goals.goals_stamp``) and the viewer's rights, so that a page
    asked again reads one small query of the bank rather than every goal of its
    organisation with their relations. Any save, delete or link change changes the stamp;
    a sync changes the store state."""
    goal_id = _goal_id(goal_id)
    owners = _OWNERS.setdefault(state.bank, {})
    owner = owners.get(goal_id)
    if owner is None or state.atlas is None:
        return GoalPage(_read_goal(state, goal_id, user), None, None)
    try:
        stamp = goals_of(state.bank).goals_stamp(owner[0])
    except NotFoundError:  # the organisation is gone
        return GoalPage(_read_goal(state, goal_id, user), None, None)
    memo = _memo(state, owner[1])
    # the notes count the goals against TILLIT_GOALS_MAX, read per request
    limit = str(load_settings().goals_max)
    key = ("goal-page", str(goal_id), _rights(user), limit, *stamp)
    data: dict[str, Any] = memo(key, lambda: _read_goal(state, goal_id, user))
    return GoalPage(data, key, memo)


def _read_goal(state: WebState, goal_id: int, user: UserRecord | None) -> dict[str, Any]:
    goals = goals_of(state.bank)
    owners = _OWNERS.setdefault(state.bank, {})
    owner = owners.get(goal_id)
    siblings: list[GoalRecord] = []
    if owner:
        try:
            siblings = goals.goals(user, organisation=owner[0], limit=MAX_GOALS)
        except NotFoundError:  # the organisation is gone
            siblings = []
    goal = next((g for g in siblings if g.id == goal_id), None)
    if goal is None:
        goal = goals.goal(user, goal_id)
        siblings = goals.goals(user, organisation=goal.organisation_id, limit=MAX_GOALS)
        if len(owners) > 100_000:
            owners.clear()
        kind = "L" if goal.organisation_kind == "region" else "K"
        owners[goal_id] = (goal.organisation_id, kind)
    notes = _crowding(state, siblings)
    return _annotate(_judged(state, [goal], {goal.organisation_id: notes})[0], user)


def goal_page_data(state: WebState, goal_id: int, user: UserRecord | None) -> dict[str, Any]:
    """One goal as ``goal_data`` (judged, with its target history and the målträngsel notes
    of its organisation), its indicators' series and the page's addresses."""
    return dict(_goal_page(state, goal_id, user).data)


def figures_of(state: WebState, data: dict[str, Any], name: str) -> list[GoalFigure | None]:
    """Each indicator's chart (None when the goal could not be judged: no store), drawn
    once per store state and goal version."""

    def draw() -> list[GoalFigure | None]:
        return [
            indicator_figure(data["id"], i, name, item) if "judgement" in item else None
            for i, item in enumerate(data["indicators"], start=1)
        ]

    if state.atlas is None:
        return draw()
    kind = "L" if data["organisation"]["kind"] == "region" else "K"
    when = (data["created_at"], data["updated_at"])
    key = ("goal-figures", str(data["id"]), str(data["version"]), *when, name)
    figures: list[GoalFigure | None] = _memo(state, kind)(key, draw)
    return figures


# --- the pages ------------------------------------------------------------------------------
def _context() -> dict[str, Any]:
    return {"tones": VERDICT_TONES, "genders": GENDER_LABELS}


def _unit_page(request: Request, state: WebState, code: str, kind: str) -> Response:
    other = other_kind(state, code, kind)
    if other:
        return see_other("/kommun/{}/mal" if kind == "L" else "/region/{}/mal", other)
    who = viewer(request, state)
    data = unit_goals_page_data(state, code, kind, who.user)
    if data["url"] != request.url.path:
        return RedirectResponse(data["url"], status_code=308)
    name = data["organisation"]["name"]
    for goal in data["goals"]:
        goal["figures"] = figures_of(state, goal, name)
    return render(
        request,
        "goals/unit.html",
        {"viewer": who, "page": data, "w": words(kind), **_context()},
    )


def _unit_json(request: Request, state: WebState, code: str, kind: str) -> Response:
    other = other_kind(state, code, kind)
    if other:
        return see_other("/kommun/{}/mal.json" if kind == "L" else "/region/{}/mal.json", other)
    return json_response(unit_goals_page_data(state, code, kind, viewer(request, state).user))


@router.get("/kommun/{code}/mal.json")
def municipality_goals_json(request: Request, state: State, code: str) -> Response:
    return _unit_json(request, state, code, "K")


@router.get("/kommun/{code}/mal")
def municipality_goals_page(request: Request, state: State, code: str) -> Response:
    return _unit_page(request, state, code, "K")


@router.get("/region/{code}/mal.json")
def region_goals_json(request: Request, state: State, code: str) -> Response:
    return _unit_json(request, state, code, "L")


@router.get("/region/{code}/mal")
def region_goals_page(request: Request, state: State, code: str) -> Response:
    return _unit_page(request, state, code, "L")


@router.get("/mal/{goal_id:int}.json")
def goal_json(request: Request, state: State, goal_id: int) -> Response:
    found = _goal_page(state, goal_id, viewer(request, state).user)
    if found.key is None:
        return json_response(found.data)
    return json_cached(found.memo, found.key, lambda: found.data)


@router.get("/mal/{goal_id:int}")
def goal_page(request: Request, state: State, goal_id: int) -> Response:
    who = viewer(request, state)
    found = _goal_page(state, goal_id, who.user)

    def context() -> dict[str, Any]:
        data = dict(found.data)
        data["figures"] = figures_of(state, data, data["organisation"]["name"])
        kind = "L" if data["organisation"]["kind"] == "region" else "K"
        return {"goal": data, "w": words(kind), "no_store": state.atlas is None, **_context()}

    if found.key is None:
        return render(request, "goals/goal.html", {"viewer": who, **context()})
    # the page's own blocks once per key (the viewer's rights are in it); the layout around
    # them (who is logged in) per request
    return render_cached(
        request, "goals/goal.html", context, memo=found.memo, key=found.key, viewer=who
    )


def _figure(request: Request, state: WebState, goal_id: int, chart: str) -> GoalFigure:
    """The chart ``indikator-{n}`` of the goal (n from 1)."""
    data = goal_page_data(state, goal_id, viewer(request, state).user)
    count = len(data["indicators"])
    index = request_int(chart.removeprefix("indikator-"), low=1, high=MAX_ROWS)
    if not chart.startswith("indikator-") or index is None or index > count:
        raise NotFoundError(
            f"Målet {goal_id} har inget diagram som heter {chart!r}.",
            hint=f"Målet har {swedish.count(count, 'indikator', 'indikatorer')}: "
            + ", ".join(f"indikator-{i}" for i in range(1, count + 1))
            + ".",
        )
    found = figures_of(state, data, data["organisation"]["name"])[index - 1]
    if found is None:
        raise NotFoundError(
            "Målet kan inte ritas: servern har inget arkiv med Koladas värden.",
            hint=f"Se /mal/{goal_id}.",
        )
    return found


@router.get("/mal/{goal_id:int}/{chart}.svg")
def goal_chart_svg(request: Request, state: State, goal_id: int, chart: str) -> Response:
    figure = _figure(request, state, goal_id, chart)
    return svg_response(figure.chart.svg, f"mal-{goal_id}-{figure.slug}.svg")


@router.get("/mal/{goal_id:int}/{chart}.csv")
def goal_chart_csv(request: Request, state: State, goal_id: int, chart: str) -> Response:
    figure = _figure(request, state, goal_id, chart)
    return csv_response(figure.rows, figure.columns, f"mal-{goal_id}-{figure.slug}.csv")
