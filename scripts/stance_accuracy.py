"""Print how well the rule-based stance extraction does on the responses in
tests/stance_texts.py (and on the seed, SKL's response on SOU 2018:47/48, when ../shared is
there). Read-only: it only prints.

    .venv/bin/python scripts/stance_accuracy.py              # the figures of both sets
    .venv/bin/python scripts/stance_accuracy.py --details development   # every miss of one set

Figures per set: stances right = gold (proposal, stance) pairs found / gold pairs;
spurious = extracted pairs not in the gold / extracted pairs; respondents matched = responses
whose respondent is matched to the gold organisation; quotes exact = quotes equal to
text[start:end]. Each set is measured on the texts as written and as the CLI reads them
(as a .txt file through tillit.sources.documents.extract_text, which joins the lines of a
paragraph). HELD_OUT was written before the rules and never tuned to.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from stance_texts import DEVELOPMENT, HELD_OUT, ORGANISATIONS, PROPOSALS  # noqa: E402
from tillit.analyses._stances import Proposal, extract_stances, find_respondent  # noqa: E402
from tillit.sources.documents import extract_text  # noqa: E402


def measure(name: str, responses: tuple, details: bool, via: str | None = None) -> None:  # type: ignore[type-arg]
    proposals = [Proposal(k, h) for k, h in PROPOSALS]
    gold_n = right = found_n = spurious = matched = exact = quotes = 0
    for r in responses:
        if via is not None:  # as the CLI reads a file: through tillit.sources.documents
            r = replace(r, text=extract_text(r.text.encode(), filename=f"svar.{via}").text)
        who = find_respondent(r.text, ORGANISATIONS)
        matched += who.code == r.code
        stances = extract_stances(r.text, proposals, respondent=who.name or None)
        got = {(s.proposal, s.stance) for s in stances}
        gold = set(r.gold)
        gold_n += len(gold)
        right += len(gold & got)
        found_n += len(got)
        spurious += len(got - gold)
        quotes += len(stances)
        exact += sum(r.text[s.start : s.end] == s.quote for s in stances)
        if details and (got != gold or who.code != r.code):
            print(f"-- {r.name}: respondent {who.code!r} ({who.how}: {who.name!r})")
            print(f"   gold respondent {r.code!r}")
            for pair in sorted(gold - got, key=str):
                print(f"   missed   {pair}")
            for s in stances:
                if (s.proposal, s.stance) not in gold:
                    print(f"   spurious ({s.proposal}, {s.stance}) [{s.basis}] {s.quote!r}")
    if via is not None:
        name += f" (as .{via} through extract_text)"
    print(
        f"{name}: {len(responses)} responses, {gold_n} gold stances; "
        f"right {right}/{gold_n} = {right / max(gold_n, 1):.1%}; "
        f"spurious {spurious}/{found_n} = {spurious / max(found_n, 1):.1%}; "
        f"respondents matched {matched}/{len(responses)} = {matched / len(responses):.1%}; "
        f"quotes exact {exact}/{quotes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--details", choices=["development", "held_out"], default=None)
    args = parser.parse_args()
    for via in (None, "txt"):
        measure("development", DEVELOPMENT, args.details == "development", via)
        measure("held_out", HELD_OUT, args.details == "held_out", via)


if __name__ == "__main__":
    main()
