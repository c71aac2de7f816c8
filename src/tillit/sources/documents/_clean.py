"""Cleaning shared by every format: lines → paragraphs → text with page offsets.

**Line-end hyphens.** A line that ends in a hyphen is joined to the next one by these rules,
in order (the first that applies wins):

1. A soft hyphen (U+00AD) is only ever a break: it is dropped and the halves joined
   (``verk\\u00ad`` + ``samheten`` → ``verksamheten``).
2. A hyphen after a space or punctuation is a dash, not a hyphen: kept, joined with a space.
3. The next line starts with a conjunction (``och``, ``eller``, ``samt``, ``respektive``,
   ``resp.``, ``liksom``, ``som``, ``till``, ``än``, ``&``, ``/``) or with another word part
   ending in a hyphen: a suspended compound (``hälso-`` + ``och sjukvård``,
   ``sjuk-`` + ``hälso- och tandvård``). The hyphen and a space are kept.
4. The part before the hyphen ends in a capital or a digit, is a single letter, or is
   ``icke``: a compound written with a hyphen in Swedish (``EU-kommissionen``,
   ``18-åringar``, ``2018-10-15``, ``e-hälsa``, ``icke-statliga``). Hyphen kept, no space.
5. The next line starts with a capital or a digit (``Öst-Sverige``, ``covid-19``): hyphen
   kept, no space.
6. Otherwise a lower-case letter before and after: a word split at the line end. Swedish
   writes compounds closed (``Stockholmsområdet``, ``verksamheten``), so the hyphen is the
   typesetter's: dropped, the halves joined (``verk-`` + ``samheten`` → ``verksamheten``,
   ``Stockholms-`` + ``området`` → ``Stockholmsområdet``).

An en or em dash at a line end is kept; between two digits (``7.1–`` + ``7.3``) without a
space, elsewhere with one. Any other line end becomes one space.

**Page numbers** are whole lines such as ``Sida 2 av 5``, ``Sida 2 (5)``, ``2 (5)``, ``2/5``,
``- 2 -``, ``Page 2 of 5`` or a bare number, looked for only among a page's first and last
lines. **Contact lines** of a letterhead (``Postadress``, ``Besöksadress``, ``Telefon``,
``E-post``, ``Org.nr``, ``Bankgiro``, ``www.…`` …) are removed when they start a line near
the top or bottom of a page. **Footnote marks**: superscript digits (``¹²³``) after a word,
except the ² and ³ of a unit (``m²``, ``km²``, ``cm³``) and after a digit (``10²``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Sequence

__all__ = [
    "assemble",
    "clean_line",
    "continues_paragraph",
    "is_contact_line",
    "is_page_number",
    "join_separator",
    "running_lines",
    "without_page_number",
]

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
_SUPERSCRIPT_MARK = re.compile(r"(?<=[^\s\d¹²³⁰⁴-⁹])[¹²³⁰⁴-⁹]+")


def _footnote_or_unit(match: re.Match[str]) -> str:
    """A superscript after a word is a footnote mark, except ² and ³ of a unit: m², km², cm³
    (``m`` alone or after one of ``k``, ``c``, ``d``, ``m`` that does not itself follow a
    letter)."""
    mark, before = match.group(0), match.string[: match.start()]
    if mark in "²³" and re.search(r"(?:^|[^\w])[kcdm]?m$", before):
        return mark
    return ""


def clean_line(line: str) -> str:
    """``line`` with runs of spaces made one, invisible characters and ligatures undone,
    superscript footnote marks after a word removed, and the ends stripped. A soft hyphen
    at the very end is kept (it marks a break for :func:`join_separator`)."""
    line = _INVISIBLE.sub("", line.translate(_LIGATURES))
    line = _SUPERSCRIPT_MARK.sub(_footnote_or_unit, line)
    line = _SPACES.sub(" ", line).strip()
    if "\u00ad" in line[:-1]:
        line = line[:-1].replace("\u00ad", "") + line[-1]
    return line


_CONJUNCTIONS = frozenset(
    {"och", "eller", "samt", "respektive", "resp", "liksom", "som", "till", "än", "and", "or"}
)
_FIRST_TOKEN = re.compile(r"[^\s]+")
_HYPHENS = "-\u2010\u2011"
_DASHES = "\u2013\u2014"


def join_separator(line: str, following: str) -> tuple[str, bool]:
    """How to join ``line`` to the ``following`` line of the same paragraph: the separator
    and whether the last character of ``line`` (a break hyphen) is dropped. The rules are in
    the module docstring."""
    if not line or not following:
        return " ", False
    last = line[-1]
    if last == "\u00ad":
        return "", True
    if last in _DASHES:
        if len(line) > 1 and line[-2].isdigit() and following[0].isdigit():
            return "", False
        return " ", False
    if last not in _HYPHENS:
        return ("", False) if last == "/" else (" ", False)
    before = line[-2] if len(line) > 1 else " "
    if not before.isalnum():
        return " ", False
    token = _FIRST_TOKEN.match(following)
    first = token.group(0) if token else ""
    if (
        first.rstrip(".,").lower() in _CONJUNCTIONS
        or first[:1] in "&/"
        or first.rstrip(",")[-1:] in _HYPHENS
    ):
        return " ", False
    word = re.search(r"[^\s]*$", line[:-1])
    part = word.group(0) if word else ""
    if before.isupper() or before.isdigit() or len(part) == 1 or part.lower() == "icke":
        return "", False
    if following[0].isupper() or following[0].isdigit():
        return "", False
    if before.islower() and following[0].islower():
        return "", True
    return "", False


_PAGE_NUMBER = re.compile(
    r"""^(?:
        (?:sida|sid\.?|s\.|page|blad)\s*\d+(?:\s*(?:av|of|/|\()\s*\d+\)?)?
      | [-–—]\s*\d+\s*[-–—]
      | \d+\s*\(\s*\d+\s*\)
      | \d+\s*/\s*\d+
      | \d+\s*(?:av|of)\s*\d+
      | \d{1,3}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def is_page_number(line: str) -> bool:
    """Whether ``line`` (cleaned) is nothing but a page number."""
    return bool(_PAGE_NUMBER.match(line.strip()))


_TRAILING_PAGE = re.compile(
    r"\s*(?:(?:sida|sid\.?|page)\s*\d+(?:\s*(?:av|of|/|\()\s*\d+\)?)?|\d+\s*\(\s*\d+\s*\))$",
    re.IGNORECASE,
)


def without_page_number(line: str) -> str:
    """``line`` without a page number at its end (``Remissvar Sida 1 (3)`` → ``Remissvar``);
    ``""`` when it is nothing but one."""
    if is_page_number(line):
        return ""
    return _TRAILING_PAGE.sub("", line).strip()


_CONTACT = re.compile(
    r"""^(?:postadress|post|besöksadress|besök|adress|leveransadress|fakturaadress
      |telefon|tel|tfn|telefax|fax|mobil|växel|e-post|epost|e-mail|email|mejl|mail
      |webb|webbplats|hemsida|internet|org\.?\s*nr|org\.?\s*nummer|organisationsnummer
      |bankgiro|plusgiro|postgiro|bg|pg|vat|momsreg\.?\s*nr)\b\.?\s*:?
      |^www\.|^https?://""",
    re.IGNORECASE | re.VERBOSE,
)


def is_contact_line(line: str) -> bool:
    """Whether ``line`` is a letterhead's contact line (address, telephone, e-mail, web,
    organisation number, giro) rather than running text."""
    stripped = line.strip()
    if not _CONTACT.match(stripped):
        return False
    # "Post och telefoni är …" is prose; a contact line is short or carries digits/@/www.
    return len(stripped) < 140 and bool(re.search(r"\d|@|www\.|https?://", stripped))


_DIGITS = re.compile(r"\d+")


def _key(line: str) -> str:
    return _DIGITS.sub("#", _SPACES.sub(" ", line).strip().lower())


def running_lines(
    pages: Sequence[Sequence[str]], *, zone: int = 3
) -> tuple[frozenset[str], frozenset[str]]:
    """The keys that repeat at the top and at the bottom of most pages.

    ``pages`` holds each page's lines as keys (:func:`running_key`, to which a caller may add
    the line's position on the page). A key counts when it is among the first (top) or last
    (bottom) ``zone`` lines of a page. "Most pages" is at least half of the pages with text,
    and never fewer than two; a document of one page has no running lines.
    """
    filled = [page for page in pages if page]
    if len(filled) < 2:
        return frozenset(), frozenset()
    needed = max(2, math.ceil(len(filled) / 2))
    tops: Counter[str] = Counter()
    bottoms: Counter[str] = Counter()
    for page in filled:
        tops.update(set(page[:zone]))
        bottoms.update(set(page[-zone:]))
    top = frozenset(key for key, count in tops.items() if count >= needed and key)
    bottom = frozenset(key for key, count in bottoms.items() if count >= needed and key)
    return top, bottom


def running_key(line: str) -> str:
    """The key :func:`running_lines` compares lines by: digits ignored (``Dnr 2018/12
    Sida 2 (5)`` and its twin on page 3 are the same line), case and spacing too."""
    return _key(line)


_ENDS_SENTENCE = re.compile(r"[.!?:;)\]»”\"]$")

Paragraph = Sequence[str]


def assemble(
    pages: Sequence[Sequence[Paragraph]],
    *,
    across_pages: bool = False,
    continued: Collection[int] = (),
) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    """Join paragraphs (each a sequence of lines) page by page into one text.

    Lines are cleaned with :func:`clean_line` and joined with :func:`join_separator`;
    paragraphs are separated by ``"\n\n"``. The first paragraph of a page continues the
    last one of the page before when the page's number is in ``continued`` (the source says
    so), or, with ``across_pages``, when that paragraph's last line does not end a sentence
    and the page's first starts in lower case (or the line ends in a break hyphen). Returns
    the text and the ``(page, start, end)`` range of every page, numbered from 1, contiguous.
    """
    paragraphs: list[list[tuple[int, str]]] = []
    for number, page in enumerate(pages, start=1):
        first = True
        for paragraph in page:
            lines = [(number, line) for line in map(clean_line, paragraph) if line]
            if not lines:
                continue
            if (
                first
                and paragraphs
                and paragraphs[-1][-1][0] == number - 1
                and (
                    number in continued
                    or (across_pages and continues_paragraph(paragraphs[-1][-1][1], lines[0][1]))
                )
            ):
                paragraphs[-1].extend(lines)
            else:
                paragraphs.append(lines)
            first = False
    pieces: list[str] = []
    firsts: dict[int, int] = {}
    position = 0
    for k, joined in enumerate(paragraphs):
        if k:
            pieces.append("\n\n")
            position += 2
        for i, (number, line) in enumerate(joined):
            if i + 1 < len(joined):
                separator, drop = join_separator(line, joined[i + 1][1])
                piece = (line[:-1] if drop else line.removesuffix("\u00ad")) + separator
            else:
                piece = line.removesuffix("\u00ad")
            firsts.setdefault(number, position)
            pieces.append(piece)
            position += len(piece)
    text = "".join(pieces)
    return text, _ranges(len(pages), firsts, len(text))


def continues_paragraph(line: str, following: str) -> bool:
    """Whether a paragraph whose last line is ``line`` runs on into a page that starts with
    ``following``: the line ends in a break hyphen, or does not end a sentence while the
    next page starts in lower case."""
    if line[-1] in _HYPHENS + "\u00ad":
        return True
    return not _ENDS_SENTENCE.search(line) and following[:1].islower()


def _ranges(count: int, firsts: dict[int, int], length: int) -> tuple[tuple[int, int, int], ...]:
    ranges: list[tuple[int, int, int]] = []
    previous_end = 0
    for number in range(1, max(count, 1) + 1):
        if number not in firsts:
            ranges.append((number, previous_end, previous_end))
            continue
        later = [firsts[n] for n in firsts if n > number]
        end = min(later) if later else length
        ranges.append((number, firsts[number], end))
        previous_end = end
    return tuple(ranges)
