"""A fake Slack for adapter tests: the Web API, file uploads and response_urls on 127.0.0.1.

It keeps what a test wants to look at: every call in order (``calls``), the current
state of every posted message (``messages``, edits applied), ephemeral messages,
response_url posts and uploaded files. ``fail(method, ...)`` makes the next call(s)
answer with an error such as a 429 with Retry-After; ``hold(method)`` keeps calls
waiting until ``release(method)``, to observe what happens before a send completes.
It also signs requests the way Slack does, for the bot's HTTP endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0001"
SIGNING_SECRET = "test-signing-secret-not-real"
BOT_TOKEN = "xoxb-test-token-not-real"
APP_TOKEN = "xapp-test-token-not-real"
FIXTURES = Path(__file__).parent / "fixtures" / "slack"
# Calls that post or change a message in a channel: Slack paces them per channel.
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@dataclass
class SlackLimits:
    """Slack's pacing, enforced with a 429 and Retry-After like the real API: about one
    message a second per channel (a post or an edit), and no more in a second across
    the workspace than the bot's own budget (``per_second``; response_url posts count
    too). ``jitter``: how much closer than the limit two sends may arrive."""

    per_channel_interval: float = 1.0
    per_second: int = 10
    jitter: float = 0.25

    def refuses(
        self, channel: str | None, sent: list[tuple[float, str | None]], now: float
    ) -> bool:
        if channel is not None:
            to_channel = [t for t, c in sent if c == channel]
            if to_channel and now - to_channel[-1] < self.per_channel_interval - self.jitter:
                return True
        window = 1.0 - self.jitter
        return sum(1 for t, _ in sent if t > now - window) >= self.per_second


def dm_event(text: str, user: str, channel: str, event_id: str, ts: str) -> dict[str, Any]:
    """The Events API callback for a direct message to the bot."""
    payload = fixture("event_dm.json")
    payload["event"].update(text=text, user=user, channel=channel, ts=ts, event_ts=ts)
    payload["event_id"] = event_id
    return payload


def command_fields(
    text: str, user: str, channel: str, trigger_id: str, response_url: str
) -> dict[str, Any]:
    """The form fields of a ``/nsbot`` slash command."""
    fields = fixture("command.json")
    fields.update(
        text=text,
        user_id=user,
        channel_id=channel,
        trigger_id=trigger_id,
        response_url=response_url,
    )
    if channel.startswith("D"):
        fields["channel_name"] = "directmessage"
    return fields


def press_payload(
    message: dict[str, Any],
    label: str,
    user: str,
    trigger_id: str,
    response_url: str,
    action_ts: str,
) -> dict[str, Any]:
    """The ``block_actions`` payload of a press on the button labelled ``label`` (or
    with that value) of a message the bot posted (as the fake keeps it)."""
    button = next(
        (
            el
            for block in message["blocks"]
            if block["type"] == "actions"
            for el in block["elements"]
            if label in (el["text"]["text"], el["value"])
        ),
        None,
    )
    assert button is not None, f"no button {label!r} in {message['blocks']}"
    payload = fixture("block_actions.json")
    channel, ts = message["channel"], message["ts"]
    payload["user"].update(id=user, name=user.lower(), username=user.lower())
    payload["container"].update(message_ts=ts, channel_id=channel)
    payload["channel"] = {
        "id": channel,
        "name": "directmessage" if channel.startswith("D") else "team",
    }
    payload["trigger_id"] = trigger_id
    payload["response_url"] = response_url
    payload["message"].update(ts=ts, text=message.get("text", ""), blocks=message["blocks"])
    payload["actions"][0].update(
        action_id=button["action_id"],
        value=button["value"],
        text=button["text"],
        action_ts=action_ts,
    )
    return payload


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def form_body(fields: dict[str, Any]) -> str:
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})


class FakeSlack:
    def __init__(self, *, limits: SlackLimits | None = None, latency: float = 0.0) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.changed = asyncio.Event()
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []
        # With ``limits``: calls over them get a 429 (kept in ``refused`` as (method, args)).
        self.limits = limits
        self.refused: list[tuple[str, dict[str, Any]]] = []
        self._sent: list[tuple[float, str | None]] = []  # accepted: (monotonic time, channel)
        self.latency = latency  # seconds each message call takes, as over a network

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/respond/{name}"

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: float | None = 1,
        times: int = 1,
        error: str = "ratelimited",
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._failures.setdefault(method, []).extend(
            Failure(status, {"ok": False, "error": error}, headers) for _ in range(times)
        )

    def hold(self, method: str) -> None:
        self._holds[method] = asyncio.Event()

    def release(self, method: str) -> None:
        self._holds.pop(method).set()

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted (in order), with their current state after edits."""
        return [m for m in self.messages.values() if channel is None or m["channel"] == channel]

    async def wait_for(self, predicate: Any) -> None:
        """Wait until ``predicate()`` holds (for the bot's work after its ack); the
        caller bounds the wait with ``asyncio.timeout``."""
        while not predicate():
            self.changed.clear()
            await self.changed.wait()

    # ------------------------------------------------------------------ server

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info, conversations.info are GETs
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for event in self._holds.values():
            event.set()
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, method: str, args: dict[str, Any]) -> None:
        self.calls.append((method, args))
        self.changed.set()

    async def _gate(self, method: str) -> web.Response | None:
        if method in self._holds:
            await self._holds[method].wait()
        queued = self._failures.get(method)
        if queued:
            failure = queued.pop(0)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        return None

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for name in ("blocks", "files"):  # form-encoded calls send these as JSON text
            if isinstance(args.get(name), str):
                args[name] = json.loads(args[name])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"ok": False, "error": "not_authed"})
        args = await self._args(request)
        self._record(method, args)
        if method in MESSAGE_METHODS:
            if self.latency:
                await asyncio.sleep(self.latency)
            if self._over_limits(method, str(args.get("channel")), args):
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
        refused = await self._gate(method)
        if refused is not None:
            return refused
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        result: dict[str, Any] = handler(args)
        self.changed.set()
        return web.json_response(result)

    def _over_limits(
        self, method: str, channel: str | None, args: dict[str, Any] | None = None
    ) -> bool:
        """Whether this call exceeds the limits (then it is kept in ``refused``)."""
        if self.limits is None:
            return False
        now = time.monotonic()
        self._sent = [(t, c) for t, c in self._sent if t > now - 60.0]
        # An ephemeral message is not paced per channel, only counted.
        paced = None if method in ("chat.postEphemeral", "respond") else channel
        if self.limits.refuses(paced, self._sent, now):
            self.refused.append((method, args or {"channel": channel}))
            return True
        self._sent.append((now, paced))
        return False

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    # ------------------------------------------------------------------ methods

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "nsbot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args["user"]
        default = {
            "id": user,
            "name": user.lower(),
            "real_name": f"Person {user}",
            "tz": "Europe/Zurich",
            "locale": "en-US",
            "profile": {"display_name": "", "real_name": f"Person {user}"},
        }
        return {"ok": True, "user": self.users.get(user, default)}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args["users"]).lstrip("U")}}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {
            "channel": args["channel"],
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "thread_ts": args.get("thread_ts"),
            "edits": 0,
        }
        self.messages[(args["channel"], ts)] = message
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((args["channel"], args["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.update(
            text=args.get("text", ""), blocks=args.get("blocks") or [], edits=message["edits"] + 1
        )
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self.ephemeral.append(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._file_ids):04d}"
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        shared = []
        for item in args["files"]:
            self.files[item["id"]] = {
                "channel": args.get("channel_id"),
                "title": item.get("title"),
                "content": self.uploads.get(item["id"], b""),
            }
            shared.append({"id": item["id"], "title": item.get("title")})
        return {"ok": True, "files": shared}

    # ------------------------------------------------------------------ other endpoints

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], envelope_id: str, retry_attempt: int = 0
    ) -> None:
        """What Slack sends a Socket Mode app: the payload wrapped in an envelope to ack."""
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        await self.sockets[-1].send_json(envelope)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}}
        )
        self.changed.set()
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                self.changed.set()
        return ws

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        self._record("upload", {"file_id": file_id})
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record("respond", body)
        if self._over_limits("respond", None, body):
            return web.Response(status=429, text="rate_limited", headers={"Retry-After": "1"})
        refused = await self._gate("respond")
        if refused is not None:
            return refused
        self.responses.append((request.match_info["name"], body))
        self.changed.set()
        return web.Response(text="ok")
