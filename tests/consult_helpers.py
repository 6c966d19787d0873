"""Shared pieces of the consultation tests: a core on the small fixture knowledge base
with the fixture consultations, a movable clock, and shortcuts for pressing buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.memory import MemoryAdapter
from bot.app import load_catalog
from bot.config import Settings
from bot.consultations import Catalog
from bot.core import Core
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Incoming, Person, Reply
from bot.storage.base import Storage

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
KB_MIN = FIXTURES / "kb_min" / "knowledge"
CONSULTATIONS = FIXTURES / "consultations" / "valid"
BROKEN = FIXTURES / "consultations" / "broken"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
COORDINATOR = Person("test", "coord", "Cora Ordinator")


@dataclass
class Clock:
    """An injectable clock tests move by hand (never wall-clock time)."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Setup:
    core: Core
    clock: Clock
    settings: Settings
    adapters: list[MemoryAdapter] = field(default_factory=list)

    def person(
        self, user_id: str = "u1", name: str = "Test User", *, group: str | None = None
    ) -> MemoryAdapter:
        chat = Chat(group, private=False) if group else None
        return self._keep(MemoryAdapter(self.core, Person("test", user_id, name), chat))

    def coordinator(self, *, group: str | None = None) -> MemoryAdapter:
        chat = Chat(group, private=False) if group else None
        return self._keep(MemoryAdapter(self.core, COORDINATOR, chat))

    def _keep(self, adapter: MemoryAdapter) -> MemoryAdapter:
        # MemoryAdapter's event ids include id(self): an adapter collected and another
        # created at the same address would repeat ids, and the core would drop its
        # messages as re-deliveries. Keeping every adapter alive prevents that.
        self.adapters.append(adapter)
        return adapter


def settings_for(tmp_path: Path, consultations: Path = CONSULTATIONS, **kw: object) -> Settings:
    values: dict[str, object] = {
        "db_path": tmp_path / "bot.sqlite3",
        "knowledge_dir": KB_MIN,
        "consultations_path": consultations,
        "coordinators": frozenset({COORDINATOR.key}),
        "hash_key": "test-hash-key-not-secret",
        **kw,
    }
    return Settings(**values)  # type: ignore[arg-type]


def make_core(
    tmp_path: Path,
    kb: KnowledgeBase,
    storage: Storage,
    clock: Clock | None = None,
    catalog: Catalog | None = None,
    **settings_kw: object,
) -> Setup:
    clock = clock or Clock()
    settings = settings_for(tmp_path, **settings_kw)
    core = Core(settings, kb, storage, clock=clock, consultations=catalog or load_catalog(settings))
    return Setup(core, clock, settings)


def database_bytes(folder: Path) -> bytes:
    """The raw bytes of the test database and its write-ahead log (not the key file)."""
    return b"".join(
        p.read_bytes() for p in folder.glob("bot.sqlite3*") if not p.name.endswith("hashkey")
    )


def action_of(bot: MemoryAdapter, label: str) -> str:
    """The action string of a shown button, by its label."""
    for reply in bot.last:
        for choice in reply.choices:
            if choice.label == label:
                return choice.action
    raise LookupError(f"no button {label!r}: {bot.buttons}")


async def press_with_origin(bot: MemoryAdapter, label: str, origin: str = "msg-1") -> list[Reply]:
    """Press a button the way a platform adapter does: with the pressed message's reference."""
    action = action_of(bot, label)
    bot.last = await bot.core.handle(
        Incoming(
            bot.person,
            bot.chat,
            text="",
            action=action,
            event_id=f"press-{label}-{origin}",
            origin=origin,
        )
    )
    return bot.last


async def start_sample(bot: MemoryAdapter) -> str:
    """Open the sample consultation and consent (skipping the profile questions the
    first time, which come after the consent): the first question is showing."""
    await bot.ask("/consult sample")
    return await agree(bot)


async def agree(bot: MemoryAdapter) -> str:
    """Press "I agree, start"; skip the one-time profile questions if they follow."""
    text = await bot.press("I agree, start")
    while any(c.action.startswith("pf:") for r in bot.last for c in r.choices):
        text = await bot.press("pf:r:k" if "pf:r:k" in bot.actions else "pf:ns:k")
    return text


async def skip_profile(bot: MemoryAdapter) -> str:
    """Skip the one-time profile questions if they are showing (asked after the
    consent); the replies after that, as plain text."""
    text = bot.plain(bot.last)
    skip = bot.core.ui.t("profile_button_skip", bot.person.language)
    for _ in range(2):
        choices = [
            c for r in bot.last for c in r.choices if c.action.startswith("pf:") and c.label == skip
        ]
        if not choices:
            break
        text = bot.plain(await bot.send(action=choices[0].action))
    return text
