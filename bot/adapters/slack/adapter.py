"""Slack via slack-bolt's AsyncApp: Socket Mode or HTTP (signed requests at /slack/events).

Every listener acknowledges first and works after, so Slack always gets its answer
within 3 seconds. Slack re-sends events it believes were missed and bolt does not
de-duplicate them: each payload carries a stable id that the core claims durably
before doing anything. Every outgoing Web API call goes through one :class:`Outbox`,
which waits out 429s for the channel concerned and coalesces live tally edits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener_matcher import builtins as builtin_matchers
from slack_bolt.listener_matcher.async_listener_matcher import AsyncListenerMatcher
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import health, owed
from bot.adapters.slack import inbound, render
from bot.adapters.slack.inbound import PLATFORM, Where
from bot.config import Settings
from bot.core import Core
from bot.errors import BotError, ConfigError, PlatformUnreachable
from bot.messages import Incoming, Person, Reply
from bot.outbox import Limits, Outbox, OutboxClosed, RetryAfter, Transient

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"
# chat.postMessage allows about one message a second per channel; the method tiers
# allow bursts well above 10 a second across the workspace.
LIMITS = Limits(global_per_second=10.0, per_chat_interval=1.0, group_per_minute=None)
# Errors that mean "that message is gone or not ours to edit": post a fresh one instead.
_GONE = frozenset(
    {"message_not_found", "cant_update_message", "channel_not_found", "edit_window_closed"}
)
_NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found"})
_MAX_PEOPLE_CACHED = 2000
ACK_WAIT = 2.0  # seconds an ack waits for the core to handle the event (Slack allows 3)
VERIFICATION_LOG_EVERY = 60.0  # seconds between two "failed verification" lines


class QuietVerification(AsyncRequestVerification):
    """Signature checks as bolt's, without its log line: bolt logs the whole body of
    every request that fails, at INFO, so late genuine retries put message text and
    user ids in the log and anyone can write megabytes of it a second. This logs one
    line without the body, then at most one a minute saying how many more failed."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(signing_secret)
        self._clock = clock
        self._last: float | None = None
        self._unlogged = 0

    def _debug_log_error(self, signature: Any, timestamp: Any, body: Any) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < VERIFICATION_LOG_EVERY:
            self._unlogged += 1
            return
        more = f" (and {self._unlogged} more since the last report)" if self._unlogged else ""
        log.warning("Slack: a request failed signature verification and was refused%s", more)
        self._last, self._unlogged = now, 0


def _start_failure(exc: BaseException) -> BotError | None:
    """What ``nsbot run`` should say about a failed start: one line, no traceback."""
    if isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        return PlatformUnreachable(f"cannot reach the Slack API ({type(exc).__name__}: {exc})")
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return ConfigError(
            f"Slack refused to open a Socket Mode connection ({error}): check SLACK_APP_TOKEN "
            "(xapp-..., with the connections:write scope) and SLACK_BOT_TOKEN"
        )
    return None


class SlackDeliveryError(BotError):
    """Slack refused a response_url post for good (not a rate limit, not a 5xx)."""


@dataclass(frozen=True)
class Call:
    """One outgoing call, queued in the outbox: a Web API ``method`` with ``args``,
    ``respond`` (a post to an interaction's response_url) or ``files.upload_v2``."""

    method: str
    args: dict[str, Any] = field(default_factory=dict)
    url: str | None = None


def _retry_after(headers: Any) -> float:
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            with contextlib.suppress(TypeError, ValueError):
                return float(raw)
    return 1.0


