"""The Telegram adapter: python-telegram-bot brings updates in, the Outbox takes replies out.

Inbound is :func:`~bot.adapters.telegram.inbound.to_incoming`; outbound is
:meth:`TelegramAdapter.outbound` (Reply -> calls from
:func:`~bot.adapters.telegram.render.message_calls`, queued in the :class:`Outbox`).
Everything else here is lifecycle: polling or webhook, the command menu, and turning
Telegram's errors into the Outbox's retry signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import re
import time
import weakref
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Message, Update
from telegram import error as tg
from telegram.ext import Application, ContextTypes, TypeHandler

from bot import health, leases, markup, owed
from bot.adapters.telegram.inbound import PLATFORM, blocked_by, to_incoming
from bot.adapters.telegram.inbox import KeepingRequest, slimmed
from bot.adapters.telegram.render import (
    Call,
    is_group,
    message_calls,
    parse_origin,
    toast_text,
    with_fallback,
)
from bot.adapters.telegram.request import AiohttpRequest
from bot.adapters.telegram.webhook import WebhookServer
from bot.config import Settings
from bot.core import Core
from bot.errors import ConfigError, PlatformUnreachable, RecipientGone
from bot.handlers import COMMANDS
from bot.handlers.base import Command
from bot.messages import Chat, Incoming, Person, Reply
from bot.outbox import Limits, Outbox, OutboxClosed, RetryAfter, Transient, settle
from bot.ui import UI

log = logging.getLogger(__name__)


class _ShutdownFetchNote(logging.Filter):
    """python-telegram-bot's last ``getUpdates`` at shutdown (which only confirms what
    was fetched) logs its failure with a whole traceback. Here a failure costs nothing:
    unconfirmed updates come again at the next start and the inbox drops repeats. So it
    is one line, at warning level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error while calling `get_updates` one more time"):
            error = record.exc_info[1] if record.exc_info else None
            record.msg = "Telegram: the last getUpdates at shutdown failed (%s); the updates it would confirm come again at the next start"
            record.args = (type(error).__name__ if error else "unknown error",)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("telegram.ext.Updater").addFilter(_ShutdownFetchNote())

# python-telegram-bot 22 emits a deprecation warning each time it builds a RetryAfter
# unless time periods are opted into as timedelta (its future default). The variable
# is read when the error is raised, so setting it here is early enough.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# my_chat_member: a person blocking the bot, so their reminders stop.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# A button press waits this long for the core before its spinner is stopped anyway;
# a notice that comes later is sent as a message instead of a toast.
CALLBACK_GRACE = 1.0
CONFLICT_LOG_EVERY = 300.0  # seconds between two "another instance" errors
CONCURRENT_UPDATES = 256
CALLBACK_LANES = 16
# Toasts awaiting Telegram at once while updates are being handled (16 otherwise): a
# burst of votes is taken in first and its tally shown, and the toasts fill the time
# left; one held TOASTS_HELD_AT_MOST seconds goes anyway (Telegram forgets a press
# after about 15 s).
TOASTS_WHILE_TAKING_IN = 4
TOASTS_HELD_AT_MOST = 5.0
# At a stop, updates are still handled this long; the rest stay in the inbox (polling)
# for the next start. Then queued sends get STOP_SENDING: within 10 s in all.
STOP_HANDLING = 3.0
STOP_SENDING = 4.0
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    listen: str
    port: int
    secret: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.strip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig | None:
        url = settings.get("TELEGRAM_WEBHOOK_URL").strip()
        if not url:
            return None
        if not url.startswith("https://"):
            raise ConfigError(
                f"TELEGRAM_WEBHOOK_URL must be an https:// address Telegram can reach, not {url!r}"
            )
        secret = settings.get("TELEGRAM_WEBHOOK_SECRET")
        if not secret:
            raise ConfigError(
                "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: refusing to run a "
                "webhook anyone could post to. Set TELEGRAM_WEBHOOK_SECRET to a random string of "
                "letters, digits, _ and - (for example: openssl rand -hex 32)."
            )
        if not _SECRET_RE.fullmatch(secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters among A-Z, a-z, 0-9, _ and -"
            )
        port = settings.port("TELEGRAM_WEBHOOK_PORT", 8443, lowest=1)
        listen = settings.get("TELEGRAM_WEBHOOK_LISTEN") or "0.0.0.0"
        return cls(url=url, listen=listen, port=port, secret=secret)


