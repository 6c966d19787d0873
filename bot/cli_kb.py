"""``nsbot kb review`` and ``nsbot kb promote``: the curators' loop. What the bot could
not answer well (:mod:`bot.curation`) becomes a phrasing or a draft entry
(:mod:`bot.promote`), checked like ``nsbot kb check`` before it is kept."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.dates import date_argument
from bot.errors import Problem

# Storage, curation and the matcher are imported by the commands that use them: every
# ``nsbot ask`` builds this parser, and must not pay for them (see bot/cli.py).
if TYPE_CHECKING:
    from bot.curation import DeskConversation, Group, Item
    from bot.feedback import Feedback
    from bot.knowledge import KnowledgeBase
    from bot.promote import Edit
    from bot.storage.base import LoggedGap

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
# ``nsbot kb check``'s checks, from bot.cli (passed in: cli imports this module).
Check = Callable[[Settings], "tuple[KnowledgeBase | None, list[Problem]]"]


def evidence(
    settings: Settings, since: datetime | None = None
) -> tuple[list[LoggedGap], list[Feedback], list[DeskConversation]]:
    """Everything the review reads: logged gaps, the whole 👎 log, desk conversations."""
    import asyncio

    from bot.app import open_storage
    from bot.curation import desk_conversation
    from bot.ui import UI

    ui = UI.load()

    async def fetch() -> tuple[list[LoggedGap], list[Feedback], list[DeskConversation]]:
        async with open_storage(settings) as storage:
            gaps = await storage.logged_gaps(since)
            # The whole 👎 log: references count every 👎 from the first.
            feedback: list[Feedback] = await storage.feedback_since(None)
            desk = []
            for h in await storage.closed_handoffs(since):
                c = desk_conversation(ui, h, await storage.relays_of(h.id))
                if c is not None:
                    desk.append(c)
            return gaps, feedback, desk

    return asyncio.run(fetch())


def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _item_lines(item: Item, first: bool, cluster_count: int) -> list[str]:
    from bot.curation import DESK, FEEDBACK

    label = {"gap": "gap", FEEDBACK: "👎", DESK: "desk"}[item.kind] + (
        f" ×{item.count}" if item.count > 1 else ""
    )
    lead = f"[{cluster_count}]" if first else ""
    mark = "" if first else "≈ "
    facts = [f"last {item.last_at:%Y-%m-%d}"]
    if item.status:
        facts.insert(0, item.status)
    if item.language:
        facts.append(item.language)
    if item.kind == DESK and item.helpful is not None:
        facts.append("helped" if item.helpful else "did not help")
    lines = [
        f"  {lead:>5} {item.ref:<6} {label:<8} {mark}{_one_line(item.question)}  ({', '.join(facts)})"
    ]
    pad = " " * 24
    if item.comments:
        lines.append(
            pad + "what was wrong: " + "; ".join(f'"{_one_line(c, 60)}"' for c in item.comments)
        )
    if item.answer:
        lines.append(pad + "desk answer: " + _one_line(item.answer))
    return lines


def review_text(groups: list[Group], kb: KnowledgeBase) -> str:
    if not groups:
        return "Nothing to review: no unanswered questions, 👎 or desk answers logged.\n"
    out: list[str] = []
    for g in groups:
        entry = kb.entries.get(g.entry_id) if g.entry_id else None
        head = f"{entry.id}: {entry.title}" if entry else "(close to no entry: new ground)"
        out.append(f"{head}  [{g.count}]")
        for c in g.clusters:
            for n, item in enumerate(c.items):
                out += _item_lines(item, n == 0, c.count)
        out.append("")
    out.append(
        "[n]: how often that question was asked, however worded (≈: a near-duplicate). "
        "Turn one into knowledge: nsbot kb promote REF [--entry ID | --new ID]"
    )
    return "\n".join(out) + "\n"


def cmd_kb_review(settings: Settings, args: argparse.Namespace) -> int:
    from bot.curation import as_record, review
    from bot.index_cache import load_indexed

    kb, matcher = load_indexed(settings)
    groups = review(matcher, *evidence(settings, args.since), since=args.since)
    if args.json:
        titles = {e.id: e.title for e in kb.entries.values()}
        for g in groups:
            sys.stdout.write(json.dumps(as_record(g, titles), ensure_ascii=False) + "\n")
        return EXIT_OK
    sys.stdout.write(review_text(groups, kb))
    return EXIT_OK


def _make_edit(
    settings: Settings, args: argparse.Namespace, kb: KnowledgeBase, item: Item, others: list[Item]
) -> tuple[Edit, str, str]:
    """(the edit, the entry it concerns, the question it should now answer)."""
    from bot.curation import DESK, FEEDBACK
    from bot.knowledge import LANG_RE
    from bot.promote import PromoteError, add_draft, add_phrasing

    if not args.new and (args.question or args.answer or args.topic or args.source):
        raise PromoteError("--question, --answer, --topic and --source go with --new ID")
    language = (args.lang or item.language or "en").lower()
    if not LANG_RE.match(language):
        raise PromoteError(f"--lang {args.lang!r} is not a language code like en, fr, es or ar")
    closest = kb.entries.get(item.entry_id) if item.entry_id else None
    if args.new:
        if language != "en":
            raise PromoteError(
                f"{item.ref} is in {language}, and an entry is written in English first: add "
                f"the entry to faq.yaml by hand, then 'nsbot kb promote {item.ref} --entry ID' "
                f"adds this question to its {language} phrasings"
            )
        answer = args.answer or item.answer
        if not answer:
            raise PromoteError(
                f"{item.ref} is a {item.kind}, with no answer to start the entry from (only desk "
                "conversations have one): pass --answer '...'"
            )
        topic = args.topic or (closest.topic if closest else None)
        source = args.source or (closest.sources[0].doc if closest and closest.sources else None)
        if topic is None or source is None:
            raise PromoteError(
                f"{item.ref} is close to no entry, so there is no topic and source to start "
                "from: pass --topic ID and --source DOC (ids from knowledge/topics.yaml and "
                "knowledge/sources.yaml)"
            )
        same = [o.question for o in others if (o.language or "en") == language]
        kind = "desk answer" if item.kind == DESK else item.kind
        edit = add_draft(
            kb,
            args.new,
            faq_path=settings.faq_file,
            questions=[item.question, *same, *args.question],
            answer=answer,
            topic=topic,
            source_doc=source,
            origin=f"{kind} {item.ref} of {item.last_at:%Y-%m-%d}",
        )
        return edit, args.new, item.question
    entry_id = args.entry
    if entry_id is None and item.kind == FEEDBACK:
        raise PromoteError(
            f"{item.ref} is a 👎 on the answer of '{item.entry_id}': the question finds that "
            "entry already. Pass --entry ID (the entry that should answer it) or --new ID"
        )
    entry_id = entry_id or item.entry_id
    if entry_id is None:
        raise PromoteError(
            f"{item.ref} is close to no entry: pass --entry ID (a phrasing of that entry) or "
            "--new ID (a draft entry)"
        )
    edit = add_phrasing(
        kb,
        entry_id,
        item.question,
        language,
        faq_path=settings.faq_file,
        knowledge_dir=settings.knowledge_dir,
        answer=item.answer if item.kind == DESK else None,
    )
    return edit, kb.resolve(entry_id), item.question


def _confirmed(args: argparse.Namespace) -> bool | None:
    """True to keep the change; None when nobody can be asked (no terminal, no --yes)."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return None
    sys.stdout.write("Keep this change? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_kb_promote(settings: Settings, args: argparse.Namespace, check: Check) -> int:
    from bot.curation import find, review
    from bot.index_cache import load_indexed
    from bot.matcher import Matcher
    from bot.promote import PromoteError, restore, write

    kb, matcher = load_indexed(settings)
    found = find(review(matcher, *evidence(settings)), args.ref)
    if found is None:
        sys.stderr.write(f"nsbot: no item '{args.ref}' to promote ('nsbot kb review' lists them)\n")
        return EXIT_USAGE
    item, cluster = found
    try:
        edit, entry_id, question = _make_edit(
            settings, args, kb, item, [i for i in cluster.items if i is not item]
        )
    except PromoteError as exc:
        sys.stderr.write(f"nsbot: {exc}\n")
        return EXIT_USAGE
    write(edit)
    try:
        new_kb, problems = check(settings)
    except BaseException:
        restore(edit)
        raise
    errors = [p for p in problems if not p.warning]
    if new_kb is None or errors:
        restore(edit)
        sys.stderr.write(f"Refused: with {edit.summary}, 'nsbot kb check' finds:\n")
        for p in errors:
            sys.stderr.write(f"{p}\n")
        sys.stderr.write(f"{edit.path} is restored as it was.\n")
        return EXIT_PROBLEMS
    sys.stdout.write(edit.diff(settings.knowledge_dir.parent))
    sys.stdout.write(f"\n{item.ref} -> {edit.summary}.\n")
    for p in problems:
        if p.warning and p.entry == entry_id:
            sys.stdout.write(f"{p}\n")
    result = Matcher(new_kb).match(question)
    verdict = (
        f"now answers {question!r} with '{result.id}'"
        if result.status == "answer"
        else f"would still {result.status} for {question!r}: make the phrasing more distinct"
    )
    sys.stdout.write(f"kb check: no errors; the bot {verdict}.\n")
    keep = _confirmed(args)
    if not keep:
        restore(edit)
        why = (
            "standard input is not a terminal: run again with --yes to write it"
            if keep is None
            else "not confirmed"
        )
        sys.stdout.write(f"Not changed ({why}).\n")
        return EXIT_USAGE if keep is None else EXIT_OK
    sys.stdout.write(f"Written to {edit.path}: review it and commit.\n")
    return EXIT_OK


def add_kb_curation_commands(
    kb_sub: argparse._SubParsersAction[argparse.ArgumentParser], check: Check
) -> None:
    p = kb_sub.add_parser(
        "review",
        help="gaps, 👎 answers and desk answers, by the entry each is closest to, most frequent first",
    )
    p.add_argument(
        "--since", type=date_argument, metavar="DATE", help="only what happened since (UTC)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per entry group")
    p.set_defaults(func=cmd_kb_review)
    p = kb_sub.add_parser(
        "promote",
        help="turn a reviewed question (REF, e.g. g12) into a phrasing or a draft entry",
    )
    p.add_argument("ref", metavar="REF", help="a reference from 'nsbot kb review' (g12, f3, d7)")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--entry", metavar="ID", help="add the question to this entry (default: the closest)"
    )
    target.add_argument("--new", metavar="ID", help="a draft entry with this id in faq.yaml")
    p.add_argument(
        "--lang", metavar="L", help="the question's language (default: as its words tell)"
    )
    p.add_argument(
        "--question",
        action="append",
        default=[],
        metavar="TEXT",
        help="with --new: another phrasing (an entry needs 2); repeat for more",
    )
    p.add_argument("--answer", metavar="TEXT", help="with --new: the answer, for a gap or a 👎")
    p.add_argument("--topic", metavar="ID", help="with --new: default the closest entry's")
    p.add_argument("--source", metavar="DOC", help="with --new: default the closest entry's")
    p.add_argument("--yes", action="store_true", help="keep the change without asking")
    p.set_defaults(func=lambda settings, args: cmd_kb_promote(settings, args, check))
