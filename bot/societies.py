"""The National Societies people can name in /profile, and matching what they type.

The list is data (``knowledge/national-societies.yaml``, with its public source in its
header) that coordinators extend in YAML; it is validated like every content file,
with file and line. Typed names are matched to it ("kenya red cros" is the Kenya Red
Cross Society) and the person confirms, so results group one National Society under
one name instead of every spelling typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from bot.errors import Problem
from bot.yamlfile import LineDict, LineList, display_path, load_yaml

FILE_NAME = "national-societies.yaml"
# The IFRC's five regions (bot.consultations.REGIONS has the same ids).
REGION_IDS = ("africa", "americas", "asia-pacific", "europe", "mena")
MAX_SUGGESTIONS = 3
CLEAR = 90  # a score at which a stored name is grouped under the listed one
LIKELY = 80  # below this, nothing is offered ("narnia" is not "armenia")
# Words every name has: matching on them alone would make every society look alike.
_COMMON = frozenset(
    {"red", "cross", "crescent", "society", "national", "the", "of", "in", "rc", "rcs", "and"}
)
_LONG_COMMON = (*(w for w in _COMMON if len(w) >= 5), "redcross", "redcrescent")


def _is_common(word: str) -> bool:
    """A word every name has, or a slip of one ("cros", "socity", "redcross")."""
    return word in _COMMON or any(fuzz.ratio(word, c) >= 80 for c in _LONG_COMMON)


def _distinctive(folded: str) -> str:
    return " ".join(w for w in folded.split() if not _is_common(w))


@dataclass(frozen=True)
class Society:
    name: str
    region: str
    country: str = ""
    aliases: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Societies:
    items: tuple[Society, ...] = ()

    def __len__(self) -> int:
        return len(self.items)

    def get(self, index: int) -> Society | None:
        return self.items[index] if 0 <= index < len(self.items) else None

    def index(self, society: Society) -> int:
        return self.items.index(society)

    def exact(self, text: str) -> Society | None:
        """The society whose name, country or alias is exactly what was typed (any case)."""
        said = fold(text)
        for s in self.items:
            if said in {fold(n) for n in (s.name, s.country, *s.aliases) if n}:
                return s
        return None

    def canonical(self, text: str) -> str:
        """The listed name a typed one clearly means ("kenya red cros"), else the text:
        for grouping names stored before people chose from the list."""
        exact = self.exact(text)
        if exact is not None:
            return exact.name
        found = self.suggest(text)
        if found and found[0][1] >= CLEAR and (len(found) == 1 or found[0][1] - found[1][1] >= 5):
            return found[0][0].name
        return text

    def suggest(self, text: str) -> list[tuple[Society, float]]:
        """The closest societies to a typed name, best first, with their scores (0-100)."""
        said = fold(text)
        distinctive = _distinctive(said)
        if not distinctive:
            return []  # "red cross" alone names no society in particular
        scored: list[tuple[Society, float]] = []
        for s in self.items:
            best = 0.0
            for name in (s.name, s.country, *s.aliases):
                core = _distinctive(fold(name))
                if core:
                    # The distinctive words decide ("kenya" in "kenya red cros"); the
                    # whole text only breaks ties.
                    score = fuzz.ratio(distinctive, core) + fuzz.ratio(said, fold(name)) / 100
                    if set(distinctive.split()) <= set(core.split()):
                        score = max(score, 90.0)  # "magen david adom" in a longer name
                    best = max(best, score)
            if best >= LIKELY:
                scored.append((s, min(best, 100.0)))
        scored.sort(key=lambda pair: -pair[1])
        return scored[:MAX_SUGGESTIONS]


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation: "Côte d'Ivoire" ~ "cote d ivoire"."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


def path_in(knowledge_dir: Path) -> Path:
    return knowledge_dir / FILE_NAME


def check_societies(path: Path) -> tuple[Societies, list[Problem]]:
    """Validate without raising: (the usable entries, every problem with file and line).
    A missing file is no problem: people's typed names are then kept as typed."""
    if not path.exists():
        return Societies(), []
    display = display_path(path)
    data, problems = load_yaml(path, display)
    if data is None:
        return Societies(), problems
    if not isinstance(data, dict) or not isinstance(data.get("societies"), list):
        top = data.line if isinstance(data, LineDict) else 1
        return Societies(), [Problem(display, top, None, "'societies' must be a list")]
    items: list[Society] = []
    seen: dict[str, int] = {}
    listed = data["societies"]
    for i, item in enumerate(listed):
        line = listed.item_lines[i] if isinstance(listed, LineList) else None
        society = _society(display, item, line, problems)
        if society is None:
            continue
        for name in (society.name, *society.aliases):
            key = fold(name)
            if key in seen:
                problems.append(
                    Problem(
                        display,
                        society.line,
                        society.name,
                        f"'{name}' is already used at line {seen[key]}",
                    )
                )
            seen.setdefault(key, society.line)
        items.append(society)
    return Societies(tuple(items)), problems


def _society(display: str, item: Any, line: int | None, problems: list[Problem]) -> Society | None:
    if not isinstance(item, LineDict):
        problems.append(Problem(display, line, None, "each entry needs 'name:' and 'region:'"))
        return None
    name = item.get("name")
    who = name if isinstance(name, str) else None
    ok = True
    for key in item:
        if key not in {"name", "region", "country", "aliases"}:
            problems.append(Problem(display, item.line_of(key), who, f"unknown field '{key}'"))
            ok = False
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(display, item.line, None, "missing 'name' (text)"))
        return None
    region = item.get("region")
    if region not in REGION_IDS:
        problems.append(
            Problem(
                display,
                item.line_of("region"),
                who,
                f"region {region!r} is not one of {', '.join(REGION_IDS)}",
            )
        )
        ok = False
    country = item.get("country", "")
    if not isinstance(country, str):
        problems.append(Problem(display, item.line_of("country"), who, "'country' must be text"))
        ok = False
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        problems.append(
            Problem(display, item.line_of("aliases"), who, "'aliases' must be a list of names")
        )
        ok = False
    if not ok:
        return None
    return Society(
        " ".join(name.split()),
        str(region),
        " ".join(str(country).split()),
        tuple(" ".join(a.split()) for a in aliases),
        item.line,
    )


@lru_cache(maxsize=4)
def _cached(path: Path, mtime: float) -> Societies:
    return check_societies(path)[0]


def load_societies(knowledge_dir: Path) -> Societies:
    """The list for a running bot, read again when the file changes (a coordinator's
    addition takes effect without a restart). Problems stop the bot at start instead."""
    path = path_in(knowledge_dir)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return Societies()
    return _cached(path, mtime)
