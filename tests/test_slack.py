"""The Slack adapter end to end: the real slack-bolt app in HTTP mode receives signed
requests and talks to a fake Slack Web API on 127.0.0.1 (tests/fake_slack.py)."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot import handlers, polls, runner
from bot.adapters.slack import SlackAdapter, inbound
from bot.adapters.slack.adapter import LIMITS
from bot.adapters.slack.inbound import Where
from bot.app import load_catalog
from bot.config import Settings
from bot.core import Core
from bot.errors import ConfigError
from bot.handlers.base import Context
from bot.knowledge import KnowledgeBase
from bot.messages import Attachment, Chat, Choice, Incoming, Person, Reply
from bot.outbox import Limits
from bot.storage import SqliteStorage
from tests.consult_helpers import Clock, settings_for
from tests.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    FakeSlack,
    form_body,
    sign,
)

FIXTURES = Path(__file__).parent / "fixtures" / "slack"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def slack_settings(base: Settings, fake: FakeSlack, **extra: str) -> Settings:
    return replace(
        base,
        platform={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "SLACK_HTTP_HOST": "127.0.0.1",
            "SLACK_HTTP_PORT": "0",
            **extra,
        },
    )


class Slack:
    """Drives the running adapter the way Slack does: signed HTTP requests."""

    def __init__(
        self, adapter: SlackAdapter, fake: FakeSlack, session: aiohttp.ClientSession
    ) -> None:
        self.adapter = adapter
        self.fake = fake
        self.session = session
        self._ids = itertools.count(1)
        self.last_press = ""
        self.last_event = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    async def post(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
        signature: dict[str, str] | None = None,
    ) -> int:
        sent = {"Content-Type": content_type, **(signature or sign(body)), **(headers or {})}
        async with self.session.post(self.url, data=body.encode(), headers=sent) as response:
            await response.read()
            return response.status

    async def event(self, payload: dict[str, Any], **kw: Any) -> int:
        return await self.post(json.dumps(payload), "application/json", **kw)

    async def dm(self, text: str, user: str = "U0001", channel: str = "D0001", **kw: Any) -> int:
        payload = fixture("event_dm.json")
        n = next(self._ids)
        payload["event"].update(text=text, user=user, channel=channel, ts=f"1700001000.{n:06d}")
        payload["event_id"] = f"EvDM{n:04d}"
        self.last_event = json.dumps(payload)
        return await self.event(payload, **kw)

    async def command(
        self, text: str, user: str = "U0003", channel: str = "C0001", **kw: Any
    ) -> int:
        fields = fixture("command.json")
        n = next(self._ids)
        fields.update(
            text=text,
            user_id=user,
            channel_id=channel,
            trigger_id=f"trigger-cmd-{n}",
            response_url=self.fake.response_url(f"cmd-{n}"),
        )
        if channel.startswith("D"):
            fields["channel_name"] = "directmessage"
        return await self.post(form_body(fields), "application/x-www-form-urlencoded", **kw)

    async def press(
        self,
        message: dict[str, Any],
        label: str,
        user: str = "U0001",
        ephemeral: bool = False,
        response_name: str | None = None,
    ) -> int:
        """Press the button labelled ``label`` on a message the bot posted (or responded)."""
        button = next(
            (
                el
                for block in message["blocks"]
                if block["type"] == "actions"
                for el in block["elements"]
                if el["text"]["text"] == label
            ),
            None,
        )
        assert button is not None, f"no button {label!r} in {message['blocks']}"
        n = next(self._ids)
        payload = copy.deepcopy(fixture("block_actions.json"))
        channel, ts = message["channel"], message["ts"]
        payload["user"].update(id=user, name=user.lower(), username=user.lower())
        payload["container"].update(message_ts=ts, channel_id=channel, is_ephemeral=ephemeral)
        payload["channel"] = {
            "id": channel,
            "name": "directmessage" if channel.startswith("D") else "team",
        }
        payload["trigger_id"] = f"trigger-press-{n}"
        payload["response_url"] = self.fake.response_url(response_name or f"press-{n}")
        if ephemeral:
            del payload["message"]
        else:
            payload["message"].update(ts=ts, text=message.get("text", ""), blocks=message["blocks"])
            if message.get("thread_ts"):
                payload["message"]["thread_ts"] = message["thread_ts"]
        payload["actions"][0].update(
            action_id=button["action_id"],
            value=button["value"],
            text=button["text"],
            action_ts=f"1700002000.{n:06d}",
        )
        self.last_press = form_body({"payload": payload})
        return await self.repeat_press()

    async def repeat_press(self) -> int:
        """Deliver the last press again, as a double delivery would."""
        return await self.post(self.last_press, "application/x-www-form-urlencoded")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


# Slack's pacing (one message a second per channel) is the outbox's, tested there and
# in the tally test below; elsewhere it would only make these tests slow.
UNPACED = Limits(global_per_second=0, per_chat_interval=0.0, group_per_minute=None)


async def running(
    core: Core, fake: FakeSlack, *, before_response: bool = True, limits: Limits = UNPACED
) -> SlackAdapter:
    adapter = SlackAdapter(
        core,
        slack_settings(core.settings, fake),
        process_before_response=before_response,
        limits=limits,
    )
    await adapter.start()
    return adapter


@pytest.fixture
async def slack(min_core: Core, fake: FakeSlack) -> AsyncIterator[Slack]:
    # process_before_response: the answer is sent before the HTTP 200, so a test can
    # assert right after its request. The production mode is tested separately.
    adapter = await running(min_core, fake)
    async with aiohttp.ClientSession() as session:
        yield Slack(adapter, fake, session)
    await adapter.stop()


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [el["text"]["text"] for b in blocks if b["type"] == "actions" for el in b["elements"]]


# ---------------------------------------------------------------------- conversation


async def test_direct_message_is_answered_in_the_dm(slack: Slack) -> None:
    assert await slack.dm("When was the migration policy adopted?") == 200
    [message] = slack.fake.posted("D0001")
    assert "*November 2009*" in texts(message["blocks"])
    assert "November 2009" in message["text"] and "*" not in message["text"]  # plain fallback
    assert message["thread_ts"] is None
    assert slack.fake.calls_to("auth.test")  # bolt learnt the bot's own user id
    assert slack.fake.calls_to("users.info")[0]["user"] == "U0001"


async def test_mention_in_a_channel_is_answered_in_a_thread(slack: Slack) -> None:
    assert await slack.event(fixture("event_mention.json")) == 200
    [message] = slack.fake.posted("C0001")
    assert message["thread_ts"] == "1700000200.000200"
    assert "IFRC" in texts(message["blocks"])


async def test_slash_command_answers_only_the_asker(slack: Slack) -> None:
    assert await slack.command("ask when was the migration policy adopted") == 200
    [(name, body)] = slack.fake.responses
    assert name.startswith("cmd-")
    assert body["response_type"] == "ephemeral"
    assert "November 2009" in texts(body["blocks"])
    assert slack.fake.posted() == []  # nothing visible to the channel


async def test_slash_command_words_become_core_commands(slack: Slack) -> None:
    await slack.command("")  # bare /nsbot is help
    await slack.command("topics")
    await slack.command("frobnicate now")
    help_, topics, unknown = (body for _, body in slack.fake.responses)
    assert "/topics" in texts(help_["blocks"])
    assert buttons(topics["blocks"])  # one button per topic
    assert "/frobnicate" in texts(unknown["blocks"])


async def test_button_press_goes_to_the_core_as_an_action(slack: Slack) -> None:
    await slack.dm("When was the migration policy adopted?")
    [answer] = slack.fake.posted("D0001")
    related = [
        el["text"]["text"]
        for b in answer["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el["value"].startswith("faq:")
    ]
    assert related
    assert await slack.press(answer, related[0]) == 200
    first, second = slack.fake.posted("D0001")
    assert second["ts"] != first["ts"]
    assert "IFRC" in texts(second["blocks"])  # the related entry: who chairs the MRG


async def test_own_and_other_bots_messages_and_edits_are_ignored(slack: Slack) -> None:
    own = fixture("event_dm.json")
    own["event"]["user"] = BOT_USER
    own["event_id"] = "EvOWN"
    for payload in (own, fixture("event_bot_message.json"), fixture("event_message_changed.json")):
        assert await slack.event(payload) == 200
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_channel_ping_in_user_supplied_text_is_harmless(slack: Slack) -> None:
    # A display name is chosen by its owner: it must not make the bot ping the channel.
    slack.fake.users["U0666"] = {
        "id": "U0666",
        "name": "mallory",
        "tz": "UTC",
        "profile": {"display_name": "<!channel> <https://evil.example|IFRC>"},
    }
    await slack.dm("hello", user="U0666", channel="D0666")
    [message] = slack.fake.posted("D0666")
    raw = json.dumps(message)
    assert "<!channel>" not in raw and "&lt;!channel&gt;" in texts(message["blocks"])
    assert "<!channel>" not in message["text"]


# ---------------------------------------------------------------------- reliability & security


async def test_forged_signature_and_stale_timestamp_are_rejected(slack: Slack) -> None:
    body = json.dumps(fixture("event_dm.json"))
    forged = sign(body, secret="not-the-secret")
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    at_start = list(slack.fake.calls)  # auth.test, done when the adapter started
    assert await slack.post(body, "application/json", signature=forged) == 401
    assert await slack.post(body, "application/json", signature=stale) == 401
    assert slack.fake.calls == at_start  # nothing processed


async def test_failed_verification_logs_one_line_without_the_body(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    payload = fixture("event_dm.json")
    payload["event"]["text"] = "a private message text 4711"
    body = json.dumps(payload)
    with caplog.at_level(logging.DEBUG):
        for _ in range(20):
            assert await slack.post(body, "application/json", signature=sign(body, "wrong")) == 401
    assert "4711" not in caplog.text and payload["event"]["user"] not in caplog.text
    lines = [r for r in caplog.records if "verification" in r.getMessage().lower()]
    assert len(lines) == 1, [r.getMessage() for r in lines]


async def test_auth_test_is_done_at_start_not_before_the_first_ack(
    min_core: Core, fake: FakeSlack
) -> None:
    adapter = await running(min_core, fake, before_response=False)
    try:
        assert len(fake.calls_to("auth.test")) == 1
        fake.hold("auth.test")  # a slow Slack API from now on: the ack must not wait for it
        async with aiohttp.ClientSession() as session:
            slack = Slack(adapter, fake, session)
            async with asyncio.timeout(5):
                assert await slack.dm("When was the migration policy adopted?") == 200
                await fake.wait_for(lambda: fake.posted("D0001"))
        assert len(fake.calls_to("auth.test")) == 1
    finally:
        fake.release("auth.test")
        await adapter.stop()


async def test_one_persons_events_are_handled_one_at_a_time(
    min_core: Core, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    active: dict[str, int] = {}
    most: dict[str, int] = {}
    real = min_core.handle

    async def handle(incoming: Any, **kw: Any) -> list[Reply]:
        user = incoming.person.user_id
        active[user] = active.get(user, 0) + 1
        most[user] = max(most.get(user, 0), active[user])
        await asyncio.sleep(0.05)  # long enough for a second event to arrive meanwhile
        try:
            return await real(incoming, **kw)
        finally:
            active[user] -= 1

    monkeypatch.setattr(min_core, "handle", handle)
    adapter = await running(min_core, fake, before_response=False)
    try:
        async with aiohttp.ClientSession() as session:
            slack = Slack(adapter, fake, session)
            await asyncio.gather(
                slack.dm("what is perco", user="U0001"),
                slack.dm("what is apmn", user="U0001"),
                slack.dm("what is perco", user="U0002", channel="D0002"),
            )
            async with asyncio.timeout(10):
                await fake.wait_for(lambda: len(fake.posted()) >= 3)
    finally:
        await adapter.stop()
    assert most == {"U0001": 1, "U0002": 1}


async def test_retried_event_is_processed_once(slack: Slack) -> None:
    payload = fixture("event_dm.json")
    assert await slack.event(payload) == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert await slack.event(payload, headers=retry) == 200
    assert await slack.event(payload, headers={**retry, "X-Slack-Retry-Num": "2"}) == 200
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_rate_limit_is_waited_out_and_the_message_delivered(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", 429, retry_after=0.2)
    assert await slack.dm("When was the migration policy adopted?") == 200
    attempts = slack.fake.calls_to("chat.postMessage")
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    [message] = slack.fake.posted("D0001")
    assert "November 2009" in message["text"]


async def test_server_error_is_retried(slack: Slack) -> None:
    slack.adapter.outbox.base_backoff = 0.05
    slack.fake.fail("chat.postMessage", 503, retry_after=None, error="service_unavailable")
    await slack.dm("When was the migration policy adopted?")
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert len(slack.fake.posted("D0001")) == 1


async def test_production_mode_acknowledges_before_working(min_core: Core, fake: FakeSlack) -> None:
    adapter = await running(min_core, fake, before_response=False)
    try:
        async with aiohttp.ClientSession() as session:
            slack = Slack(adapter, fake, session)
            fake.hold("chat.postMessage")  # the answer cannot be sent yet
            assert await slack.dm("When was the migration policy adopted?") == 200
            assert fake.posted() == []  # acknowledged while the work is still pending
            fake.release("chat.postMessage")
            async with asyncio.timeout(10):
                await fake.wait_for(lambda: fake.posted("D0001"))
            fake.hold("respond")
            assert await slack.command("topics") == 200
            assert fake.responses == []
            fake.release("respond")
            async with asyncio.timeout(10):
                await fake.wait_for(lambda: fake.responses)
    finally:
        await adapter.stop()


async def test_socket_mode_receives_acks_and_answers(min_core: Core, fake: FakeSlack) -> None:
    settings = slack_settings(
        min_core.settings, fake, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=""
    )
    adapter = SlackAdapter(min_core, settings, limits=UNPACED)  # the production ack-first mode
    await adapter.start()
    try:
        assert len(fake.sockets) == 1
        payload = fixture("event_dm.json")
        await fake.send_envelope("events_api", payload, "env-1")
        await fake.send_envelope("events_api", payload, "env-2", retry_attempt=1)  # a re-send
        async with asyncio.timeout(10):
            await fake.wait_for(lambda: len(fake.socket_acks) == 2 and fake.posted("D0001"))
        assert {a["envelope_id"] for a in fake.socket_acks} == {"env-1", "env-2"}
        [message] = fake.posted("D0001")
        assert "November 2009" in message["text"]
    finally:
        await adapter.stop()
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_settings_are_checked(min_core: Core) -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackAdapter(min_core, replace(min_core.settings, platform={"SLACK_SIGNING_SECRET": "x"}))
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackAdapter(min_core, replace(min_core.settings, platform={"SLACK_BOT_TOKEN": BOT_TOKEN}))
    with pytest.raises(ConfigError, match="SLACK_HTTP_PORT"):
        SlackAdapter(
            min_core,
            replace(
                min_core.settings,
                platform={
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": "x",
                    "SLACK_HTTP_PORT": "web",
                },
            ),
        )
    with pytest.raises(ConfigError, match="SLACK_HTTP_PORT"):  # a digit to isdigit(), not to int()
        SlackAdapter(
            min_core,
            replace(
                min_core.settings,
                platform={
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": "x",
                    "SLACK_HTTP_PORT": "²",
                },
            ),
        )


# ---------------------------------------------------------------------- generic reply mechanisms


async def test_live_message_key_is_posted_once_then_edited(slack: Slack) -> None:
    where = Where(
        channel="C0001",
        user="U0003",
        im=False,
        response_url=slack.fake.response_url("x"),
        command=True,
    )
    poll = (Choice("Yes", "vote:1:0"), Choice("No", "vote:1:1"))
    await slack.adapter.deliver([Reply("**Lunch?** 0 votes", choices=poll, key="poll-1")], where)
    [posted] = slack.fake.posted("C0001")  # public although it came from a slash command
    for n in (1, 2):
        await slack.adapter.deliver(
            [Reply(f"**Lunch?** {n} votes", choices=poll, key="poll-1")], where
        )
    await slack.adapter.push([Reply("**Lunch?** closed: 2 votes", key="poll-1")])
    [message] = slack.fake.posted("C0001")
    assert message["ts"] == posted["ts"]
    assert "closed: 2 votes" in texts(message["blocks"]) and buttons(message["blocks"]) == []
    assert await slack.adapter.core.storage.get_message_ref("slack", "poll-1") == (
        "C0001",
        posted["ts"],
    )


async def test_a_burst_of_tally_updates_is_coalesced(min_core: Core, fake: FakeSlack) -> None:
    adapter = await running(min_core, fake, limits=LIMITS)  # Slack's real pacing
    try:
        where = Where(channel="C0002", user="U0001", im=False, thread_ts="1700000200.000200")
        poll = (Choice("Yes", "vote:2:0"), Choice("No", "vote:2:1"))
        await adapter.deliver([Reply("0 votes", choices=poll, key="poll-2")], where)
        votes = [
            adapter.deliver([Reply(f"{n} votes", choices=poll, key="poll-2")], where)
            for n in range(1, 201)
        ]
        await asyncio.gather(*votes)
        [message] = fake.posted("C0002")
        assert message["thread_ts"] == "1700000200.000200"
        assert "200 votes" in texts(message["blocks"]) and buttons(message["blocks"]) == [
            "Yes",
            "No",
        ]
        assert len(fake.calls_to("chat.update")) <= 3  # 200 votes, a couple of edits
    finally:
        await adapter.stop()


async def test_attachments_go_to_the_askers_dm(slack: Slack) -> None:
    where = Where(
        channel="C0001",
        user="U0003",
        im=False,
        response_url=slack.fake.response_url("exp"),
        command=True,
    )
    export = Attachment("results-3.csv", b"option,votes\nYes,2\n", "text/csv")
    await slack.adapter.deliver([Reply("Results of poll 3", attachments=(export,))], where)
    [(file_id, shared)] = slack.fake.files.items()
    assert shared == {
        "channel": "D0003",
        "title": "results-3.csv",
        "content": b"option,votes\nYes,2\n",
    }
    assert slack.fake.calls_to("conversations.open")[0]["users"] == "U0003"
    notes = [texts(body["blocks"]) for _, body in slack.fake.responses]
    assert any("Results of poll 3" in n for n in notes) and any(
        "direct message" in n for n in notes
    )
    assert file_id in slack.fake.uploads


async def test_private_reply_to_a_mention_is_ephemeral(slack: Slack) -> None:
    where = Where(channel="C0001", user="U0002", im=False, thread_ts="1700000200.000200")
    await slack.adapter.deliver([Reply("only you", private=True), Reply("everyone")], where)
    [ephemeral] = slack.fake.ephemeral
    assert ephemeral["user"] == "U0002" and ephemeral["thread_ts"] == "1700000200.000200"
    [public] = slack.fake.posted("C0001")
    assert public["thread_ts"] == "1700000200.000200" and "everyone" in public["text"]


async def test_pushed_reply_to_a_chat(slack: Slack) -> None:
    await slack.adapter.push(
        [Reply("Reminder: the consultation closes today.", chat=Chat("C0009", private=False))]
    )
    [message] = slack.fake.posted("C0009")
    assert "closes today" in message["text"]
    assert slack.adapter.core.senders["slack"] == slack.adapter.push


async def test_a_failed_push_raises_so_the_delivery_stays_pending(slack: Slack) -> None:
    """The reminder scheduler marks a delivery sent only when push returns."""
    slack.fake.fail("chat.postMessage", 400, retry_after=None, error="channel_not_found")
    with pytest.raises(Exception, match="channel_not_found"):
        await slack.adapter.push([Reply("Reminder", chat=Chat("C0404", private=False))])
    assert not slack.fake.posted("C0404")


async def test_stopping_unregisters_the_sender(slack: Slack) -> None:
    core = slack.adapter.core
    assert "slack" in core.senders
    await slack.adapter.stop()
    assert "slack" not in core.senders
    assert not await core.push("slack", [Reply("late", chat=Chat("C1", private=False))])


async def question_action(ctx: Context, arg: str) -> list[Reply]:
    """A stand-in for a consultation question's button: the pressed question is
    replaced by its answer (no live buttons left), and the person gets a toast."""
    assert ctx.message.origin is not None
    return [
        Reply(f"**Q1** Which region? Your answer: {arg}", edit=ctx.message.origin),
        Reply("Saved.", notice=True),
        Reply("**Q2** Anything else?", choices=(Choice("No", "demoq:no"),)),
    ]


async def test_pressed_question_is_replaced_by_its_answer(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(handlers.ACTIONS, "demoq", question_action)
    where = Where(channel="D0001", user="U0001", im=True)
    question = Reply(
        "**Q1** Which region?", choices=(Choice("Africa", "demoq:af"), Choice("Asia", "demoq:as"))
    )
    await slack.adapter.deliver([question], where)
    [posted] = slack.fake.posted("D0001")
    assert await slack.press(posted, "Asia") == 200
    first, second = slack.fake.posted("D0001")
    assert first["ts"] == posted["ts"] and first["edits"] == 1
    assert "Your answer: as" in texts(first["blocks"]) and buttons(first["blocks"]) == []
    assert buttons(second["blocks"]) == ["No"]
    [(_, toast)] = slack.fake.responses
    assert toast["response_type"] == "ephemeral" and toast["replace_original"] is False
    # The same press delivered twice changes nothing.
    assert await slack.repeat_press() == 200
    assert len(slack.fake.posted("D0001")) == 2 and first["edits"] == 1
    assert len(slack.fake.responses) == 1


async def test_ephemeral_question_is_replaced_through_its_response_url(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A consultation started with /nsbot in a channel stays visible to the asker only.
    monkeypatch.setitem(handlers.ACTIONS, "demoq", question_action)
    where = Where(
        channel="C0001",
        user="U0003",
        im=False,
        response_url=slack.fake.response_url("cmd"),
        command=True,
    )
    await slack.adapter.deliver(
        [Reply("**Q1** Which region?", choices=(Choice("Asia", "demoq:as"),))], where
    )
    [(_, shown)] = slack.fake.responses
    ephemeral = {"channel": "C0001", "ts": "1700003000.000001", "blocks": shown["blocks"]}
    assert (
        await slack.press(ephemeral, "Asia", user="U0003", ephemeral=True, response_name="eph")
        == 200
    )
    replaced, toast, follow_up = (body for name, body in slack.fake.responses[1:] if name == "eph")
    assert replaced["replace_original"] is True and buttons(replaced["blocks"]) == []
    assert "Your answer: as" in texts(replaced["blocks"])
    assert toast["replace_original"] is False and "Saved." in toast["text"]
    assert follow_up["response_type"] == "ephemeral" and buttons(follow_up["blocks"]) == ["No"]
    assert slack.fake.posted() == [] and slack.fake.calls_to("chat.update") == []


async def test_stale_button_changes_nothing(slack: Slack) -> None:
    gone = {
        "channel": "D0001",
        "ts": "1600000000.000001",
        "blocks": [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Old"},
                        "value": "retired:1",
                        "action_id": "nsbot:0",
                    }
                ],
            }
        ],
    }
    assert await slack.press(gone, "Old") == 200
    assert slack.fake.posted() == [] and slack.fake.calls_to("chat.update") == []
    [(_, toast)] = slack.fake.responses  # only the presser is told the button is dead
    assert toast["response_type"] == "ephemeral"


async def test_live_message_in_a_channel_the_bot_cannot_post_to(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", 200, retry_after=None, error="not_in_channel")
    where = Where(
        channel="G0001",
        user="U0003",
        im=False,
        response_url=slack.fake.response_url("cmd"),
        command=True,
    )
    await slack.adapter.deliver(
        [Reply("Poll", choices=(Choice("Yes", "v:1"),), key="poll-9")], where
    )
    [(_, note)] = slack.fake.responses
    assert "/invite" in texts(note["blocks"])
    assert await slack.adapter.core.storage.get_message_ref("slack", "poll-9") is None


def test_manifest_asks_for_what_the_adapter_uses() -> None:
    manifest = yaml.safe_load((Path(__file__).parent.parent / "slack-manifest.yaml").read_text())
    settings = manifest["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == ["app_mention", "message.im"]
    assert settings["interactivity"]["is_enabled"] is True
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/nsbot"
    assert all(u.endswith("/slack/events") for u in [*urls, command["url"]])
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "app_mentions:read",
        "chat:write",
        "chat:write.public",
        "commands",
        "files:write",
        "im:history",
        "im:write",
        "users:read",
    ]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True


async def test_live_message_deleted_meanwhile_is_posted_again(slack: Slack) -> None:
    where = Where(channel="C0001", user="U0003", im=False)
    await slack.adapter.deliver([Reply("1 vote", key="poll-5")], where)
    [old] = slack.fake.posted("C0001")
    del slack.fake.messages[("C0001", old["ts"])]  # someone deleted the poll message
    await slack.adapter.deliver([Reply("2 votes", key="poll-5")], where)
    [new] = slack.fake.posted("C0001")
    assert new["ts"] != old["ts"] and "2 votes" in new["text"]
    assert await slack.adapter.core.storage.get_message_ref("slack", "poll-5") == (
        "C0001",
        new["ts"],
    )


def test_nsbot_run_builds_the_slack_adapter(min_core: Core, fake: FakeSlack) -> None:
    settings = slack_settings(min_core.settings, fake)
    [platform] = [p for p in runner.configured_platforms(settings) if p.name == "slack"]
    assert isinstance(runner.make_adapter(platform, min_core, settings), SlackAdapter)


# ---------------------------------------------------------------------- consultations and polls


COORDINATOR = "U0009"


@pytest.fixture
async def team(tmp_path: Path, min_kb: KnowledgeBase, fake: FakeSlack) -> AsyncIterator[Slack]:
    """Slack with the fixture consultations, and U0009 as a coordinator."""
    settings = replace(settings_for(tmp_path), coordinators=frozenset({f"slack:{COORDINATOR}"}))
    async with SqliteStorage(settings.db_path) as storage:
        core = Core(settings, min_kb, storage, clock=Clock(), consultations=load_catalog(settings))
        adapter = await running(core, fake)
        async with aiohttp.ClientSession() as session:
            yield Slack(adapter, fake, session)
        await adapter.stop()


def last_posted(slack: Slack, channel: str) -> dict[str, Any]:
    return slack.fake.posted(channel)[-1]


async def test_a_consultation_answered_in_slack(team: Slack) -> None:
    fake = team.fake
    assert await team.command("consult sample", user="U0001", channel="D0001") == 200
    # In the person's own DM with the bot, the answers are ordinary messages.
    assert fake.responses == [] and fake.calls_to("conversations.open")
    await team.press(last_posted(team, "D0001"), "I agree, start")
    await team.press(last_posted(team, "D0001"), "Skip")  # the one-time profile, after consent
    await team.press(last_posted(team, "D0001"), "Skip")
    q1 = copy.deepcopy(last_posted(team, "D0001"))  # as the person's client still shows it
    assert "Question 1 of 6" in texts(q1["blocks"])
    assert buttons(q1["blocks"]) == ["APMN", "PERCO", "None or other"]

    await team.press(q1, "PERCO")
    answered = fake.messages[("D0001", q1["ts"])]
    assert answered["edits"] == 1 and buttons(answered["blocks"]) == []  # no live buttons left
    assert "PERCO" in texts(answered["blocks"])
    q2 = last_posted(team, "D0001")
    assert "Question 2 of 6" in texts(q2["blocks"])

    # A stale press of the old buttons (a client that had not refreshed) changes nothing.
    posted = len(fake.posted("D0001"))
    await team.press(q1, "APMN")
    assert len(fake.posted("D0001")) == posted and answered["edits"] == 1
    assert [b for _, b in fake.responses][-1]["response_type"] == "ephemeral"

    await team.press(q2, "4")
    q3 = last_posted(team, "D0001")
    await team.press(q3, "☐ Access to services")
    q3 = fake.messages[("D0001", q3["ts"])]  # the same message, its boxes ticked
    assert buttons(q3["blocks"])[0] == "☑ Access to services"
    await team.press(q3, "☐ Missing migrants")
    await team.press(fake.messages[("D0001", q3["ts"])], "✔ Done")
    assert "Question 4 of 6" in texts(last_posted(team, "D0001")["blocks"])

    # Typed answers in the DM; Slack re-sends one of them: it counts once.
    await team.dm("no")
    retried = json.loads(team.last_event)
    await team.event(retried, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert "Question 5 of 6" in texts(last_posted(team, "D0001")["blocks"])
    await team.dm("skip")
    # As Slack sends it: "@channel" typed as a mention, "<!here>" typed as text.
    await team.dm("They need safe routes <!channel> &amp; &lt;!here&gt; legal aid")
    review = "\n".join(texts(m["blocks"]) for m in fake.posted("D0001")[-2:])
    assert "Your answers" in review and "@channel &amp; &lt;!here&gt; legal aid" in review
    assert "<!" not in json.dumps(fake.posted())  # nothing the bot posted can ping
    await team.press(last_posted(team, "D0001"), "✅ Send my answers")
    assert "Thank you!" in texts(last_posted(team, "D0001")["blocks"])

    core = team.adapter.core
    c = core.consultations.get("sample")
    assert c is not None
    row = await core.storage.get_response(c.id, core.pseudonyms.respondent(c.id, "slack:U0001"))
    assert row is not None and row.status == "submitted"
    assert row.answers["network"] == "perco" and row.answers["hsp"] == "no"
    assert row.answers["priorities"] == ["services", "missing"]
    assert row.answers["story"] == "They need safe routes @channel & <!here> legal aid"

    # The coordinator exports the responses from their DM: a file in that DM.
    await team.command("export sample", user=COORDINATOR, channel="D0009")
    [shared] = fake.files.values()
    assert shared["channel"] == "D0009" and shared["title"].startswith("sample-")
    assert b"perco" in shared["content"].lower()


async def test_a_quick_poll_voted_by_three_people(team: Slack) -> None:
    fake = team.fake
    await team.command("poll Which topic first? | Access to services | Climate", user=COORDINATOR)
    [poll] = fake.posted("C0001")  # posted for the channel although asked by slash command
    assert buttons(poll["blocks"]) == ["Access to services", "Climate"]
    for user, choice in (
        ("U0001", "Climate"),
        ("U0002", "Climate"),
        ("U0003", "Access to services"),
    ):
        assert await team.press(poll, choice, user=user) == 200
    [tally] = fake.posted("C0001")
    assert tally["ts"] == poll["ts"] and tally["edits"] == 3
    shown = texts(tally["blocks"])
    assert " 1 · 33" in shown.split("Access to services")[1].split("Climate")[0]
    assert " 2 · 67" in shown.split("Climate")[1]
    assert buttons(tally["blocks"]) == buttons(poll["blocks"])  # still open for votes
    toasts = [b for name, b in fake.responses if name.startswith("press-")]
    assert len(toasts) == 3 and all(t["response_type"] == "ephemeral" for t in toasts)
    assert "Climate" in texts(toasts[0]["blocks"])
    # A non-coordinator cannot post a poll.
    await team.command("poll Lunch? | Yes | No", user="U0001")
    assert len(fake.posted("C0001")) == 1


async def test_a_poll_closing_on_time_shows_its_final_tally(team: Slack) -> None:
    await team.command("poll Lunch? | Yes | No --closes 1h", user=COORDINATOR)
    [poll] = team.fake.posted("C0001")
    await team.press(poll, "Yes", user="U0001")
    clock = team.adapter.core.clock
    assert isinstance(clock, Clock)
    clock.advance(hours=2)
    assert await polls.close_due_polls(team.adapter.core) == 1  # pushed through the adapter
    [final] = team.fake.posted("C0001")
    assert final["ts"] == poll["ts"] and buttons(final["blocks"]) == []
    assert " 1 · 100" in texts(final["blocks"])


async def test_an_event_is_acknowledged_once_stored_and_at_the_latest_after_ack_wait(
    min_core: Core, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.slack import adapter as slack_adapter

    gate = asyncio.Event()
    real = min_core.handle

    async def slow_storage(incoming: Any, **kw: Any) -> list[Reply]:
        await gate.wait()  # the core has not stored the event yet
        return await real(incoming, **kw)

    monkeypatch.setattr(min_core, "handle", slow_storage)
    adapter = await running(min_core, fake, before_response=False)
    try:
        async with aiohttp.ClientSession() as session:
            slack = Slack(adapter, fake, session)
            posting = asyncio.create_task(slack.dm("what is perco"))
            await asyncio.sleep(0.3)
            assert not posting.done(), "acknowledged before the event was stored"
            gate.set()
            async with asyncio.timeout(5):
                assert await posting == 200
            gate.clear()
            monkeypatch.setattr(slack_adapter, "ACK_WAIT", 0.2)
            async with asyncio.timeout(5):  # storage stuck: the ack goes anyway, in time
                assert await slack.dm("what is apmn", user="U0002", channel="D0002") == 200
            gate.set()
    finally:
        await adapter.stop()


async def test_an_event_waiting_behind_the_same_persons_is_stored_before_its_ack(
    min_core: Core, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ack went at ACK_WAIT while the event still waited for the person's earlier
    one: a crash then lost it. Now it is in the inbox before the ack, and taken out of
    it once handled."""
    from bot.adapters.slack import adapter as slack_adapter

    monkeypatch.setattr(slack_adapter, "ACK_WAIT", 0.3)
    gate, started = asyncio.Event(), asyncio.Event()
    real = min_core.handle

    async def slow_first(incoming: Incoming, **kw: Any) -> list[Reply]:
        if not started.is_set():
            started.set()
            await gate.wait()  # the person's first event takes long
        return await real(incoming, **kw)

    monkeypatch.setattr(min_core, "handle", slow_first)
    adapter = await running(min_core, fake, before_response=False)
    try:
        async with aiohttp.ClientSession() as session:
            slack = Slack(adapter, fake, session)
            first = asyncio.create_task(slack.dm("what is perco"))
            await asyncio.wait_for(started.wait(), 5)
            async with asyncio.timeout(5):
                assert await slack.dm("what is apmn") == 200  # acked, still waiting
            second = json.loads(slack.last_event)["event_id"]
            assert second in [event for event, _ in await min_core.kept("slack")]
            gate.set()
            async with asyncio.timeout(5):
                assert await first == 200
                await fake.wait_for(lambda: len(fake.posted("D0001")) == 2)
            await min_core.flush()
            assert await min_core.kept("slack") == []  # both handled: none left to redo
    finally:
        await adapter.stop()


