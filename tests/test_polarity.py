"""Which way is better: the curated table, the title rules, the override file and the setting."""

from __future__ import annotations

import csv
import importlib.resources
import json
from pathlib import Path

import duckdb
import pytest

from tillit.analyses._polarity import (
    RULES,
    Polarity,
    PolarityDecision,
    curated_polarities,
    infer_polarity,
    parse_polarity_overrides,
    resolve_polarity,
)
from tillit.config import load_settings
from tillit.errors import ConfigError, InvalidInputError

ROOT = Path(__file__).resolve().parents[1]
LAGET_TAG = "g2kpi206451"


def _panel_metadata(shared: Path) -> list[dict[str, str]]:
    with (shared / "kolada_panel" / "kpi_metadata.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _table_rows() -> list[dict[str, str]]:
    text = importlib.resources.files("tillit.analyses").joinpath("data/polarity.csv")
    return list(csv.DictReader(text.read_text(encoding="utf-8").splitlines()))


# --- the curated table ------------------------------------------------------------------------


def test_table_covers_every_laget_i_kommunen_kpi(shared_data: Path) -> None:
    tagged = {
        row["kpi"]
        for row in _panel_metadata(shared_data)
        if LAGET_TAG in row["kpi_group_tags"].split(",")
    }
    subset = shared_data / "kolada_panel" / "kolada_values_laget_i_kommunen_subset.csv"
    in_subset = {
        kpi for (kpi,) in duckdb.sql(f"SELECT DISTINCT kpi FROM read_csv('{subset}')").fetchall()
    }
    assert len(tagged) == 80
    assert in_subset == tagged
    missing = sorted(tagged - set(curated_polarities()))
    assert not missing, f"Läget i kommunen KPIs missing from polarity.csv: {missing}"


def test_every_table_row_names_a_kpi_in_the_metadata(shared_data: Path) -> None:
    # The panel's metadata, or the current v3 metadata: most region healthcare KPIs (type "L")
    # have no values in the 1994-2022 panel, but a region syncing from Kolada gets them.
    raw = (shared_data / "kolada_api_metadata" / "kpi_v3_2026-03.values.json").read_text("utf-8")
    known = {row["kpi"] for row in _panel_metadata(shared_data)} | {
        kpi["id"] for kpi in json.loads(raw)
    }
    unknown = sorted(set(curated_polarities()) - known)
    assert not unknown, f"polarity.csv names KPIs in neither kpi_metadata.csv nor v3: {unknown}"


def test_table_rows_are_unique_directed_and_explained() -> None:
    rows = _table_rows()
    kpis = [row["kpi"] for row in rows]
    assert len(kpis) == len(set(kpis)), "a KPI appears twice in polarity.csv"
    assert kpis == sorted(kpis), "keep polarity.csv sorted by KPI id"
    assert {row["polarity"] for row in rows} <= {"higher", "lower", "neither"}
    assert all(row["reason"].strip() for row in rows)
    assert len(rows) >= 300


def test_costs_are_neither_unless_an_efficiency_measure() -> None:
    table = curated_polarities()
    assert table["N03066"][0] is Polarity.NEITHER  # Kostnad kommunens verksamhet totalt
    assert table["N00097"][0] is Polarity.NEITHER  # Nettokostnadsavvikelse totalt
    assert table["U20900"][0] is Polarity.HIGHER  # Effektivitetsindex äldreomsorg


# --- rules over titles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Väntetid i antal dagar från ansökan till beslut, medelvärde", Polarity.LOWER),
        ("Medelvårdtid som utskrivningsklar, antal dagar", Polarity.LOWER),
        ("Andel brukare som är nöjda med hemtjänsten, andel (%)", Polarity.HIGHER),
        ("Nöjd-Kund-Index bygglov, NKI", Polarity.HIGHER),
        ("Ohälsotal, dagar", Polarity.LOWER),
        ("Elever i åk 9 som uppnått betygskriterierna i alla ämnen, andel (%)", Polarity.HIGHER),
        ("Invånare totalt, antal", Polarity.NEITHER),
        ("Nettokostnad äldreomsorg, kr/inv", Polarity.NEITHER),
        ("Kostnadsavvikelse grundskola, (%)", Polarity.NEITHER),
        ("Effektivitetsindex äldreomsorg", Polarity.HIGHER),
        ("Arbetslöshet 18-65 år, andel (%) av bef.", Polarity.LOWER),
        (
            "Invånare som någon gång under året erhållit ekonomiskt bistånd, andel (%)",
            Polarity.LOWER,
        ),
        ("Anmälda brott totalt, antal/100 000 inv", Polarity.LOWER),
        ("Förvärvsarbetande invånare 20-64 år, andel (%)", Polarity.HIGHER),
        ("Röster på Moderaterna i senaste kommunvalet, andel (%)", Polarity.NEITHER),
    ],
)
def test_rules_read_the_usual_wordings(title: str, expected: Polarity) -> None:
    found = infer_polarity(title)
    assert found is not None
    assert found[0] is expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Brukarbedömning boendestöd SoL - Brukaren får inte bestämma, andel (%)", Polarity.LOWER),
        ("Brukarbedömning LSS - Personalen bryr sig inte om brukaren, andel (%)", Polarity.LOWER),
        ("Brukarbedömning LSS - Brukaren trivs aldrig hemma, andel (%)", Polarity.LOWER),
        (
            "Brukarbedömning LSS - Brukaren är aldrig rädd för något hemma, andel (%)",
            Polarity.HIGHER,
        ),
        ("Brukarbedömning LSS - Brukaren är ofta rädd för något hemma, andel (%)", Polarity.LOWER),
        ("Brukarbedömning LSS - Brukaren trivs ibland hemma, andel (%)", Polarity.NEITHER),
        ("Elever som ej återfanns i gymnasieskolan på hösten, andel (%)", Polarity.LOWER),
        ("Ej återaktualiserade personer med försörjningsstöd, andel (%)", Polarity.HIGHER),
        ("Ej förstagångsväljare som röstade i senaste valet, andel (%)", Polarity.HIGHER),
        ("Medborgarundersökningen - Låg oro för inbrott i hemmet, andel (%)", Polarity.HIGHER),
        ("Medborgarundersökningen - Få problem med nedskräpning, andel (%)", Polarity.HIGHER),
        ("NTU - Upplever att det är problem med nedskräpning, andel (%)", Polarity.LOWER),
        ("Revisionsberättelse utan anmärkning, (Ja=1, Nej=0)", Polarity.HIGHER),
        ("Invånare 18-64 år som varit arbetslösa utan ersättning, andel (%)", Polarity.LOWER),
        ("Invånare med avsaknad av emotionellt stöd, andel (%)", Polarity.LOWER),
        ("Elever på SFI som avbrutit utbildningen, andel (%)", Polarity.LOWER),
        ("Elavbrott, genomsnittlig avbrottstid per kund, minuter/kund", Polarity.LOWER),
        ("Förtroendevalda som hoppat av kommunfullmäktige, andel (%)", Polarity.LOWER),
        (
            'Känner du dig rädd för andra elever? Andel som svarat "Aldrig" eller "Sällan", (%)',
            Polarity.HIGHER,
        ),
        (
            "Hur mycket pratar du om att allt man läser inte behöver vara sant? Andel som har "
            'svarat "Väldigt mycket" eller "Ganska mycket" (%)',
            Polarity.HIGHER,
        ),
        ("Slutanvändning av icke-förnybara bränsletyper, MWh/inv", Polarity.LOWER),
        ("Medelavstånd till skyddad natur, km", Polarity.LOWER),
    ],
)
def test_rules_handle_negations_and_inverted_wordings(title: str, expected: Polarity) -> None:
    found = infer_polarity(title)
    assert found is not None
    assert found[0] is expected, found[1]


