"""The terminal chat: the same core and handlers as every platform, in a shell.

Buttons are shown as numbered options; typing the number presses the button. Where a
typed number is an answer (a 1-5 scale, a number question), the other buttons get
letters instead, so a typed answer never presses a button by accident.
Files (exports, calendars, my-data.json) are saved under one folder, ``files`` beside
the database (``~/.local/share/nsbot/files`` by default), never over an earlier file;
each path is shown. Announcements and reminders for the person arrive in the chat, and
so do the secretariat's answers to their questions (``/human``), whichever process
serves the desk.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import TextIO

from bot import markup, relay, typed
from bot.core import Core
from bot.messages import Chat, Choice, Incoming, Person, Reply
from bot.private_files import private_folder, write_private

QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit", ":q"})
PLATFORM = "terminal"
LETTERS = "abcdefghijklmnopqrstuvwxyz"

log = logging.getLogger(__name__)


def files_folder(db_path: Path) -> Path:
    """Where the terminal chat saves files: ``files`` beside the database."""
    return db_path.parent / "files"


def unique_path(folder: Path, filename: str) -> Path:
    """``folder/filename``, or ``name-2.ext``, ``name-3.ext``... if that is taken:
    a second export in the same minute never replaces the first."""
    safe = Path(filename).name or "file"
    path = folder / safe
    stem, suffix = Path(safe).stem, Path(safe).suffix
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


class TerminalRenderer(markup.PlainRenderer):
    """Plain text, with bold shown in bold when the terminal understands it."""

    def __init__(self, ansi: bool) -> None:
        self.ansi = ansi

    def bold(self, inner: str) -> str:
        return f"\033[1m{inner}\033[0m" if self.ansi else inner

    def italic(self, inner: str) -> str:
        return f"\033[3m{inner}\033[0m" if self.ansi else inner


def terminal_person() -> Person:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "local"
    lang = (os.environ.get("LANG") or "en").split(".")[0].split("_")[0] or "en"
    return Person(
        PLATFORM, user, display_name=user, language=None if lang in {"C", "POSIX"} else lang
    )


class TerminalChat:
    def __init__(
        self,
        core: Core,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        person: Person | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.core = core
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.person = person or terminal_person()
        self.chat = Chat(f"terminal-{self.person.user_id}", private=True)
        self.files_dir = files_dir or files_folder(core.settings.db_path)
        self.renderer = TerminalRenderer(
            ansi=self.stdout.isatty() and os.environ.get("NO_COLOR") is None
        )
        self.keys: dict[str, Choice] = {}  # what to type -> the button it presses
        self.shown: list[Choice] = []  # the latest buttons, pressed by typing their label
        self.waiting = False  # at the prompt: a pushed message must redraw it

    def inbound(self, line: str) -> Incoming | None:
        """A typed line as a core message: a shown key (number or letter) or a button's
        label presses that button; anything else is typed text."""
        text = line.strip()
        if not text:
            return None
        folded = typed.ascii_digits(text).casefold()  # "٣" is the key "3"
        choice = self.keys.get(folded) or next(
            (c for c in self.shown if c.label.strip().casefold() == folded), None
        )
        if choice is not None:
            return Incoming(self.person, self.chat, text=choice.label, action=choice.action)
        return Incoming(self.person, self.chat, text=text)

    def outbound(self, replies: list[Reply]) -> str:
        """Replies as terminal text; their buttons become the options to type."""
        parts: list[str] = []
        choices = [c for r in replies for c in r.buttons]
        expects = next((r.expects for r in reversed(replies) if r.expects), None)
        # A typed number is an answer when a button is labelled with one (a scale) or the
        # bot waits for a number: then only those buttons take numbers (their own), and
        # every other button a letter, so "6" on a 1-5 scale is never "Back".
        numbers_answer = expects == "number" or any(c.label.strip().isdigit() for c in choices)
        # Free text takes any word, a letter or a number included: buttons by name only.
        free_text = expects == "text"
        keys: dict[str, Choice] = {}
        letters = iter(LETTERS)
        for reply in replies:
            body = markup.render(reply.text, self.renderer)
            if reply.edit:
                body = self._t("terminal_updated", text=body)
            parts.append(body)
            for attachment in reply.attachments:
                path = self._save(attachment.filename, attachment.content)
                parts.append(self._t("terminal_file_saved", path=path))
            footer: list[str] = []  # the footer row's options, on one line
            for choice in reply.buttons:
                label = choice.label.strip()
                if free_text:
                    key = ""
                elif numbers_answer and label.isdigit():
                    key = label
                elif numbers_answer:
                    key = next(letters, "")
                else:
                    key = str(len(keys) + 1)
                if key:
                    keys[key] = choice
                # A scale's "4" is typed as itself: shown without a key.
                shown = choice.label if not key or key == label else f"{key}. {choice.label}"
                if choice in reply.footer:
                    footer.append(shown)
                else:
                    parts.append(f"  {shown}")
            if footer:
                parts.append("  " + "   ".join(footer))
            if reply.choices and reply.expects == "number":
                parts.append("  " + self._t("terminal_type_number"))
            elif reply.choices and free_text and reply.expects == "text":
                parts.append("  " + self._t("terminal_type_text"))
        # Only the latest buttons can be pressed: older ones belong to a past question.
        self.keys, self.shown = keys, choices
        return "\n".join(parts)

    def _t(self, key: str, **values: object) -> str:
        """The terminal's own words, in the person's language."""
        return self.core.ui.t(key, self.person.language, **values)

    def _save(self, filename: str, content: bytes) -> Path:
        private_folder(self.files_dir)  # beside the database: for this account only
        path = unique_path(self.files_dir, filename)
        write_private(path, content)  # an export or /mydata copy
        return path

    async def push(self, replies: list[Reply]) -> None:
        """Messages the bot starts itself (an announcement, a reminder): shown at once,
        above a fresh prompt. Registered as the terminal's sender while the chat runs."""
        before = self.keys, self.shown
        text = self.outbound(replies)
        if not any(r.buttons for r in replies):
            self.keys, self.shown = before  # the question on screen keeps its buttons
        if not text:
            return
        self._write(("\n" if self.waiting else "") + text)
        if self.waiting:
            self.stdout.write("\n> ")
            self.stdout.flush()

    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def deliver_relayed(self) -> int:
        """Show the secretariat's messages waiting for this chat; how many were shown.

        The desk is served by the process that runs its platform (``nsbot run``), which
        stores its answers for this chat and cannot show them here; and the relay task
        of a process whose only platform is the terminal sends nothing
        (:data:`bot.relay.LOCAL_PLATFORMS`), so the chat fetches its own. Rows of another
        account's terminal chat on the same database stay for that chat."""
        rows = await self.core.storage.pending_relays([PLATFORM], self.core.clock(), relay.BATCH)
        shown = 0
        for row in rows:
            if row.chat == self.chat.chat_id and await relay.deliver_one(self.core, row) == "sent":
                shown += 1
        return shown

    async def _relayed_forever(self, interval: float) -> None:
        while True:
            try:
                await self.deliver_relayed()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next look retries; the chat itself goes on
                log.exception("could not show the secretariat's messages; will retry")
            await asyncio.sleep(interval)

    async def run(self, relay_interval: float = relay.TICK_SECONDS) -> None:
        interactive = self.stdin.isatty()
        # Deliveries to this platform (announcements, reminders) come here while it runs.
        self.core.register_sender(PLATFORM, self.push)
        self._write(
            self.outbound(await self.core.handle(Incoming(self.person, self.chat, text="/start")))
        )
        if interactive:
            self._write(self._t("terminal_hint"))
        relayed = asyncio.create_task(self._relayed_forever(relay_interval), name="terminal-relay")
        try:
            while True:
                if interactive:
                    self.stdout.write("\n> ")
                    self.stdout.flush()
                self.waiting = interactive
                line = await asyncio.to_thread(self.stdin.readline)
                self.waiting = False
                said = line.strip().casefold()
                if (
                    not line
                    or said in QUIT_WORDS
                    or said in self.core.ui.words("terminal_words_quit")
                ):
                    break
                message = self.inbound(line)
                if message is None:
                    continue
                replies = await self.core.handle(message)
                self._write(self.outbound(replies))
        finally:
            relayed.cancel()
            with suppress(asyncio.CancelledError):
                await relayed
            self.core.senders.pop(PLATFORM, None)
