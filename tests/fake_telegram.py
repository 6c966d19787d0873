"""A fake Telegram Bot API server on 127.0.0.1 for the real python-telegram-bot client.

It serves the methods the bot uses, keeps the messages the bot sent (so edits and
button presses act on real state), queues updates for ``getUpdates``, records every
call, and can be told to fail a method (429 with retry_after, 500, 409...).

python-telegram-bot posts form fields (multipart for files) and JSON-encodes every
non-string value, so fields are decoded selectively: ``chat_id`` "111" becomes 111,
but a message text "42" stays text. Update payloads are built from the recorded
shapes in tests/fixtures/telegram/*.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
TOKEN = "123456789:TEST-fake-token-not-real-AAAAAAAAAAA"

# Fields python-telegram-bot JSON-encodes; everything else is a plain string.
JSON_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "allowed_updates",
        "reply_markup",
        "link_preview_options",
        "commands",
        "scope",
        "show_alert",
        "cache_time",
        "entities",
        "caption_entities",
        "disable_notification",
        "protect_content",
        "reply_parameters",
        "drop_pending_updates",
        "max_connections",
        "message_thread_id",
    }
)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def user(user_id: int, first_name: str = "Amina", language: str | None = "en") -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language:
        person["language_code"] = language
    return person


# Calls Telegram counts as messages, against the limits per chat, per group and per bot.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}
)


@dataclass(frozen=True)
class RateLimits:
    """Telegram's published limits, enforced with a 429 like the real API. ``jitter``
    is how much closer than the limit two sends may arrive: a sender spacing them
    exactly still sees them arrive a little early or late."""

    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    per_second: int = 30
    jitter: float = 0.25

    def refuses(self, chat: int, sent: list[tuple[float, int]], now: float) -> bool:
        """Whether a message to ``chat`` at ``now``, after ``sent`` (time, chat), exceeds
        a limit."""
        to_chat = [t for t, c in sent if c == chat]
        if to_chat and now - to_chat[-1] < self.per_chat_interval - self.jitter:
            return True
        if chat < 0 and sum(1 for t in to_chat if t > now - 60.0) >= self.group_per_minute:
            return True
        window = 1.0 - self.jitter
        return sum(1 for t, _ in sent if t > now - window) >= self.per_second


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float  # on the test's clock (virtual time when the bot runs on it)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard sent with this call."""
        markup = self.params.get("reply_markup") or {}
        return [
            (b["text"], b["callback_data"])
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class _Failure:
    method: str
    body: dict[str, Any]
    status: int
    times: int
    when: Callable[[dict[str, Any]], bool] | None


class FakeTelegram:
    def __init__(
        self,
        token: str = TOKEN,
        clock: Callable[[], float] | None = None,
        max_poll: float = 1.0,
        *,
        limits: RateLimits | None = None,
        latency: float = 0.0,
    ) -> None:
        self.token = token
        self.me = fixture("get_me")
        self.clock = clock or (lambda: 0.0)
        self.max_poll = max_poll
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # what the bot sent, as it is now
        self.chats: dict[int, dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._confirmed = 0  # getUpdates offset: updates below it are acknowledged
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._holds: dict[str, asyncio.Event] = {}
        self._new_update = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.held: list[ApiCall] = []  # calls that arrived while their method was held
        self._again: list[dict[str, Any]] = []  # confirmed updates to hand out once more
        self.port = 0
        # With ``limits``: messages over them get a 429 (kept in ``refused``).
        self.limits = limits
        self.refused: list[ApiCall] = []
        self._sent: list[tuple[float, int]] = []  # accepted messages: (monotonic time, chat)
        self.latency = latency  # seconds each message call takes, as over a network

    # ------------------------------------------------------------------ server

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        for event in self._holds.values():
            event.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def _params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            params = await request.json()
            return params, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read())
                continue
            text = str(value)
            if name in JSON_FIELDS:
                try:
                    params[name] = json.loads(text)
                    continue
                except ValueError:
                    pass
            params[name] = text
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = ApiCall(method, params, self.clock(), files)
        if method in self._holds:
            self.held.append(call)
            async with self._changed:
                self._changed.notify_all()
            await self._holds[method].wait()
        if method in MESSAGE_METHODS:
            if self.latency:
                await asyncio.sleep(self.latency)
            if self._over_limits(int(params["chat_id"])):
                call.status = 429
                self.refused.append(call)
                await self._record(call)
                body = fixture("error_429") | {"parameters": {"retry_after": 1}}
                return web.json_response(body, status=429)
        failure = self._take_failure(method, params)
        if failure is not None:
            call.status = failure.status
            await self._record(call)
            return web.json_response(failure.body, status=failure.status)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            await self._record(call)
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        try:
            result = await handler(params, files)
        except _ApiError as exc:
            call.status = exc.status
            await self._record(call)
            return web.json_response(
                {"ok": False, "error_code": exc.status, "description": exc.description},
                status=exc.status,
            )
        await self._record(call)
        return web.json_response({"ok": True, "result": result})

    def _over_limits(self, chat: int) -> bool:
        if self.limits is None:
            return False
        now = time.monotonic()
        self._sent = [(t, c) for t, c in self._sent if t > now - 60.0]
        if self.limits.refuses(chat, self._sent, now):
            return True
        self._sent.append((now, chat))
        return False

    async def _record(self, call: ApiCall) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and (failure.when is None or failure.when(params)):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    # ------------------------------------------------------------------ test controls

    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) fail."""
        name = {429: "error_429", 409: "error_409"}.get(status, "error_500")
        body = fixture(name)
        body["error_code"] = status
        if status not in (429, 409, 500):
            body["description"] = f"Error {status}"
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            body["description"] = f"Too Many Requests: retry after {retry_after}"
        self._failures.append(_Failure(method, body, status, times, when))

    def hold(self, method: str) -> None:
        """Keep calls of ``method`` waiting (recorded in ``held``) until ``release``."""
        self._holds[method] = asyncio.Event()

    def release(self, method: str) -> None:
        self._holds.pop(method).set()

    def redeliver(self, update: dict[str, Any]) -> None:
        """Hand out once more an update the bot already had (same update_id): what
        Telegram does when the bot's confirmation was lost."""
        self._again.append(update)
        self._new_update.set()

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; an update_id of 0 gets the next free one."""
        if not update.get("update_id"):
            update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self._new_update.set()
        return update

    def message(
        self,
        sender: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A text message update, as Telegram sends it (a leading /command gets its entity)."""
        update = fixture("private_message" if chat is None else "group_message")
        message = update["message"]
        message["message_id"] = next(self._message_ids)
        message["from"] = sender
        if chat is None:
            message["chat"] = {
                "id": sender["id"],
                "first_name": sender["first_name"],
                "type": "private",
            }
        else:
            message["chat"] = chat
        self.chats[message["chat"]["id"]] = message["chat"]
        message["text"] = text
        if entities is None and text.startswith("/"):
            command = text.split()[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return update

    def send(self, sender: dict[str, Any], text: str, **kw: Any) -> dict[str, Any]:
        return self.push(self.message(sender, text, **kw))

    def press(
        self, sender: dict[str, Any], pressed: dict[str, Any] | ApiCall, data: str
    ) -> dict[str, Any]:
        """Press a button (by its callback_data) on a message the bot sent."""
        if isinstance(pressed, ApiCall):
            pressed = self.message_of(pressed)
        update = fixture("callback_query")
        query = update["callback_query"]
        query["id"] = str(next(self._update_ids))
        query["from"] = sender
        query["message"] = copy.deepcopy(pressed)
        query["data"] = data
        return self.push(update)

    def message_of(self, call: ApiCall) -> dict[str, Any]:
        """The current state of the message a sendMessage/edit call produced."""
        key = (int(call["chat_id"]), int(call.get("message_id") or call.get("_message_id") or 0))
        return self.messages[key]

    # ------------------------------------------------------------------ waiting and queries

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every call); return its value."""

        async def wait() -> Any:
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value

        return await asyncio.wait_for(wait(), within)

    def of(self, method: str, chat_id: int | None = None, ok_only: bool = True) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if c.method == method
            and (chat_id is None or c.get("chat_id") == chat_id)
            and (c.status == 200 or not ok_only)
        ]

    async def wait_calls(
        self, method: str, count: int = 1, chat_id: int | None = None
    ) -> list[ApiCall]:
        """Wait for at least ``count`` successful calls of ``method`` (to ``chat_id``)."""
        return list(
            await self.wait_for(
                lambda: (found := self.of(method, chat_id)) and len(found) >= count and found
            )
        )

    # ------------------------------------------------------------------ the Bot API

    async def _api_getMe(self, params: dict[str, Any], files: Any) -> Any:
        return self.me

    async def _api_deleteWebhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook = None
        return True

    async def _api_setWebhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook = params
        return True

    async def _api_getUpdates(self, params: dict[str, Any], files: Any) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self._confirmed = max(self._confirmed, offset)
        pending = [u for u in self._updates if u["update_id"] >= self._confirmed]
        if self._again:
            pending, self._again = [*self._again, *pending], []
            return pending[: int(params.get("limit") or 100)]
        if not pending and not self._closing:
            self._new_update.clear()
            wait = min(float(params.get("timeout") or 0), self.max_poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), wait)
            pending = [u for u in self._updates if u["update_id"] >= self._confirmed]
        return sorted(pending, key=lambda u: int(u["update_id"]))[: int(params.get("limit") or 100)]

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        chat = self.chats.get(chat_id) or {
            "id": chat_id,
            "type": "private" if chat_id > 0 else "group",
        }
        message = {
            "message_id": next(self._message_ids),
            "date": 1763888400,
            "chat": chat,
            "from": {k: self.me[k] for k in ("id", "is_bot", "first_name", "username")},
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _api_sendMessage(self, params: dict[str, Any], files: Any) -> Any:
        content: dict[str, Any] = {"text": params["text"]}
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        message = self._new_message(int(params["chat_id"]), **content)
        params["_message_id"] = message["message_id"]
        return message

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    async def _api_editMessageText(self, params: dict[str, Any], files: Any) -> Any:
        message = self._existing(params)
        markup = params.get("reply_markup")
        if message.get("text") == params["text"] and message.get("reply_markup") == markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content "
                "and reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = params["text"]
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], files: Any) -> Any:
        message = self._existing(params)
        markup = params.get("reply_markup")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _api_sendDocument(self, params: dict[str, Any], files: Any) -> Any:
        name, content = files["document"]
        document = {
            "file_id": f"doc{len(self.calls)}",
            "file_unique_id": f"u{len(self.calls)}",
            "file_name": name,
            "file_size": len(content),
        }
        extra: dict[str, Any] = {"document": document}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        if params.get("reply_markup"):
            extra["reply_markup"] = params["reply_markup"]
        message = self._new_message(int(params["chat_id"]), **extra)
        params["_message_id"] = message["message_id"]
        return message

    async def _api_setMyCommands(self, params: dict[str, Any], files: Any) -> Any:
        return True


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