def test_rule_reason_names_the_matched_words() -> None:
    found = infer_polarity("Väntetid i antal dagar till särskilt boende, medelvärde")
    assert found is not None
    assert "'väntetid'" in found[1]
    found = infer_polarity("Brukarbedömning LSS - Personalen bryr sig inte om brukaren")
    assert found is not None
    assert "'bryr sig inte om'" in found[1]


def test_no_rule_means_none_not_a_guess() -> None:
    assert infer_polarity("Bilar, antal/1000 inv") is None
    assert infer_polarity("") is None


def test_rules_never_contradict_the_table_on_panel_titles(shared_data: Path) -> None:
    titles = {row["kpi"]: row["title"] for row in _panel_metadata(shared_data)}
    table = curated_polarities()
    agree, contradictions, silent = 0, [], 0
    for kpi, (polarity, _) in table.items():
        if kpi not in titles:
            continue  # a v3-only KPI: the next test checks it on the current titles
        found = infer_polarity(titles[kpi])
        if found is None:
            silent += 1
        elif found[0] is polarity:
            agree += 1
        else:
            contradictions.append(f"{kpi} table={polarity} rule={found[0]} ({found[1]})")
    print(
        f"\nrules agree with the table on {agree} of {agree + len(contradictions)} table KPIs "
        f"where a rule applies ({agree / (agree + len(contradictions)):.1%}); "
        f"{silent} table KPIs have no rule"
    )
    assert not contradictions, "\n".join(contradictions)


