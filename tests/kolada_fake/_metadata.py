"""The catalogues: kpi, kpi_groups, municipality, municipality_groups and synthetic ou."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import orjson

from ._request import _ids
from ._shared_data import (
    KPI_GROUP_TAGS_CSV,
    KPI_JSON,
    KPI_METADATA_CSV,
    MUNICIPALITY_GROUPS_JSON,
    MUNICIPALITY_JSON,
)

KKIK_GROUP_ID = "G2KPI74586"
KKIK_GROUP_TITLE = "Kommunens kvalitet i korthet"

# Synthetic organisational units: (municipality, name, number of units), 20 in all. Kolada's
# OU ids look like V15E018000101 (prefix, municipality code, running number).
_OU_PLAN = (("0180", "Stockholm", 7), ("1280", "Malmö", 7), ("1480", "Göteborg", 6))


def _ou_units() -> list[dict[str, str]]:
    """The synthetic organisational units, in ``_OU_PLAN`` order."""
    return [
        {
            "id": f"V15E{muni}{100 + i:05d}",
            "municipality": muni,
            "title": f"Exempelskolan {i} i {town} (syntetisk)",
        }
        for muni, town, n in _OU_PLAN
        for i in range(1, n + 1)
    ]


def _load_metadata(
    data_dir: Path, kkik: Sequence[str], ou: list[dict[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """The catalogues served by ``/v3/{endpoint}``: kpi, kpi_groups, municipality,
    municipality_groups and ou."""
    d = data_dir
    kpi = _read_json(d / KPI_JSON)
    titles = {row["kpi"]: row["title"] for row in _read_csv(d / KPI_METADATA_CSV)}
    titles.update({str(k["id"]): str(k["title"]) for k in kpi})
    members: dict[str, list[str]] = {}
    for row in _read_csv(d / KPI_METADATA_CSV):
        for tag in (row["kpi_group_tags"] or "").split(","):
            if tag.strip():
                members.setdefault(tag.strip().upper(), []).append(row["kpi"])
    groups: dict[str, dict[str, Any]] = {}
    for row in _read_csv(d / KPI_GROUP_TAGS_CSV):
        if row["tag"].startswith("g2kpi"):
            gid = row["tag"].upper()
            ids = sorted(set(members.get(gid, ())))
            groups[gid] = {"id": gid, "title": row["name"], "members": ids}
    # Synthetic membership: the dump tags no KPI with the KKiK group, so its members are
    # whatever the caller names (default: the first 10 served KPIs).
    groups[KKIK_GROUP_ID] = {"id": KKIK_GROUP_ID, "title": KKIK_GROUP_TITLE, "members": kkik}
    for g in groups.values():
        g["members"] = [{"member_id": k, "member_title": titles.get(k, "")} for k in g["members"]]
    return {
        "kpi": kpi,
        "kpi_groups": list(groups.values()),
        "municipality": _read_json(d / MUNICIPALITY_JSON),
        "municipality_groups": _read_json(d / MUNICIPALITY_GROUPS_JSON),
        "ou": ou,
    }


def _metadata_items(
    metadata: Mapping[str, list[dict[str, Any]]],
    endpoint: str,
    ids: str | None,
    query: Mapping[str, str],
) -> list[dict[str, Any]]:
    items = metadata[endpoint]
    if ids is not None:
        wanted = _ids(ids, "id")
        items = [i for i in items if i.get("id") in wanted]
    title = query.get("title")
    if title:
        needle = title.casefold()
        items = [i for i in items if needle in str(i.get("title") or "").casefold()]
    if endpoint == "ou" and query.get("municipality"):
        munis = set(query["municipality"].split(","))
        items = [i for i in items if i.get("municipality") in munis]
    return items


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _read_json(path: Path) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], orjson.loads(path.read_bytes()))