def menu_commands(commands: list[Command], t: Callable[[str], str]) -> list[BotCommand]:
    """The command menu: what everyone may run, with its localised description."""
    return [
        BotCommand(c.name, t(c.description)[:256])
        for c in commands
        if c.in_menu and not c.coordinators_only and _COMMAND_NAME_RE.fullmatch(c.name)
    ]


class TokenRedactor:
    """Keeps the bot token out of every log line while the adapter runs.

    httpx logs request URLs, which contain the token, and tracebacks can too. The
    token is replaced when a record is created, so it holds for every handler,
    including ones configured after the adapter started.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self._previous: Callable[..., logging.LogRecord] = logging.LogRecord
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            if logging.getLogRecordFactory() != self._make:  # not still in the chain
                self._previous = logging.getLogRecordFactory()
                logging.setLogRecordFactory(self._make)
            self._installed = True

    def uninstall(self) -> None:
        # Another factory (a second adapter's redactor) may sit on top of this one and
        # still call it: then this one stays in the chain, passing records through.
        if self._installed and logging.getLogRecordFactory() == self._make:
            logging.setLogRecordFactory(self._previous)
        self._installed = False

    def scrub(self, text: str) -> str:
        return text.replace(self.token, "<token>") if self.token else text

    def _make(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._previous(*args, **kwargs)
        if not self._installed:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: let logging report it as usual
            return record
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            if self.token in text:
                record.exc_text = text.replace(self.token, "<token>")
        return record


class TelegramAdapter:
    """Serves one bot token: ``TelegramAdapter(core, settings)``, then ``start()`` / ``stop()``."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        poll_timeout: float = 30.0,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        callback_grace: float = CALLBACK_GRACE,
        poll_lease_every: float | None = None,  # default: a third of NSBOT_LEASE_SECONDS
    ) -> None:
        token = settings.get("TELEGRAM_BOT_TOKEN").strip()
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and set its token"
            )
        self.core = core
        self.webhook = WebhookConfig.from_settings(settings)
        # From the first log line on: building the bot already logs URLs with the token.
        self._redactor = TokenRedactor(token)
        self._redactor.install()
        self.poll_timeout = poll_timeout
        self.callback_grace = callback_grace
        builder = (
            Application.builder()
            .token(token)
            .concurrent_updates(CONCURRENT_UPDATES)
            .request(AiohttpRequest(read_timeout=15, write_timeout=20, connect_timeout=10))
        )
        # Polling: every update is stored before Telegram is told it arrived (.inbox).
        self._keeping = self.webhook is None
        if self._keeping:
            builder = builder.get_updates_request(
                KeepingRequest(self._keep, connection_pool_size=1)
            )
        base_url = settings.get("TELEGRAM_API_BASE_URL").strip()
        if base_url:
            # A self-hosted telegram-bot-api serves files under /file/bot<token>/.
            builder = builder.base_url(base_url).base_file_url(
                re.sub(r"/bot$", "/file/bot", base_url)
            )
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self.outbox = Outbox(
            self._perform,
            limits or Limits(),
            clock=clock,
            sleep=sleep,
            shared=core.storage.send_limiter(),  # the limits hold across replicas
            scope=PLATFORM,
        )
        self._conversation_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # Keyed messages (a poll's tally): the newest state not queued yet, per key,
        # and the task handing them to the outbox (see _upsert).
        self._keyed: dict[str, _Keyed] = {}
        self._keyed_workers: dict[str, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._last_conflict_log = -CONFLICT_LOG_EVERY
        self._webhook: WebhookServer | None = None
        self._paying: set[asyncio.Future[Any]] = set()
        self._handle_until: float | None = None  # set by stop(): later updates wait
        self._in_hand = 0  # updates being handled now (see TOASTS_WHILE_TAKING_IN)
        self._poller: asyncio.Task[None] | None = None
        self._owed_keeper: asyncio.Task[None] | None = None
        self.poll_lease_every = poll_lease_every or core.settings.renew_every

    @property
    def ui(self) -> UI:
        return self.core.ui

    def _t(self, key: str, language: str | None = None, **values: object) -> str:
        return self.ui.t(key, language, **values)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._redactor.install()  # again, after a stop()
        try:
            await self.app.initialize()  # getMe: a bad token or an unreachable API stops here
        except BaseException as exc:
            await self.app.bot.shutdown()  # close the HTTP client initialize() opened
            self._redactor.uninstall()
            if isinstance(exc, tg.InvalidToken):  # its message quotes the token: not chained
                raise ConfigError(
                    "Telegram refused TELEGRAM_BOT_TOKEN: copy the token again from @BotFather"
                ) from None
            if isinstance(exc, tg.NetworkError):  # TimedOut too; InvalidToken is not one
                # The token can be in the error's URL: the redactor is off now, so scrub here.
                reason = self._redactor.scrub(str(exc)) or type(exc).__name__
                raise PlatformUnreachable(f"cannot reach the Bot API ({reason})") from None
            raise
        try:
            await self.outbox.start()
            await self.app.start()
            self.core.register_sender(PLATFORM, self.push)
            await self.set_commands()
            await self.send_owed()
            # Renew what this replica owes; send what a dead one owed (bot.owed).
            self._owed_keeper = asyncio.create_task(
                owed.keep(self.core, PLATFORM, functools.partial(self.send_owed, mine=False)),
                name="telegram-owed",
            )
            if self._keeping:
                await self.drain_kept()
            if self.webhook is not None:
                await self._start_webhook(self.webhook)
            else:
                # One poller per token (bot.leases): a second replica waits its turn.
                decided = asyncio.Event()
                self._poller = asyncio.create_task(
                    leases.hold_role(
                        self.core.storage,
                        f"telegram-polling:{self.app.bot.id}",
                        leases.owner(self.core),
                        self.core.clock,
                        start=self._start_polling,
                        stop=self._stop_polling,
                        waiting="Telegram: another process polls for this bot's updates "
                        "(polling is single-replica); this one sends but waits to poll, and "
                        "takes over when that one stops",
                        every=self.poll_lease_every,
                        lease=self.core.settings.lease,
                        decided=decided,
                    ),
                    name="telegram-poller",
                )
                # Polling has begun (or this replica waits) when start() returns.
                deciding = asyncio.ensure_future(decided.wait())
                await asyncio.wait({self._poller, deciding}, return_when=asyncio.FIRST_COMPLETED)
                deciding.cancel()
                if self._poller.done():
                    self._poller.result()  # its error, if it failed at once
        except BaseException:
            await self.stop()
            raise

    @property
    def polling(self) -> bool:
        return self.app.updater is not None and self.app.updater.running

    async def _start_polling(self) -> None:
        await self.app.updater.start_polling(  # type: ignore[union-attr]
            timeout=timedelta(seconds=self.poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            error_callback=self._polling_error,
        )
        log.info("Telegram: polling for updates as @%s", self.app.bot.username)

    async def _stop_polling(self) -> None:
        if self.polling:
            await self.app.updater.stop()  # type: ignore[union-attr]

    async def _start_webhook(self, webhook: WebhookConfig) -> None:
        # Our own endpoint, not the library's: see bot.adapters.telegram.webhook.
        self._webhook = WebhookServer(
            webhook.path,
            webhook.secret,
            self._take_update,
            routes=lambda app: health.add_routes(app, lambda: self.core),
        )
        await self._webhook.start(webhook.listen, webhook.port)
        await self.app.bot.set_webhook(
            url=webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES
        )
        log.info(
            "Telegram: webhook for @%s listening on %s:%d/%s",
            self.app.bot.username,
            webhook.listen,
            webhook.port,
            webhook.path,
        )

    async def _take_update(self, data: dict[str, Any]) -> None:
        """A webhook update, handled before the 200: Telegram re-sends an update until
        it gets one, so one it was told about is one the core has stored."""
        update = Update.de_json(slimmed(data), self.app.bot)  # as polled updates are
        try:
            await self.handle_update(update)
        except Exception:
            log.exception("Telegram update %s failed", update.update_id)

    async def _keep(self, updates: list[tuple[str, str, str | None]]) -> None:
        await self.core.keep(PLATFORM, updates)

    async def drain_kept(self) -> int:
        """After a restart: the updates stored and not handled yet go to the library
        again, in the order they came, ahead of anything polled now."""
        kept = await self.core.kept(PLATFORM)
        for update_id, payload in kept:
            try:
                update = Update.de_json(json.loads(payload), self.app.bot)
            except Exception:
                log.exception("dropping stored Telegram update %s: unreadable", update_id)
                self.core.taken(PLATFORM, update_id)
                continue
            await self.app.update_queue.put(update)
        if kept:
            log.info("Telegram: handling %d update(s) a stop or a crash left", len(kept))
        return len(kept)

    async def stop(self) -> None:
        """Stop fetching, finish the updates already fetched (for STOP_HANDLING seconds:
        when polling, the rest stay stored for the next start), send what is queued
        (for STOP_SENDING seconds: what is left stays owed)."""
        self._handle_until = asyncio.get_running_loop().time() + STOP_HANDLING
        if self.core.senders.get(PLATFORM) == self.push:
            del self.core.senders[PLATFORM]
        if self._owed_keeper is not None:
            self._owed_keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._owed_keeper
            self._owed_keeper = None
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        if self._poller is not None:  # stops polling and gives the role up
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.app.running:
            await self.app.stop()
        # Then the sends: a keyed message's task waits for its send, which may be told
        # to retry after 30 s; once the outbox stops, it is owed, not waited for.
        await self.outbox.stop(drain_seconds=STOP_SENDING)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._paying:  # what went out is recorded; what did not stays owed
            await asyncio.gather(*self._paying, return_exceptions=True)
        await self.core.flush()
        await self._give_up_owed()
        await self.app.shutdown()
        self._handle_until = None
        self._redactor.uninstall()

    async def set_commands(self) -> None:
        """Register the command menu, in English and in every language that translates it.

        The menu is a convenience: a failure is logged, never a reason not to start.
        """
        menu = [c for c in COMMANDS if c.in_menu and not c.coordinators_only]
        for language in sorted(self.ui.strings):
            if language != "en" and not any(
                c.description in self.ui.strings[language] for c in menu
            ):
                continue
            try:
                options: dict[str, Any] = {
                    "commands": menu_commands(menu, functools.partial(self._t, language=language))
                }
                if language != "en":
                    options["language_code"] = language
                lane = f"commands:{language}"  # not a chat: no per-chat spacing between languages
                await self.outbox.deliver(lane, Call("set_my_commands", lane, options))
            except Exception as exc:
                log.warning("could not register the Telegram command menu (%s): %r", language, exc)

    # ------------------------------------------------------------------ inbound

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if (
            self._keeping
            and self._handle_until is not None
            and asyncio.get_running_loop().time() > self._handle_until
        ):
            return  # stopping: it stays in the inbox and is handled at the next start
        try:
            await self.handle_update(update)
        except Exception:
            log.exception("Telegram update %s failed", update.update_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else "-"
        log.error("Telegram update %s failed: %r", update_id, context.error)

    async def handle_update(self, update: Update) -> list[asyncio.Future[Any]]:
        """One update through the core; returns the deliveries it queued (not awaited)."""
        self._in_hand += 1
        if self._in_hand == 1:
            self.outbox.limit_budget_free(TOASTS_WHILE_TAKING_IN, at_most_for=TOASTS_HELD_AT_MOST)
        try:
            return await self._handle_update(update)
        finally:
            self._in_hand -= 1
            if not self._in_hand:
                self.outbox.limit_budget_free(None)

    async def _handle_update(self, update: Update) -> list[asyncio.Future[Any]]:
        gone = blocked_by(update)
        if gone is not None:
            await self.core.person_gone(f"{PLATFORM}:{gone}", "blocked")
            self._taken(update)
            return []
        query = update.callback_query
        incoming = to_incoming(update, self.app.bot.id, self.app.bot.username)
        if incoming is None:
            self._taken(update)
            if query is not None:
                return [self._answer(query.id, None)]
            log.debug("ignoring update %s: nothing for the bot", update.update_id)
            return []
        # One person's messages in one chat are handled in order; everyone else in parallel.
        key = (incoming.chat.chat_id, incoming.person.user_id)
        lock = self._conversation_locks.get(key)
        if lock is None:
            lock = self._conversation_locks[key] = asyncio.Lock()
        async with lock:
            handling = asyncio.ensure_future(
                self.core.handle(incoming, route=route_of(incoming), inboxed=self._keeping)
            )
            toast_id = query.id if query is not None else None
            early: list[asyncio.Future[Any]] = []
            if query is not None:
                done, _ = await asyncio.wait({handling}, timeout=self.callback_grace)
                if not done:  # stop the spinner now; a late notice becomes a message
                    early.append(self._answer(query.id, None))
                    toast_id = None
            replies = await handling
            if early and not incoming.chat.private:
                # Too late for the toast: a notice ("Your vote: ...") is for the presser
                # alone and never becomes a message in the group.
                replies = [r for r in replies if toast_text(r) is None]
            return early + self._send_and_pay(replies, incoming, toast_id)

    def _taken(self, update: Update) -> None:
        if self._keeping:
            self.core.taken(PLATFORM, str(update.update_id))

    def _send_and_pay(
        self, replies: list[Reply], incoming: Incoming, toast_id: str | None = None
    ) -> list[asyncio.Future[Any]]:
        """Queue an event's replies, and record them delivered once sent. Those that
        post a message wait for their turn (bot.owed.deliver: one at a time in this
        process, recorded before the next); the toast never waits."""
        toast = None
        if toast_id is not None:
            toast = next((r for r in replies if toast_text(r) is not None), None)
        rest = [r for r in replies if r is not toast]
        if incoming.event_id is None or not owed.posts(rest):
            sent = self.outbound(replies, incoming, callback_query_id=toast_id)
            self._pay_when_sent(incoming, sent)
            return sent
        answered = []
        if toast_id is not None:
            answered = self.outbound([toast] if toast else [], None, callback_query_id=toast_id)

        async def send() -> bool:
            results = await asyncio.gather(*self.outbound(rest, incoming), return_exceptions=True)
            # Stopped before it went out: still owed, sent at the next start or elsewhere.
            return not any(isinstance(r, OutboxClosed) for r in results)

        task = asyncio.ensure_future(
            owed.deliver(self.core, PLATFORM, incoming.event_id, send, posting=True)
        )
        self._paying.add(task)
        task.add_done_callback(self._paying.discard)
        return [*answered, task]

    def _pay_when_sent(self, incoming: Incoming, sent: list[asyncio.Future[Any]]) -> None:
        """Once every call of the replies is done (sent, or given up), they are no
        longer owed: a restart will not send them again."""
        if not sent:
            self.core.paid(PLATFORM, incoming.event_id)
            return

        async def pay() -> None:
            results = await asyncio.gather(*sent, return_exceptions=True)
            if any(isinstance(r, OutboxClosed) for r in results):
                return  # stopped before it went out: still owed, sent at the next start
            self.core.paid(PLATFORM, incoming.event_id)

        task = asyncio.ensure_future(pay())
        self._paying.add(task)
        task.add_done_callback(self._paying.discard)

    async def _give_up_owed(self) -> None:
        """What did not go out before the stop: another replica (or the next start)
        sends it now, not once a lease has run out."""
        try:
            await owed.give_up(self.core, PLATFORM)
        except Exception:  # the lease runs out by itself
            log.warning("Telegram: could not hand over the unsent replies; they lapse to others")

    async def send_owed(self, *, mine: bool = True) -> int:
        """The replies nobody is sending (not expired), sent now: at the start (``mine``:
        this process's own too), then those of a replica that died. Toasts are not:
        Telegram forgets a button press long before that."""
        count = 0
        for event_id, route, replies in await self.core.owed(PLATFORM, mine=mine):
            incoming = incoming_of(route, event_id)
            if incoming is None:
                self.core.paid(PLATFORM, event_id)
                continue
            replies = [r for r in replies if toast_text(r) is None]
            self._send_and_pay(replies, incoming)
            count += 1
        if count:
            log.info("Telegram: sending the replies of %d event(s) a stop or crash left", count)
        return count

    def _polling_error(self, exc: tg.TelegramError) -> None:
        if isinstance(exc, tg.Conflict):
            now = time.monotonic()
            if now - self._last_conflict_log >= CONFLICT_LOG_EVERY:
                self._last_conflict_log = now
                log.error(
                    "another instance is running with this token: Telegram delivers updates to "
                    "only one poller (409 Conflict). Stop the other instance; retrying meanwhile."
                )
            return
        log.warning("polling Telegram failed (%s); retrying", exc)

    # ------------------------------------------------------------------ outbound

    def outbound(
        self,
        replies: list[Reply],
        incoming: Incoming | None,
        *,
        callback_query_id: str | None = None,
    ) -> list[asyncio.Future[Any]]:
        """Queue the calls that show ``replies``; one future per call (or keyed reply)."""
        answered: list[asyncio.Future[Any]] = []
        toast: Reply | None = None
        if callback_query_id is not None:
            text = None
            for reply in replies:
                if (text := toast_text(reply)) is not None:
                    toast = reply
                    break
            answered.append(self._answer(callback_query_id, text))
        futures: list[asyncio.Future[Any]] = []
        for reply in replies:
            if reply is toast:
                continue
            if reply.key is not None:
                futures.append(self._upsert(reply, incoming))
            else:
                futures += [self._submit(call) for call in self._calls(reply, incoming)]
        for future in futures:
            future.add_done_callback(_log_failure)
        return answered + futures

    async def push(self, replies: list[Reply]) -> None:
        """The core's sender: replies nobody asked for just now (a poll closing, a reminder).

        Returns once everything is sent; a failure raises (after the rest went out), so
        the reminder scheduler keeps that delivery pending instead of marking it sent.
        """
        results = await asyncio.gather(*self.outbound(replies, None), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _calls(self, reply: Reply, incoming: Incoming | None) -> list[Call]:
        if reply.edit is not None:
            target = parse_origin(reply.edit)
            if target is not None:
                return message_calls(reply, target[0], edit=target[1])
            log.warning("cannot edit %r: not a Telegram message reference", reply.edit)
        if reply.chat is not None:
            return message_calls(reply, reply.chat.chat_id)
        if incoming is None:
            log.warning("dropping a pushed reply that names no chat")
            return []
        if reply.private and not incoming.chat.private:
            # Only the asker should see it: their private chat with the bot. If they
            # never opened one, Telegram refuses and the group gets a pointer instead.
            note = self.ui.t(
                "telegram_private_blocked",
                incoming.person.language,
                name=markup.escape((incoming.person.display_name.split() or [""])[0]),
                bot=markup.escape(self.app.bot.username),
            )
            pointer = message_calls(Reply(note), incoming.chat.chat_id)[0]
            return with_fallback(message_calls(reply, incoming.person.user_id), pointer)
        return message_calls(reply, incoming.chat.chat_id)

    def _submit(
        self, call: Call, coalesce_key: str | None = None, *, priority: bool = False
    ) -> asyncio.Future[Any]:
        if coalesce_key is None and call.is_edit:
            # Several presses on one message: only its latest state matters.
            coalesce_key = f"edit:{call.kwargs.get('message_id')}"
        return self.outbox.submit(
            call.chat_id,
            call,
            group=is_group(call.chat_id),
            coalesce_key=coalesce_key,
            priority=priority,
        )

    def _answer(self, query_id: str, text: str | None) -> asyncio.Future[Any]:
        """Answer a button press (stops the client's spinner; ``text`` shows as a toast)."""
        # Never queued behind the chat's messages; a few shared lanes (not one per
        # press) keep a burst of 2,000 answers cheap to schedule, 16 at a time.
        lane = f"callback:{zlib.crc32(query_id.encode()) % CALLBACK_LANES}"
        call = Call("answer_callback_query", lane, {"callback_query_id": query_id, "text": text})
        # First, and outside the 30 messages a second: Telegram expires a press after
        # about 15 s, and a burst of votes must not wait behind its own messages.
        future = self.outbox.submit(lane, call, priority=True, budget=False)
        future.add_done_callback(_log_failure)
        return future

    def _background(self, work: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _upsert(self, reply: Reply, incoming: Incoming | None) -> asyncio.Future[Any]:
        """Show a keyed message: edit the one sent under this key before, else send it.

        Last state wins: a burst of 2,000 poll votes gives 2,000 states of one tally,
        and only the newest one waiting is looked up, rendered and queued (where the
        Outbox coalesces it with an edit not sent yet). Looking up and rendering every
        state, one after the other behind the storage's writes, put the final tally
        seconds behind the last vote.
        """
        assert reply.key is not None
        key = reply.key
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        state = self._keyed.get(key)
        if state is None:
            self._keyed[key] = _Keyed(reply, incoming, [future])
        else:  # an older state not handed to the outbox yet: replaced
            state.reply, state.incoming = reply, incoming
            state.waiting.append(future)
        if key not in self._keyed_workers:
            self._keyed_workers[key] = self._background(self._show_keyed(key))
        return future

    async def _show_keyed(self, key: str) -> None:
        """Hands one key's states to the outbox one at a time, always the newest waiting."""
        try:
            while (state := self._keyed.pop(key, None)) is not None:
                try:
                    sent = await self._show_state(key, state.reply, state.incoming)
                except asyncio.CancelledError:
                    settle(state.waiting, error=OutboxClosed("the adapter stopped"))
                    raise
                except Exception as exc:
                    settle(state.waiting, error=exc)
                    continue
                # Whoever waited for this state (or an older one) learns the result
                # when it is sent, while newer states are handled on.
                sent.add_done_callback(functools.partial(_settle_from, state.waiting))
        finally:
            del self._keyed_workers[key]

    async def _show_state(
        self, key: str, reply: Reply, incoming: Incoming | None
    ) -> asyncio.Future[Any]:
        """Send it (waiting for the new message's id), or queue the edit; the future
        resolves once it is sent."""
        stored = await self.core.storage.get_message_ref(PLATFORM, key)
        if stored is None:
            destination = (
                reply.chat.chat_id if reply.chat else incoming.chat.chat_id if incoming else None
            )
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            if destination is None:
                log.warning("dropping keyed reply %r: no chat to send it to", key)
                done.set_result(None)
                return done
            calls = message_calls(reply, destination)
            # Waited for: the next state edits the message this one creates.
            results = await asyncio.gather(*(self._submit(c) for c in calls))
            message = next((r for r in results if isinstance(r, Message)), None)
            if message is not None:
                await self.core.storage.set_message_ref(
                    PLATFORM, key, destination, str(message.message_id)
                )
            done.set_result(message)
            return done
        chat_id, ref = stored
        calls = message_calls(reply, chat_id, edit=int(ref))
        # A live tally's edit goes before ordinary messages: it carries every vote.
        futures = [
            self._submit(c, coalesce_key=f"key:{key}" if i == 0 else None, priority=i == 0)
            for i, c in enumerate(calls)
        ]
        return self._background(self._edited(key, chat_id, ref, futures))

    async def _edited(
        self, key: str, chat_id: str, ref: str, futures: list[asyncio.Future[Any]]
    ) -> Any:
        results = await asyncio.gather(*futures)
        first = results[0] if results else None
        if isinstance(first, Message) and str(first.message_id) != ref:
            # The old message was gone, so the edit was sent as a new one: track that.
            await self.core.storage.set_message_ref(PLATFORM, key, chat_id, str(first.message_id))
        return first

    async def _perform(self, lane: str, call: Call) -> Any:
        """The Outbox's send function: one Bot API call, errors mapped to retry signals."""
        try:
            return await getattr(self.app.bot, call.method)(**call.kwargs)
        except tg.RetryAfter as exc:
            wait = exc.retry_after
            raise RetryAfter(
                wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            ) from None
        except tg.ChatMigrated as exc:  # a group became a supergroup: same chat, new id
            log.info("Telegram chat migrated to a supergroup; resending there")
            return await self._perform(
                lane,
                Call(
                    call.method, str(exc.new_chat_id), {**call.kwargs, "chat_id": exc.new_chat_id}
                ),
            )
        except tg.BadRequest as exc:
            if "not modified" in exc.message.lower():
                return None  # the message already shows exactly this
            if call.fallback is not None:
                return await self._perform(lane, call.fallback)
            raise
        except tg.Forbidden as exc:
            if call.fallback is not None:
                return await self._perform(lane, call.fallback)
            # Blocked by the user, or removed from the group: retrying cannot help.
            raise RecipientGone(f"Telegram: {exc.message}") from exc
        except (tg.TimedOut, tg.NetworkError) as exc:  # after BadRequest, its subclass
            raise Transient(f"{call.method}: {exc}") from exc


def route_of(incoming: Incoming) -> str:
    """Where to answer an event, kept with its owed replies: its chat and person."""
    person = incoming.person
    return json.dumps(
        [
            incoming.chat.chat_id,
            incoming.chat.private,
            person.user_id,
            person.display_name,
            person.language,
        ]
    )


def incoming_of(route: str, event_id: str) -> Incoming | None:
    try:
        chat_id, private, user_id, name, language = json.loads(route)
    except (ValueError, TypeError):
        return None
    person = Person(PLATFORM, str(user_id), str(name), language=language)
    return Incoming(person, Chat(str(chat_id), private=bool(private)), event_id=event_id)


@dataclass(eq=False)
class _Keyed:
    """The latest state wanted for one keyed message, and everyone waiting for it."""

    reply: Reply
    incoming: Incoming | None
    waiting: list[asyncio.Future[Any]]


def _settle_from(futures: list[asyncio.Future[Any]], sent: asyncio.Future[Any]) -> None:
    if sent.cancelled():
        settle(futures, error=OutboxClosed("the adapter stopped before this was sent"))
    elif sent.exception() is not None:
        settle(futures, error=sent.exception())
    else:
        settle(futures, result=sent.result())


def _log_failure(future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.warning("a Telegram call failed for good: %s: %s", type(exc).__name__, exc)