def test_rules_never_contradict_the_table_on_current_v3_titles(shared_data: Path) -> None:
    raw = (shared_data / "kolada_api_metadata" / "kpi_v3_2026-03.values.json").read_text("utf-8")
    titles = {kpi["id"]: kpi["title"] for kpi in json.loads(raw)}
    contradictions = [
        f"{kpi} table={polarity} rule={found[0]} ({titles[kpi]})"
        for kpi, (polarity, _) in curated_polarities().items()
        if kpi in titles
        and (found := infer_polarity(titles[kpi])) is not None
        and found[0] is not polarity
    ]
    assert not contradictions, "\n".join(contradictions)


def test_every_rule_is_listed_in_the_docs() -> None:
    text = (ROOT / "docs" / "polarity.md").read_text(encoding="utf-8")
    missing = [rule.why for rule in RULES if rule.why not in text]
    assert not missing, f"rules missing from docs/polarity.md: {missing}"


# --- resolving: override > table > rule > default --------------------------------------------


def test_override_wins_over_table() -> None:
    assert curated_polarities()["U23401"][0] is Polarity.LOWER
    decision = resolve_polarity("u23401", "Väntetid …", {"U23401": Polarity.HIGHER})
    assert decision == PolarityDecision(
        "U23401", Polarity.HIGHER, "override", "set in the user's polarity file"
    )
    assert decision.explanation == "högre är bättre (din fil)"


def test_table_wins_over_rule() -> None:
    # A rule would read this title as "lower"; the table's entry for N03066 wins.
    decision = resolve_polarity("N03066", "Väntetid i antal dagar", {"N15507": Polarity.LOWER})
    assert (decision.polarity, decision.source) == (Polarity.NEITHER, "table")
    assert decision.explanation == "varken högre eller lägre är bättre (Tillits tabell)"
    assert decision.reason == curated_polarities()["N03066"][1]


def test_rule_applies_when_the_table_is_silent() -> None:
    decision = resolve_polarity("X00001", "Väntetid i antal dagar till bygglov, medelvärde")
    assert (decision.polarity, decision.source, decision.matched) == (
        Polarity.LOWER,
        "rule",
        "väntetid",
    )
    assert decision.explanation == "lägre är bättre (härlett ur titeln: 'väntetid')"


