"""The bot's own UI strings, loaded from ``bot/locales/*.yaml``.

Code refers to strings by key; the words live in YAML so they can be reworded and
translated without touching code. English is complete; other languages may be partial.
"""

from __future__ import annotations

import string
from pathlib import Path

from bot.errors import ContentError, Problem
from bot.yamlfile import load_yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def language_of(hint: str | None) -> str:
    """ "fr-FR" -> "fr"; None -> "en"."""
    return (hint or "en").split("-")[0].split("_")[0].lower() or "en"


class UI:
    def __init__(
        self, strings: dict[str, dict[str, str]], smalltalk: list[tuple[str, frozenset[str]]]
    ) -> None:
        self.strings = strings  # language -> key -> text
        self.smalltalk = smalltalk  # (reply key, normalised phrases)

    def t(self, key: str, language: str | None = None, **values: object) -> str:
        lang = language_of(language)
        text = self.strings.get(lang, {}).get(key) or self.strings["en"][key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.strings["en"]

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> UI:
        from bot.matcher import normalise

        problems: list[Problem] = []
        strings: dict[str, dict[str, str]] = {}
        # "en.yaml" and "en.consult.yaml" are both English: one file per feature keeps
        # each feature's words together.
        for path in sorted(directory.glob("*.yaml")):
            if path.stem == "smalltalk":
                continue
            data, errors = load_yaml(path, f"locales/{path.name}")
            problems += errors
            table = strings.setdefault(path.name.split(".")[0], {})
            for key, value in (data or {}).items() if isinstance(data, dict) else ():
                if key in table:
                    problems.append(
                        Problem(f"locales/{path.name}", data.line_of(key), key, "key defined twice")
                    )
                table[str(key)] = str(value)
        english = strings.get("en", {})
        for lang, table in strings.items():
            for key, text in table.items():
                if key not in english:
                    problems.append(
                        Problem(f"locales/{lang}.*.yaml", None, key, "key not in English")
                    )
                elif _fields(text) != _fields(english[key]):
                    problems.append(
                        Problem(
                            f"locales/{lang}.*.yaml",
                            None,
                            key,
                            f"placeholders {sorted(_fields(text))} differ from English {sorted(_fields(english[key]))}",
                        )
                    )
        smalltalk: list[tuple[str, frozenset[str]]] = []
        data, errors = load_yaml(directory / "smalltalk.yaml", "locales/smalltalk.yaml")
        problems += errors
        for item in (data or {}).get("smalltalk", []):
            if item.get("reply") not in english:
                problems.append(
                    Problem(
                        "locales/smalltalk.yaml",
                        item.line,
                        None,
                        f"reply key {item.get('reply')!r} not in en.yaml",
                    )
                )
                continue
            smalltalk.append(
                (item["reply"], frozenset(normalise(p) for p in item.get("phrases", [])))
            )
        if problems or not english:
            raise ContentError(problems or [Problem("locales/en.yaml", None, None, "missing")])
        return cls(strings, smalltalk)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
