"""The terminal chat: the same core and handlers as every platform, in a shell.

Buttons are shown as numbered options; typing the number presses the button.
Files (exports, calendars) are saved in the current folder and their path is shown.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import TextIO

from bot import markup
from bot.core import Core
from bot.messages import Chat, Choice, Incoming, Person, Reply

QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit", ":q"})


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
        "terminal", user, display_name=user, language=None if lang in {"C", "POSIX"} else lang
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
        self.files_dir = files_dir or Path.cwd()
        self.renderer = TerminalRenderer(
            ansi=self.stdout.isatty() and os.environ.get("NO_COLOR") is None
        )
        self.options: list[Choice] = []
        self.expects: str | None = None

    def inbound(self, line: str) -> Incoming | None:
        """A typed line as a core message: a number picks one of the shown buttons."""
        text = line.strip()
        if not text:
            return None
        # A typed button label presses it ("5" on a 1-5 scale is the button "5"); a
        # number picks the nth option, unless the bot is waiting for a typed number.
        by_label = next((c for c in self.options if c.label.strip().lower() == text.lower()), None)
        if by_label is not None:
            return Incoming(self.person, self.chat, text=by_label.label, action=by_label.action)
        if self.expects != "number" and text.isdigit() and 1 <= int(text) <= len(self.options):
            choice = self.options[int(text) - 1]
            return Incoming(self.person, self.chat, text=choice.label, action=choice.action)
        return Incoming(self.person, self.chat, text=text)

    def outbound(self, replies: list[Reply]) -> str:
        """Replies as terminal text; their buttons become the numbered options."""
        parts: list[str] = []
        options: list[Choice] = []
        for reply in replies:
            body = markup.render(reply.text, self.renderer)
            if reply.edit:
                body = f"(updated) {body}"
            parts.append(body)
            for attachment in reply.attachments:
                path = self._save(attachment.filename, attachment.content)
                parts.append(f"[file saved: {path}]")
            for choice in reply.choices:
                options.append(choice)
                parts.append(f"  {len(options)}. {choice.label}")
            if reply.choices and reply.expects == "number":
                parts.append("  (type your number; type the option's name to choose an option)")
        # Only the latest buttons can be pressed: older ones belong to a past question.
        self.options = options
        self.expects = (
            next((r.expects for r in reversed(replies) if r.expects), None) if replies else None
        )
        return "\n".join(parts)

    def _save(self, filename: str, content: bytes) -> Path:
        safe = Path(filename).name or "file"
        path = self.files_dir / safe
        path.write_bytes(content)
        return path

    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def run(self) -> None:
        interactive = self.stdin.isatty()
        self._write(
            self.outbound(await self.core.handle(Incoming(self.person, self.chat, text="/start")))
        )
        if interactive:
            self._write("(type a question, a number to choose an option, or 'quit')")
        while True:
            if interactive:
                self.stdout.write("\n> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line or line.strip().lower() in QUIT_WORDS:
                break
            message = self.inbound(line)
            if message is None:
                continue
            replies = await self.core.handle(message)
            self._write(self.outbound(replies))