@pytest.mark.parametrize("title", [None, "", "Bilar, antal/1000 inv"])
def test_unknown_is_the_default(title: str | None) -> None:
    decision = resolve_polarity("X00001", title)
    assert (decision.polarity, decision.source) == (Polarity.UNKNOWN, "default")
    assert decision.polarity.sign == 0
    assert decision.explanation == "okänt — ange det i en egen fil, se docs/polarity.md"


# --- the override file ------------------------------------------------------------------------


def test_override_file_with_commas() -> None:
    text = "kpi,polarity\nN15507,higher\nu23401,lower\nN00901,neither\nN01951,unknown\n"
    assert parse_polarity_overrides(text, "egen.csv") == {
        "N15507": Polarity.HIGHER,
        "U23401": Polarity.LOWER,
        "N00901": Polarity.NEITHER,
        "N01951": Polarity.UNKNOWN,
    }


def test_override_file_in_swedish_with_semicolons_comments_and_reasons() -> None:
    text = (
        "\ufeff# Vår kommuns egna val\n"
        "kpi;polarity;reason\n"
        "\n"
        "N15507 ; Högre ; Meritvärde\n"
        "   # en indragen kommentar\n"
        'N00901;lägre;"Vi vill sänka skatten; det är målet"\n'
        "N03066;varken;\n"
        "N01951;okänd\n"
        "N00097;lagre\n"
    )
    assert parse_polarity_overrides(text, "egen.csv") == {
        "N15507": Polarity.HIGHER,
        "N00901": Polarity.LOWER,
        "N03066": Polarity.NEITHER,
        "N01951": Polarity.UNKNOWN,
        "N00097": Polarity.LOWER,
    }


def test_override_columns_may_come_in_any_order() -> None:
    text = "reason,polarity,kpi\nmålet,higher,N15507\n"
    assert parse_polarity_overrides(text, "egen.csv") == {"N15507": Polarity.HIGHER}


@pytest.mark.parametrize("text", ["", "\n\n", "# bara kommentarer\n"])
def test_empty_override_file_overrides_nothing(text: str) -> None:
    assert parse_polarity_overrides(text, "egen.csv") == {}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("kpi,polarity\nN15507,higher\nN00901,bättre\n", 3, "okänd polaritet 'bättre'"),
        ("# kommentar\nkpi,polarity\n\nmeritvärde,higher\n", 4, "'meritvärde' är inget"),
        ("kpi;polarity\nN15507\n", 2, "för få fält"),
        ("kpi,riktning\nN15507,higher\n", 1, "rubrikraden saknar"),
        ("kpi,polarity\nN15507,higher\nn15507,lower\n", 3, "står redan på rad 2"),
    ],
)
def test_bad_override_rows_name_the_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_polarity_overrides(text, "/home/anna/polaritet.csv")
    assert info.value.message.startswith(f"/home/anna/polaritet.csv, rad {line}: ")
    assert words in info.value.message
    assert info.value.hint


def test_the_same_row_twice_is_not_a_conflict() -> None:
    text = "kpi,polarity\nN15507,higher\nN15507,högre\n"
    assert parse_polarity_overrides(text, "egen.csv") == {"N15507": Polarity.HIGHER}


# --- the setting ------------------------------------------------------------------------------


def test_polarity_file_setting_is_optional_and_must_exist(tmp_path: Path) -> None:
    assert load_settings({}).polarity_file is None
    assert load_settings({"TILLIT_POLARITY_FILE": "  "}).polarity_file is None
    own = tmp_path / "polaritet.csv"
    own.write_text("kpi,polarity\n", encoding="utf-8")
    assert load_settings({"TILLIT_POLARITY_FILE": str(own)}).polarity_file == own
    for bad in (tmp_path / "saknas.csv", tmp_path):
        with pytest.raises(ConfigError) as info:
            load_settings({"TILLIT_POLARITY_FILE": str(bad)})
        assert "TILLIT_POLARITY_FILE" in info.value.message
        assert info.value.hint