class SlackAdapter:
    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        process_before_response: bool = False,
        limits: Limits = LIMITS,
    ) -> None:
        """``process_before_response`` finishes the work before answering the HTTP
        request: only for tests and FaaS hosts; a server must acknowledge first."""
        self.core = core
        desk = settings.handoff
        # The secretariat's channel, when questions go to Slack: its threads are read.
        self.desk = desk.chat if desk is not None and desk.platform == PLATFORM else None
        token = settings.get("SLACK_BOT_TOKEN")
        self.app_token = settings.get("SLACK_APP_TOKEN")
        secret = settings.get("SLACK_SIGNING_SECRET")
        if not token:
            raise ConfigError("SLACK_BOT_TOKEN is not set (the xoxb-... token of the Slack app)")
        if not self.app_token and not secret:
            raise ConfigError(
                "set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)"
            )
        self.host = settings.get("SLACK_HTTP_HOST") or "0.0.0.0"
        self.port = settings.port("SLACK_HTTP_PORT", 3000)
        base_url = settings.get("SLACK_API_URL") or DEFAULT_API_URL
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        # Bolt's own calls and look-ups (auth.test, users.info, conversations.open) retry
        # a 429 themselves; sends go through the outbox on a client that does not, so
        # the outbox sees each RetryAfter and pauses only the channel concerned.
        self.client = AsyncWebClient(
            token=token,
            base_url=base_url,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            ],
        )
        self.sender = AsyncWebClient(token=token, base_url=base_url, retry_handlers=[])
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            process_before_response=process_before_response,
            name="nsbot",
        )
        if not log.isEnabledFor(logging.DEBUG):
            # bolt gives its app logger the root's level at construction, past the
            # quieter level setup_logging() chose for the Slack libraries.
            self.app.logger.setLevel(max(self.app.logger.level, logging.WARNING))
        middleware = self.app._async_middleware_list  # bolt offers no public way to swap one
        for i, step in enumerate(middleware):
            if isinstance(step, AsyncRequestVerification) and secret:
                middleware[i] = QuietVerification(secret)
        self._authorization = next(
            (m for m in middleware if isinstance(m, AsyncSingleTeamAuthorization)), None
        )
        # Bolt acknowledges events itself before any listener runs (auto_acknowledgement):
        # registered without it, the ack waits for the core to store the event.
        for event in ("message", "app_mention"):
            self.app._register_listener(
                [self._on_event],
                cast(AsyncListenerMatcher, builtin_matchers.event(event, True)),
                None,
                None,
                auto_acknowledgement=False,
            )
        # Any slash command: renaming /nsbot in the app's settings needs no code change.
        self.app.command(re.compile(r"^/"))(self._on_command)
        self.app.action(re.compile("^" + re.escape(render.ACTION_PREFIX)))(self._on_action)
        # The limits hold across replicas when the database is shared (PostgreSQL).
        self.outbox = Outbox(self._send, limits, shared=core.storage.send_limiter(), scope=PLATFORM)
        self._tasks: set[asyncio.Task[None]] = set()
        self._people: dict[str, Person] = {}
        self._dms: dict[str, str] = {}
        self._key_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._person_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self._owed_keeper: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.outbox.start()
        await self._authorize()
        self.core.register_sender(PLATFORM, self.push)
        await self.send_owed()
        await self.drain_kept()
        # Renew what this replica owes; send what a dead one owed (bot.owed).
        self._owed_keeper = asyncio.create_task(
            owed.keep(self.core, PLATFORM, functools.partial(self.send_owed, mine=False)),
            name="slack-owed",
        )
        try:
            if self.app_token:
                await self._connect_socket()
            else:
                await self._listen_http()
        except BaseException as exc:  # a cancelled start (SIGTERM) too: leave nothing running
            await self.stop()
            failure = _start_failure(exc) if self.app_token else None
            if failure is None:
                raise
            raise failure from None

    async def _connect_socket(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.app, self.app_token)
        # Ask for the WebSocket address ourselves first: the SDK's connect() retries an
        # unreachable Slack forever, logging a traceback each time.
        client = self._socket.client
        client.wss_uri = await client.issue_new_wss_url()
        await self._socket.connect_async()
        log.info("Slack: connected in Socket Mode")

    async def _listen_http(self) -> None:
        app = self.app.web_app(path=EVENTS_PATH)
        health.add_routes(app, lambda: self.core)  # /healthz and /readyz beside the events
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # the port is taken, or not ours to bind
            raise ConfigError(
                f"Slack HTTP mode cannot listen on {self.host}:{self.port} ({exc.strerror}): "
                "set SLACK_HTTP_PORT to a free port"
            ) from None
        addresses = self._runner.addresses
        if addresses:  # the real port when 0 asked for any free one
            self.port = int(addresses[0][1])
        log.info("Slack: listening on http://%s:%d%s", self.host, self.port, EVENTS_PATH)

    async def _authorize(self) -> None:
        """auth.test now, not on the first request: bolt would make that request wait
        for it before its ack, past Slack's 3 seconds when the API is slow."""
        if self._authorization is None or self._authorization.auth_test_result is not None:
            return
        try:
            self._authorization.auth_test_result = await self.client.auth_test()
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Slack auth.test failed (%s); bolt retries it on the first request", exc)

    async def stop(self) -> None:
        if self.core.senders.get(PLATFORM) == self.push:
            del self.core.senders[PLATFORM]  # pushes wait for the next start, not a dead outbox
        if self._owed_keeper is not None:
            self._owed_keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._owed_keeper
            self._owed_keeper = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._tasks:  # answers already being worked on still go out
            _, late = await asyncio.wait(set(self._tasks), timeout=10)
            for task in late:
                task.cancel()
        await self.outbox.stop()
        await self.core.flush()  # what went out is recorded; the rest stays owed
        try:  # and is handed over: another replica (or the next start) sends it now
            await owed.give_up(self.core, PLATFORM)
        except Exception:  # the lease runs out by itself
            log.warning("Slack: could not hand over the unsent replies; they lapse to others")

    # ------------------------------------------------------------------ inbound

    async def _on_event(self, body: dict[str, Any], ack: Any, context: Any) -> None:
        await self._work(inbound.from_event(body, context.bot_user_id, self.desk), ack)

    async def _on_command(self, body: dict[str, Any], ack: Any) -> None:
        await self._work(inbound.from_command(body), ack)  # empty ack: answers via response_url

    async def _on_action(self, body: dict[str, Any], ack: Any) -> None:
        await self._work(inbound.from_action(body), ack)

    async def _work(self, parsed: tuple[Incoming, Where] | None, ack: Any) -> None:
        """Acknowledge once the core has handled the event, but never later than
        :data:`ACK_WAIT`: Slack re-sends what is not acknowledged within 3 seconds, and
        the core ignores what it has already handled. Before anything else the event
        is stored in the inbox, so even an ack at ACK_WAIT (behind the same person's
        earlier events) follows the store: what a stop or crash leaves unhandled is
        handled at the next start (:meth:`drain_kept`). Waiting for the handling, not
        only the store: a crash before it leaves the event unacked, and Slack re-sends
        it at once, maybe to another replica. The work is a task of ours so stop()
        can let it finish."""
        if parsed is None:
            await ack()
            return
        handled = asyncio.Event()
        task = self._start(self._take(*parsed, handled))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(handled.wait(), ACK_WAIT)
        await ack()
        await task

    def _start(self, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _take(self, incoming: Incoming, where: Where, handled: asyncio.Event) -> None:
        try:
            await self._handle(incoming, where, await self._keep(incoming, where), handled)
        finally:
            handled.set()  # a failure is logged by bolt; the ack must not wait for it

    async def _keep(self, incoming: Incoming, where: Where) -> bool:
        """Store the event until it is handled; False when it could not be."""
        if incoming.event_id is None:
            return False
        try:
            item = (incoming.event_id, inbound.pack(incoming, where), incoming.person.key)
            await self.core.keep(PLATFORM, [item])
        except Exception:  # handled all the same, only not kept for a crash
            log.exception("Slack: could not store event %s before handling it", incoming.event_id)
            return False
        return True

    async def drain_kept(self) -> int:
        """After a restart: the events stored and not handled yet, in the order they
        came, ahead of anything received now (their tasks queue first for each person)."""
        kept = await self.core.kept(PLATFORM)
        for event_id, payload in kept:
            try:
                incoming, where = inbound.unpack(payload)
            except Exception:
                log.exception("dropping stored Slack event %s: unreadable", event_id)
                self.core.taken(PLATFORM, event_id)
                continue
            self._start(self._replay(incoming, where))
        if kept:
            log.info("Slack: handling %d event(s) a stop or a crash left", len(kept))
        return len(kept)

    async def _replay(self, incoming: Incoming, where: Where) -> None:
        try:
            await self._handle(incoming, where, True, asyncio.Event())
        except Exception:  # no request of bolt's to log it
            log.exception("Slack: a stored event %s failed", incoming.event_id)

    async def _handle(
        self, incoming: Incoming, where: Where, inboxed: bool, handled: asyncio.Event
    ) -> None:
        try:
            await self._handle_in_order(incoming, where, inboxed, handled)
        except Exception:
            if inboxed and incoming.event_id is not None:
                self.core.taken(PLATFORM, incoming.event_id)  # failed, not to be redone
            raise

    async def _handle_in_order(
        self, incoming: Incoming, where: Where, inboxed: bool, handled: asyncio.Event
    ) -> None:
        # One person's events in one channel are handled one at a time, in the order
        # they came (two quick ticks must not race); everyone else in parallel.
        key = (where.channel, where.user)
        lock = self._person_locks.get(key)
        if lock is None:
            lock = self._person_locks[key] = asyncio.Lock()
        async with lock:
            incoming = replace(incoming, person=await self._person(incoming.person))
            if where.command and where.im and await self._is_bot_dm(where):
                # /nsbot in the person's DM with the bot: answer with ordinary messages,
                # which stay (ephemeral ones vanish on reload, mid-consultation).
                where = replace(where, command=False)
            route = json.dumps(dataclasses.asdict(where))
            replies = await self.core.handle(incoming, route=route, inboxed=inboxed)
            handled.set()
            await self._deliver_owed(incoming.event_id, replies, where)

    async def _person(self, person: Person) -> Person:
        """Name, time zone and language from users.info, cached; the bare id on failure."""
        known = self._people.get(person.user_id)
        if known is not None:
            return known
        try:
            response = await self.client.users_info(user=person.user_id, include_locale=True)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("users.info failed for a Slack user: %s", exc)
            return person
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or person.display_name
        )
        enriched = replace(
            person, display_name=name or "", timezone=user.get("tz"), language=user.get("locale")
        )
        if len(self._people) >= _MAX_PEOPLE_CACHED:
            self._people.clear()
        self._people[person.user_id] = enriched
        return enriched

    # ------------------------------------------------------------------ outbound

    async def push(self, replies: list[Reply]) -> None:
        """Replies the core starts itself (a poll closing, a reminder): they name their
        chat or key. A failure raises, so the reminder scheduler keeps the delivery
        pending instead of recording it as sent."""
        for reply in replies:
            await self._deliver(reply, None)

    async def deliver(self, replies: list[Reply], where: Where | None) -> bool:
        """Send the replies; False when the outbox stopped before all went out (they
        stay owed), True once each was sent or failed for good."""
        complete = True
        for reply in replies:
            try:
                await self._deliver(reply, where)
            except OutboxClosed:
                complete = False
            except Exception:
                log.exception("could not deliver a reply to Slack")
        return complete

    async def _deliver_owed(self, event_id: str | None, replies: list[Reply], where: Where) -> None:
        """Send an event's replies and record them delivered (bot.owed.deliver: those
        that post a message one event at a time in this process, each recorded before
        the next; a notice is never sent again, so it does not count)."""
        await owed.deliver(
            self.core,
            PLATFORM,
            event_id,
            lambda: self.deliver(replies, where),
            posting=owed.posts([r for r in replies if not r.notice]),
        )

    async def send_owed(self, *, mine: bool = True) -> int:
        """The replies nobody is sending (not expired): at the start (``mine``: this
        process's own too, a stop left them), then those of a replica that died."""
        count = 0
        for event_id, route, replies in await self.core.owed(PLATFORM, mine=mine):
            try:
                where = Where(**json.loads(route))
            except (ValueError, TypeError):
                self.core.paid(PLATFORM, event_id)
                continue
            await self._deliver_owed(event_id, [r for r in replies if not r.notice], where)
            count += 1
        if count:
            log.info("Slack: sent the replies of %d event(s) a stop or crash left", count)
        return count

    async def _deliver(self, reply: Reply, where: Where | None) -> None:
        if reply.key:
            await self._upsert(reply, where)
        elif reply.edit:
            await self._edit(reply, where)
        elif reply.chat is not None and (where is None or reply.chat.chat_id != where.channel):
            await self._post_all(reply.chat.chat_id, reply, None)
        elif where is None:
            if reply.text.strip() or reply.buttons:
                log.warning("dropping a pushed Slack reply that names no chat")
        elif reply.private or reply.notice or where.private_by_default:
            await self._ephemeral_all(reply, where)
        else:
            await self._post_all(where.channel, reply, where.thread_ts)
        if reply.attachments:
            await self._upload(reply, where)

    async def _post_all(self, channel: str, reply: Reply, thread_ts: str | None) -> str | None:
        ts = None
        for message in render.render_reply(reply):
            ts = await self._post(channel, message, thread_ts)
        return ts

    async def _post(self, channel: str, message: render.SlackMessage, thread_ts: str | None) -> str:
        args: dict[str, Any] = {
            "channel": channel,
            **message.payload(),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            args["thread_ts"] = thread_ts
        result = await self.outbox.deliver(channel, Call("chat.postMessage", args))
        return str(result.get("ts") or "")

    async def _ephemeral_all(self, reply: Reply, where: Where) -> None:
        for message in render.render_reply(reply):
            await self._ephemeral(message, where)

    async def _ephemeral(
        self, message: render.SlackMessage, where: Where, *, replace_original: bool = False
    ) -> None:
        """Only the asker sees it: through the interaction's response_url (works even
        where the bot is not a member), else chat.postEphemeral; a DM is private already."""
        if where.response_url:
            body = {
                **message.payload(),
                "response_type": "ephemeral",
                "replace_original": replace_original,
            }
            # Keyed by person: a burst of voters' confirmations must not queue one per second.
            await self.outbox.deliver(
                f"{where.channel}/{where.user}", Call("respond", body, url=where.response_url)
            )
        elif where.im:
            await self._post(where.channel, message, where.thread_ts)
        else:
            args = {"channel": where.channel, "user": where.user, **message.payload()}
            if where.thread_ts:
                args["thread_ts"] = where.thread_ts
            await self.outbox.deliver(
                f"{where.channel}/{where.user}", Call("chat.postEphemeral", args)
            )

    async def _update(self, channel: str, ts: str, message: render.SlackMessage) -> None:
        args = {"channel": channel, "ts": ts, **message.payload()}
        # Queued edits of one message collapse into the latest: a busy poll is edited
        # about once a second, however many votes arrive.
        await self.outbox.deliver(channel, Call("chat.update", args), coalesce_key=f"update:{ts}")

    async def _edit(self, reply: Reply, where: Where | None) -> None:
        assert reply.edit is not None
        message = render.render_reply(reply, single=True)
        target = inbound.parse_origin(reply.edit)
        if not message or target is None:
            return
        if where is not None and where.origin == reply.edit and where.origin_ephemeral:
            # An ephemeral message can only be replaced through its response_url.
            await self._ephemeral(message[0], where, replace_original=True)
            return
        channel, ts = target
        try:
            await self._update(channel, ts, message[0])
        except SlackApiError as exc:
            log.warning("Slack refused to edit a message (%s)", exc.response.get("error"))

    async def _upsert(self, reply: Reply, where: Where | None) -> None:
        """Edit the message sent under ``reply.key``, or send it and remember it."""
        assert reply.key is not None
        storage = self.core.storage
        message = render.render_reply(reply, single=True)
        if not message:
            return
        ref = await storage.get_message_ref(PLATFORM, reply.key)
        if ref is not None:
            try:
                await self._update(ref[0], ref[1], message[0])
                return
            except SlackApiError as exc:
                if exc.response.get("error") not in _GONE:
                    raise
                log.info("the message for %s is gone: sending it again", reply.key)
        lock = self._key_locks.setdefault(reply.key, asyncio.Lock())
        async with lock:  # two first sends of one key must not post twice
            again = await storage.get_message_ref(PLATFORM, reply.key)
            if again is not None and again != ref:
                await self._update(again[0], again[1], message[0])
                return
            channel = (
                reply.chat.chat_id if reply.chat is not None else (where.channel if where else None)
            )
            if channel is None:
                log.warning("no chat to send the live message %s to", reply.key)
                return
            thread = where.thread_ts if where is not None and where.channel == channel else None
            if reply.thread:  # a reply in a desk thread, under the question it follows
                target = inbound.parse_origin(reply.thread)
                thread = target[1] if target is not None and target[0] == channel else thread
            try:
                ts = await self._post(channel, message[0], thread)
            except SlackApiError as exc:
                if where is None or exc.response.get("error") not in _NOT_IN_CHANNEL:
                    raise
                # A private channel the bot was not invited to: tell only the asker.
                note = Reply(self._t("slack_invite_me", where.user))
                await self._ephemeral_all(note, where)
                return
            await storage.set_message_ref(PLATFORM, reply.key, channel, ts)

    def _t(self, key: str, user: str) -> str:
        """One of the adapter's own sentences, in the person's language when known."""
        person = self._people.get(user)
        return self.core.ui.t(key, person.language if person else None)

    async def _is_bot_dm(self, where: Where) -> bool:
        """A slash command from a DM may come from a DM between two people."""
        try:
            return await self._dm_channel(where.user) == where.channel
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("conversations.open failed: %s", exc)
            return False

    async def _dm_channel(self, user: str) -> str:
        known = self._dms.get(user)
        if known is None:
            response = await self.client.conversations_open(users=user)
            known = str((response.get("channel") or {}).get("id"))
            self._dms[user] = known
        return known

    async def _upload(self, reply: Reply, where: Where | None) -> None:
        """Files go to the asker's direct messages: an export is never shown in a channel."""
        if where is None:
            if reply.chat is None:
                log.warning("dropping pushed Slack files that name no chat")
                return
            channel = reply.chat.chat_id
        else:
            channel = where.channel if where.im else await self._dm_channel(where.user)
        files = [
            {"content": a.content, "filename": a.filename, "title": a.filename}
            for a in reply.attachments
        ]
        await self.outbox.deliver(
            channel, Call("files.upload_v2", {"channel": channel, "file_uploads": files})
        )
        if where is not None and not where.im:
            await self._ephemeral_all(Reply(self._t("slack_files_in_dm", where.user)), where)

    # ------------------------------------------------------------------ the outbox's send

    async def _send(self, chat_id: str, call: Call) -> Any:
        """Perform one call; a 429 becomes RetryAfter and a 5xx or network error Transient,
        which the outbox retries for this chat only."""
        try:
            if call.method == "respond":
                return await self._respond(call)
            if call.method == "files.upload_v2":
                response = await self.sender.files_upload_v2(**call.args)
            else:
                response = await self.sender.api_call(call.method, json=call.args)
            return response.data
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429:
                raise RetryAfter(_retry_after(exc.response.headers)) from exc
            if status >= 500:
                raise Transient(f"{call.method}: HTTP {status}") from exc
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Transient(f"{call.method}: {exc!r}") from exc

    async def _respond(self, call: Call) -> dict[str, Any]:
        assert call.url is not None
        response = await AsyncWebhookClient(call.url).send_dict(call.args)
        if response.status_code == 429:
            raise RetryAfter(_retry_after(response.headers))
        if response.status_code >= 500:
            raise Transient(f"response_url: HTTP {response.status_code}")
        if response.status_code != 200:
            raise SlackDeliveryError(
                f"response_url: HTTP {response.status_code} {response.body[:200]}"
            )
        return {"ok": True}
