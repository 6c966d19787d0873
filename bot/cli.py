"""The ``nsbot`` command line: chat, ask, run, and the curators' ``kb`` tools."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from bot import __version__, markup
from bot.app import load_kb, open_storage, running_core, setup_logging
from bot.config import Settings
from bot.errors import BotError, ContentError, Problem
from bot.knowledge import KnowledgeBase, check_knowledge
from bot.matcher import Matcher

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in problems:
        out.write(f"{problem}\n")


def _load_or_explain(settings: Settings) -> KnowledgeBase | None:
    try:
        return load_kb(settings)
    except ContentError as exc:
        sys.stderr.write("The knowledge base has problems, so the bot will not start:\n")
        _print_problems([p for p in exc.problems if not p.warning], sys.stderr)
        sys.stderr.write("Fix them and run 'nsbot kb check' to confirm.\n")
        return None


# ------------------------------------------------------------------ chat / run


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.terminal import TerminalChat

    if _load_or_explain(settings) is None:
        return EXIT_PROBLEMS

    async def main() -> None:
        async with running_core(settings) as core:
            await TerminalChat(core).run()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runner import configured_platforms, run_platforms

    platforms = configured_platforms(settings)
    if not platforms:
        sys.stderr.write(
            "No chat platform is configured. Set TELEGRAM_BOT_TOKEN (Telegram) and/or "
            "SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET (Slack), then run "
            "'nsbot run' again. To try the bot without a platform: 'nsbot chat'.\n"
        )
        return EXIT_USAGE
    if _load_or_explain(settings) is None:
        return EXIT_PROBLEMS
    try:
        asyncio.run(run_platforms(settings, platforms))
    except KeyboardInterrupt:
        pass
    return EXIT_OK


# ------------------------------------------------------------------ ask


def ask_record(matcher: Matcher, kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """One ``nsbot ask --json`` line. A public interface: keep the keys stable."""
    result = matcher.match(question)
    entry = kb.entries.get(result.id) if result.id else None
    return {
        "question": question,
        "status": result.status,
        "id": result.id,
        "answer": markup.to_plain(entry.answer) if entry else None,
        "score": round(result.score, 4),
        "suggestions": [{"id": s.id, "question": s.question} for s in result.suggestions],
    }


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    kb = _load_or_explain(settings)
    if kb is None:
        return EXIT_PROBLEMS
    matcher = Matcher(kb)
    questions: list[str] = [" ".join(args.question)] if args.question else []
    if not questions:
        questions = [line.strip() for line in sys.stdin if line.strip()]
    for question in questions:
        record = ask_record(matcher, kb, question)
        if args.json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        if len(questions) > 1:
            sys.stdout.write(f"Q: {question}\n")
        if record["status"] == "answer":
            sys.stdout.write(f"{record['answer']}\n[{record['id']}, score {record['score']}]\n")
        elif record["status"] == "suggest":
            sys.stdout.write("Did you mean:\n")
            for s in record["suggestions"]:
                sys.stdout.write(f"  - {s['question']} [{s['id']}]\n")
        else:
            sys.stdout.write(f"(no answer: fallback, score {record['score']})\n")
        if len(questions) > 1:
            sys.stdout.write("\n")
    sys.stdout.flush()
    return EXIT_OK


# ------------------------------------------------------------------ kb tools


def phrasing_conflicts(kb: KnowledgeBase, matcher: Matcher) -> list[Problem]:
    """Warn where one entry's phrasing would be answered by another entry."""
    warnings = []
    for entry in kb.entries.values():
        if entry.id.startswith("glossary-"):
            continue
        for question in entry.questions:
            result = matcher.match(question)
            winner = result.id or (result.suggestions[0].id if result.suggestions else None)
            if winner and winner != entry.id:
                other = kb.entries[winner]
                warnings.append(Problem(
                    entry.file, entry.line, entry.id,
                    f"the phrasing {question!r} is closer to entry '{winner}' "
                    f"({other.file}:{other.line}); make the two entries' phrasings more distinct",
                    warning=True,
                ))
    return warnings


def extra_checks() -> list[Callable[[Settings, KnowledgeBase | None], list[Problem]]]:
    """Other content validated by ``kb check`` (consultations...)."""
    return []


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    kb, problems = check_knowledge(settings.knowledge_dir, settings.faq_file)
    problems = list(problems)
    for check in extra_checks():
        problems += check(settings, kb)
    if kb is not None:
        problems += phrasing_conflicts(kb, Matcher(kb))
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    _print_problems(errors + warnings, sys.stdout)
    if kb is not None:
        sys.stdout.write(
            f"{len(kb.entries)} entries ({len(kb.terms)} glossary terms), {len(kb.events)} events, "
            f"{len(kb.topics)} topics. "
        )
    sys.stdout.write(f"{len(errors)} error(s), {len(warnings)} warning(s).\n")
    return EXIT_PROBLEMS if errors else EXIT_OK


def cmd_kb_list(settings: Settings, args: argparse.Namespace) -> int:
    kb = _load_or_explain(settings)
    if kb is None:
        return EXIT_PROBLEMS
    for entry in kb.entries.values():
        if args.json:
            record = {
                "id": entry.id, "questions": list(entry.questions), "answer": entry.answer,
                "topic": entry.topic, "source": kb.source_label(entry),
            }
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(f"{entry.id:<40} {entry.topic:<22} {entry.title}\n")
    return EXIT_OK


def cmd_kb_gaps(settings: Settings, args: argparse.Namespace) -> int:
    async def fetch() -> list[Any]:
        async with open_storage(settings) as storage:
            return await storage.gaps(args.limit)

    rows = asyncio.run(fetch())
    if args.json:
        for row in rows:
            sys.stdout.write(json.dumps({
                "question": row.question, "count": row.count,
                "last_asked": row.last_asked.isoformat(), "status": row.status,
            }, ensure_ascii=False) + "\n")
        return EXIT_OK
    if not rows:
        sys.stdout.write("No unanswered questions logged yet.\n")
    for row in rows:
        sys.stdout.write(f"{row.count:>5}  {row.last_asked:%Y-%m-%d}  {row.status:<8}  {row.question}\n")
    return EXIT_OK


# ------------------------------------------------------------------ wiring


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nsbot",
        description="Migration assistant for Red Cross and Red Crescent National Society staff.",
    )
    parser.add_argument("--version", action="version", version=f"nsbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("chat", help="chat with the bot in this terminal")
    p.set_defaults(func=cmd_chat)
    p = sub.add_parser("run", help="start every chat platform that has credentials configured")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("ask", help="answer questions (arguments, or one per line on standard input)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("question", nargs="*")
    p.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="knowledge base tools for curators")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    p = kb_sub.add_parser("check", help="validate every content file and report all problems")
    p.set_defaults(func=cmd_kb_check)
    p = kb_sub.add_parser("list", help="list every entry")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_kb_list)
    p = kb_sub.add_parser("gaps", help="questions the bot could not answer, most frequent first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kb_gaps)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        setup_logging(settings.log_level if args.command in {"run"} else "WARNING")
        result: int = args.func(settings, args)
        return result
    except BotError as exc:
        sys.stderr.write(f"nsbot: {exc}\n")
        return EXIT_PROBLEMS
    except BrokenPipeError:
        return EXIT_OK
