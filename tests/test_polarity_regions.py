"""Polarity for region KPIs (Kolada type "L"): healthcare, dental care, public transport and the
regional indices, decided from the real v3 titles; and the region rules leave the municipality
KPIs as they were."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from tillit.analyses._polarity import RULES, Polarity, curated_polarities, resolve_polarity

H, L, N, U = Polarity.HIGHER, Polarity.LOWER, Polarity.NEITHER, Polarity.UNKNOWN

#: Why-texts of the rules added for regions; a municipality title matched by one of them is a
#: collision to look at (see test_region_rules_touch_only_the_listed_municipality_kpis).
REGION_RULE_WHYS = (
    "a volume of care (visits, admissions, bed-days, beds, operations, length of stay) "
    "reflects need, organisation and medical practice",
    "a share served within a time limit (or finding the wait reasonable); more is better",
    "a composite index scaled so that 100 is best",
    "a recommended step of care carried out",
)


def _v3_kpis(shared: Path) -> dict[str, dict[str, str]]:
    raw = (shared / "kolada_api_metadata" / "kpi_v3_2026-03.values.json").read_text("utf-8")
    return {kpi["id"]: kpi for kpi in json.loads(raw)}


@pytest.fixture(scope="module")
def v3(shared_data: Path) -> dict[str, dict[str, str]]:
    return _v3_kpis(shared_data)


@pytest.mark.parametrize(
    ("kpi", "polarity", "source"),
    [
        # waiting times: days are lower, a share within a limit (or finding it reasonable) higher
        ("N79240", L, "rule"),  # Väntetid för väntande till första kontakt ..., antal dagar
        ("N79221", H, "rule"),  # Väntande högst 90 dagar till första kontakt ..., andel (%)
        ("N79173", H, "rule"),  # Medicinsk bedömning inom tre dagar i primärvård, andel (%)
        ("N70619", H, "rule"),  # Väntetid till prostatacancerbesked, andel (%) (inom 11 dagar)
        ("U70448", H, "rule"),  # Rimlig väntetid till sjukhusvård, andel (%)
        ("N70622", H, "rule"),  # Tid från diagnos till behandlingsstart ..., andel (%)
        # cancer pathways (standardiserade vårdförlopp)
        ("N79198", H, "table"),  # SVF inom den angivna ledtiden, andel (%)
        ("N70643", H, "table"),  # Standardiserat vårdförlopp för patienter med cancer
        # patient survey (Nationell patientenkät)
        ("N78112", H, "rule"),  # Patientupplevd kvalitet avseende bemötande ...
        ("N79171", H, "table"),  # Positivt helhetsintryck ... akutmottagning, index
        ("N79545", N, "rule"),  # Patientupplevd kvalitet ..., svarsfrekvens (%)
        # avoidable admissions, readmissions, amenable mortality, care injuries
        ("U79133", L, "table"),  # Påverkbar slutenvård vid kronisk sjukdom
        ("U79092", L, "table"),  # Oplanerad återinskrivning inom 30 dagar
        ("N79190", L, "rule"),  # Sjukvårdsrelaterad åtgärdbar dödlighet
        ("U72430", L, "rule"),  # Patienter i sluten vård med vårdrelaterad infektion
        ("U72553", L, "table"),  # ... med tryckskada/trycksår
        ("U70516", H, "table"),  # Frånvaro av trycksår av grad 2-4 hos avlidna
        ("U70425", L, "rule"),  # Överbeläggningar i somatisk slutenvård
        # drugs, vaccination, screening, palliative care
        ("N70880", L, "rule"),  # Antibiotikaförsäljning ..., recept/1000 inv
        ("N79175", L, "rule"),  # Tio eller fler läkemedel samtidigt hos äldre
        ("N01483", H, "rule"),  # HPV-vaccinerade flickor, andel (%)
        ("N70608", H, "rule"),  # Screening för våldsutsatthet under graviditet
        ("U70506", H, "rule"),  # Vidbehovsordination av ångestdämpande läkemedel i palliativ vård
        ("N79169", H, "table"),  # Täckningsgrad för gynekologisk cellprovskontroll
        # quality-register outcomes and process measures
        ("U70477", L, "table"),  # Blodsocker (HbA1c > 70 mmol/mol) vid diabetes
        ("U70481", H, "table"),  # Fotundersökning vid diabetes
        ("N70612", L, "table"),  # Stor blödning vid vaginal förlossning
        ("U70472", H, "rule"),  # Överlevnad vid tjocktarmscancer, 30 dagar
        ("N70341", L, "table"),  # Förekomst av akut hjärtinfarkt
        # dental care
        ("N80401", H, "rule"),  # Kariesfria 3-åringar
        ("N80410", L, "table"),  # Tänder utdragna på grund av karies
        ("N80704", N, "table"),  # Patienter allmäntandvård barn i offentlig regi
        # volumes, costs and who provides: neither
        ("N70808", N, "rule"),  # Vårdtillfällen, konsumtionsperspektiv, antal/100 000 inv
        ("N71807", N, "rule"),  # Läkarbesök primärvård, antal/1000 inv
        ("N72833", N, "rule"),  # Operationer - Knäprotes
        ("N70832", N, "rule"),  # Medelvårdtid hälso- och sjukvård, antal dagar
        ("N70060", N, "table"),  # Nettokostnad hälso- och sjukvård
        ("N63211", N, "rule"),  # Regionens köp av övrig hälso- och sjukvård från privata
        # public transport and the regional indices
        ("N60404", H, "table"),  # Resor med kollektivtrafik, resor/inv
        ("U85421", H, "rule"),  # Resenärernas nöjdhet med kollektivtrafiken
        ("N00340", H, "rule"),  # Hälsa - Regionindex
        ("U61902", H, "rule"),  # Låg förekomst av folksjukdomar, index (max = 100)
        # the elected body
        ("N65815", N, "rule"),  # Kvinnor i regionfullmäktige
        # left unknown on purpose: attitudes, test-driven counts, place of death
        ("N70465", U, "default"),  # Positiv inställning till 1177 Vårdguidens e-tjänster
        ("U61400", U, "default"),  # Klamydiafall i åldern 15-24 år
        ("N72409", U, "default"),  # Avlidna på sjukhus, andel (%)
    ],
)
def test_region_kpis_get_the_expected_polarity_and_source(
    v3: dict[str, dict[str, str]], kpi: str, polarity: Polarity, source: str
) -> None:
    assert v3[kpi]["municipality_type"] in {"L", "A"}
    decision = resolve_polarity(kpi, v3[kpi]["title"])
    assert (decision.polarity, decision.source) == (polarity, source), (
        f"{kpi} {v3[kpi]['title']!r}: {decision.reason}"
    )


def test_region_rules_fix_the_old_misreadings(v3: dict[str, dict[str, str]]) -> None:
    # Before the region rules these were read as waiting times, violence, anxiety or "ekologisk".
    misread = {"U70448": "rimlig väntetid", "N70608": "screening för", "U70506": "vidbehovsord"}
    for kpi, words in misread.items():
        decision = resolve_polarity(kpi, v3[kpi]["title"])
        assert decision.polarity is Polarity.HIGHER
        assert decision.matched.startswith(words), decision.matched
    assert not resolve_polarity("X00001", v3["N79169"]["title"]).matched.startswith("ekolog")


def test_region_rules_touch_only_the_listed_municipality_kpis(
    v3: dict[str, dict[str, str]],
) -> None:
    # The rules added for regions decide exactly these municipality-only KPIs (both were
    # unknown before): a new match on a municipality title is a collision to review.
    touched = {
        kpi
        for kpi, meta in v3.items()
        if meta["municipality_type"] == "K"
        and any(why in resolve_polarity(kpi, meta["title"]).reason for why in REGION_RULE_WHYS)
    }
    assert touched == {
        "N23706",  # Medelvårdtid i särskilt boende: neither, as docs/polarity.md says
        "U35537",  # Tid till första besök, coded "inom 3 dagar" = 3 ... : higher
    }
    assert all(any(rule.why == why for rule in RULES) for why in REGION_RULE_WHYS)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Medelvårdtid som utskrivningsklar, antal dagar", L),
        ("Vårdtillfällen som utskrivningsklar, antal/inv 65+", L),
        (
            "Väntetid i antal dagar från ansökan vid nybesök till beslut inom försörjningsstöd, "
            "väntat längre än 14 dagar (%)",
            L,
        ),
        ("Väntetid i antal dagar från ansökningsdatum till första erbjudet inflyttningsdatum", L),
        ("Ekologiska livsmedel i kommunens verksamheter, andel (%)", H),
        ("Kvinnor i kommunfullmäktige, andel (%)", N),
        ("Förtroendevalda som hoppat av kommunfullmäktige, andel (%)", L),
        ("Anställda 55+ år, kommun, antal", N),
        ("Patienter med oplanerad återinskrivning inom 30 dagar, andel (%)", L),
        ("Avlidna inom 28 dagar efter hjärtinfarkt, antal", N),
    ],
)
def test_region_rules_keep_municipality_wordings(title: str, expected: Polarity) -> None:
    decision = resolve_polarity("X00001", title)
    assert decision.polarity is expected, decision.reason


def test_table_decides_every_curated_region_kpi_without_a_contradicting_rule(
    v3: dict[str, dict[str, str]],
) -> None:
    region_rows = [
        kpi for kpi in curated_polarities() if v3.get(kpi, {}).get("municipality_type") == "L"
    ]
    assert len(region_rows) >= 150
    for kpi in region_rows:
        assert resolve_polarity(kpi, v3[kpi]["title"]).source == "table"


def test_region_kpis_in_the_panel_are_mostly_decided(shared_data: Path) -> None:
    # KPIs with a 2022 total for at least 20 of the 21 regions (0001..0025; 0000 is the country).
    panel = shared_data / "kolada_panel" / "kolada_values_1994_2022.parquet"
    rows = duckdb.execute(
        f"""
        SELECT kpi FROM read_parquet('{panel}')
        WHERE year = 2022 AND gender = 'T' AND value IS NOT NULL
          AND municipality_id BETWEEN '0001' AND '0025'
        GROUP BY kpi HAVING count(DISTINCT municipality_id) >= 20
        """
    ).fetchall()
    # v3 titles, else the panel's own for the few KPIs v3 no longer lists
    with (shared_data / "kolada_panel" / "kpi_metadata.csv").open(encoding="utf-8") as f:
        titles = {row["kpi"]: row["title"] for row in csv.DictReader(f)}
    titles.update({kpi: meta["title"] for kpi, meta in _v3_kpis(shared_data).items()})
    decisions = [resolve_polarity(kpi, titles.get(kpi)) for (kpi,) in rows]
    unknown = [d.kpi for d in decisions if d.polarity is Polarity.UNKNOWN]
    assert len(rows) > 300
    # Every healthcare KPI among them is decided; what stays unknown is energy, housing,
    # business and a few education and attitude KPIs (docs/polarity.md, "Regions").
    healthcare = {
        kpi
        for kpi, meta in _v3_kpis(shared_data).items()
        if meta["operating_area"] in {"Hälso- och sjukvård", "Tandvård"}
    }
    attitudes = {"N70465", "N70466", "N70467"}  # "Positiv inställning till ...": opinions
    assert not [kpi for kpi in unknown if kpi in healthcare and kpi not in attitudes], unknown
    assert len(unknown) / len(rows) < 0.08