async def test_an_event_stored_and_not_handled_is_handled_at_the_next_start(
    min_core: Core, fake: FakeSlack
) -> None:
    """What a crash left in the inbox (stored and acked, not handled) is not lost."""
    incoming = Incoming(
        Person("slack", "U0001"),
        Chat("D0001"),
        text="when was the migration policy adopted?",
        event_id="EvCRASH1",
    )
    where = Where(channel="D0001", user="U0001", im=True)
    await min_core.keep("slack", [("EvCRASH1", inbound.pack(incoming, where), "slack:U0001")])
    adapter = await running(min_core, fake)
    try:
        async with asyncio.timeout(5):
            await fake.wait_for(lambda: fake.posted("D0001"))
        [message] = fake.posted("D0001")
        assert "November 2009" in message["text"]
        await min_core.flush()
        assert await min_core.kept("slack") == []
    finally:
        await adapter.stop()


async def test_a_reply_the_outbox_could_not_send_is_sent_at_the_next_start(
    slack: Slack,
) -> None:
    await slack.adapter.outbox.stop()  # as at a SIGTERM: nothing more goes out
    assert await slack.dm("When was the migration policy adopted?") == 200
    assert slack.fake.posted("D0001") == []
    await slack.adapter.outbox.start()
    assert await slack.adapter.send_owed() == 1
    [message] = slack.fake.posted("D0001")
    assert "November 2009" in message["text"]
    await slack.adapter.core.flush()
    assert await slack.adapter.send_owed() == 0  # delivered: not owed any more
