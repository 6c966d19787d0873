"""The ``nsbot`` command line: chat, ask, run, and the curators' ``kb`` tools
(``nsbot db``, the database's, lives in :mod:`bot.cli_db`; ``kb review`` and
``kb promote`` in :mod:`bot.cli_kb`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from bot import __version__
from bot.cli_db import add_db_commands
from bot.cli_kb import add_kb_curation_commands
from bot.cli_stats import add_stats_commands
from bot.config import Settings, shipped_knowledge_dir
from bot.dates import date_argument
from bot.errors import BotError, ContentError, Problem
from bot.logs import setup_logging

# Everything else is imported by the command that uses it. ``nsbot ask`` needs only the
# knowledge base and the matcher: storage, consultations, the core and the adapters
# would double its start-up (python -X importtime -m bot ask ...).
if TYPE_CHECKING:
    from bot.consultations import Catalog, Consultation
    from bot.knowledge import KnowledgeBase
    from bot.matcher import Matcher
    from bot.storage.base import ResponseRow

# numpy's OpenBLAS starts a thread per core when it is imported: a third of numpy's import
# time, on every start. The matcher does element-wise arithmetic, never linear algebra,
# so it has no use for them. Set before anything imports numpy; a value set by the
# operator is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


def in_file_order(problems: Sequence[Problem]) -> list[Problem]:
    """Problems by file, then line: the order a curator fixes them in."""
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in in_file_order(problems):
        out.write(f"{problem}\n")


def _explained(load: Callable[[], T], what: str) -> T | None:
    """Run a content loader; on problems, list them all for the curator and return None."""
    try:
        return load()
    except ContentError as exc:
        sys.stderr.write(f"{what} have problems, so the bot will not start:\n")
        _print_problems([p for p in exc.problems if not p.warning], sys.stderr)
        sys.stderr.write("Fix them and run 'nsbot kb check' to confirm.\n")
        return None


def _load_or_explain(settings: Settings, *, consultations: bool = True) -> KnowledgeBase | None:
    """The knowledge base, or None after listing every error that stops the bot: the
    same errors, in the same order, as ``nsbot kb check`` (consultation files included
    unless the command does not use them)."""
    from bot.index_cache import cached_index, checks_passed, record_checks_passed
    from bot.knowledge import check_knowledge

    cached = cached_index(settings)  # content that was indexed before has passed this check
    kb, problems = (
        (cached[0], []) if cached else check_knowledge(settings.knowledge_dir, settings.faq_file)
    )
    # The same content read by the same code passed these checks before: a start need
    # not parse every consultation twice (running_core loads them anyway).
    checked = consultations and checks_passed(settings)
    if consultations and not checked:
        for check in extra_checks():
            problems = [*problems, *check(settings, kb)]
    errors = [p for p in problems if not p.warning]
    if kb is None or errors:
        sys.stderr.write("The content files have problems, so the bot will not start:\n")
        _print_problems(errors, sys.stderr)
        sys.stderr.write("Fix them and run 'nsbot kb check' to confirm.\n")
        return None
    if consultations and not checked:
        record_checks_passed(settings)
    return kb


# ------------------------------------------------------------------ chat / run


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.adapters.terminal import TerminalChat
    from bot.app import running_core
    from bot.operations import operations

    if _load_or_explain(settings) is None:
        return EXIT_PROBLEMS

    async def main() -> None:
        # /healthz and /readyz only when NSBOT_HEALTH_PORT is set; SIGHUP reloads.
        async with operations(settings) as attach, running_core(settings) as core:
            attach(core)
            await TerminalChat(core).run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return EXIT_OK


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.runner import configured_platforms, missing_packages_line, run_platforms

    platforms = configured_platforms(settings)
    if not platforms:
        sys.stderr.write(
            "No chat platform is configured. Set TELEGRAM_BOT_TOKEN (Telegram) and/or "
            "SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET (Slack), then run "
            "'nsbot run' again. To try the bot without a platform: 'nsbot chat'.\n"
        )
        return EXIT_USAGE
    # Before anything is created on disk: a broken install must not leave a database behind.
    missing = missing_packages_line(platforms)
    if missing is not None:
        sys.stderr.write(missing + "\n")
        return EXIT_USAGE
    if _load_or_explain(settings) is None:
        return EXIT_PROBLEMS
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_platforms(settings, platforms))
    return EXIT_OK


# ------------------------------------------------------------------ ask


def ask_record(matcher: Matcher, kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """One ``nsbot ask --json`` line. A public interface: keep the keys stable. The answer
    is in the language the question was asked in, when the entry is translated into it."""
    from bot import markup
    from bot.matcher import answer_language

    result = matcher.match(question)
    entry = kb.entries.get(result.id) if result.id else None
    language = answer_language(entry, result.language, None) if entry else result.language
    return {
        "question": question,
        "status": result.status,
        "id": result.id,
        "answer": markup.to_plain(entry.answer_in(language)) if entry else None,
        "score": round(result.score, 4),
        "suggestions": [{"id": s.id, "question": s.question} for s in result.suggestions],
        "language": language or "en",
    }


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.index_cache import load_indexed

    checked = _load_or_explain(settings, consultations=False)
    if checked is None:
        return EXIT_PROBLEMS
    kb, matcher = load_indexed(settings, checked)  # the index _load_or_explain read, if any
    # Each argument is one question (quote it); none: one question per line of stdin.
    questions: list[str] = [q.strip() for q in args.question if q.strip()]
    if not questions and not args.question:
        questions = [line.strip() for line in sys.stdin if line.strip()]
    if not questions:
        # `nsbot ask ""`, or nothing on standard input: say so rather than print nothing.
        sys.stderr.write('nothing to ask: give a question (nsbot ask "who chairs the MRG?")\n')
        return EXIT_USAGE
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
                warnings.append(
                    Problem(
                        entry.file,
                        entry.line,
                        entry.id,
                        f"the phrasing {question!r} is closer to entry '{winner}' "
                        f"({other.file}:{other.line}); make the two entries' phrasings more distinct",
                        warning=True,
                    )
                )
    return warnings


def consultation_problems(settings: Settings, kb: KnowledgeBase | None) -> list[Problem]:
    """Every problem in the consultation files (knowledge/consultations/*.yaml)."""
    from bot.consultations import check_consultations
    from bot.ui import UI

    ui = UI.load()
    _, problems = check_consultations(
        settings.consultations_dir, yes_no=(ui.t("consult_yes"), ui.t("consult_no"))
    )
    return problems


def society_problems(settings: Settings, kb: KnowledgeBase | None) -> list[Problem]:
    """Every problem in the list of National Societies (knowledge/national-societies.yaml)."""
    from bot.societies import check_societies, path_in

    return check_societies(path_in(settings.knowledge_dir))[1]


def content_warnings(settings: Settings, kb: KnowledgeBase | None) -> list[Problem]:
    """Stale tense, long answers, citations without a page, event kinds (bot/kb_lint.py)."""
    from bot import kb_lint

    return kb_lint.content_warnings(kb) if kb is not None else []


def extra_checks(
    verbose: bool = False, *, translations: bool = False
) -> list[Callable[[Settings, KnowledgeBase | None], list[Problem]]]:
    """Other content validated by ``kb check`` and before the bot starts. The
    translation report (warnings only) is for ``kb check``: ``translations=True``."""
    from bot.translation_check import TranslationCheck

    checks: list[Callable[[Settings, KnowledgeBase | None], list[Problem]]] = [
        consultation_problems,
        society_problems,
        content_warnings,
    ]
    return [*checks, TranslationCheck(verbose)] if translations else checks


def kb_check_problems(
    settings: Settings, verbose: bool = False
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Everything ``nsbot kb check`` validates (also run on a ``kb promote``'s result)."""
    from bot.knowledge import check_knowledge
    from bot.matcher import Matcher

    kb, problems = check_knowledge(settings.knowledge_dir, settings.faq_file)
    problems = list(problems)
    for check in extra_checks(verbose=verbose, translations=True):
        problems += check(settings, kb)
    if kb is not None:
        problems += phrasing_conflicts(kb, Matcher(kb))
    return kb, problems


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    kb, problems = kb_check_problems(settings, getattr(args, "verbose", False))
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    _print_problems(errors, sys.stdout)
    _print_problems(warnings, sys.stdout)
    if kb is not None:
        sys.stdout.write(
            f"{len(kb.entries)} entries ({len(kb.terms)} glossary terms), {len(kb.events)} events, "
            f"{len(kb.topics)} topics. "
        )
    sys.stdout.write(f"{len(errors)} error(s), {len(warnings)} warning(s).\n")
    return EXIT_PROBLEMS if errors else EXIT_OK


def cmd_kb_list(settings: Settings, args: argparse.Namespace) -> int:
    kb = _load_or_explain(settings, consultations=False)
    if kb is None:
        return EXIT_PROBLEMS
    for entry in kb.entries.values():
        if args.json:
            record = {
                "id": entry.id,
                "questions": list(entry.questions),
                "answer": entry.answer,
                "topic": entry.topic,
                "source": kb.source_label(entry),
            }
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(f"{entry.id:<40} {entry.topic:<22} {entry.title}\n")
    return EXIT_OK


def cmd_kb_gaps(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    if args.clear is not None:
        return _clear_gaps(settings, args.clear)

    from bot.app import open_storage

    async def fetch() -> list[Any]:
        async with open_storage(settings) as storage:
            return await storage.gaps(args.limit)

    rows = asyncio.run(fetch())
    if args.json:
        for row in rows:
            sys.stdout.write(
                json.dumps(
                    {
                        "question": row.question,
                        "count": row.count,
                        "last_asked": row.last_asked.isoformat(),
                        "status": row.status,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return EXIT_OK
    if not rows:
        sys.stdout.write("No unanswered questions logged yet.\n")
    for row in rows:
        sys.stdout.write(
            f"{row.count:>5}  {row.last_asked:%Y-%m-%d}  {row.status:<8}  {row.question}\n"
        )
    return EXIT_OK


# ------------------------------------------------------------------ consultations


def _catalog_or_explain(settings: Settings) -> Catalog | None:
    from bot.app import load_catalog

    return _explained(lambda: load_catalog(settings), "The consultation files")


def _translator() -> Callable[..., str]:
    from bot.ui import UI

    ui = UI.load()

    def t(key: str, **values: object) -> str:
        return ui.t(key, None, **values)

    return t


def _consultation(catalog: Catalog, ident: str) -> Consultation | None:
    c = catalog.get(ident)
    if c is None:
        known = ", ".join(c.id for c in catalog) or "none"
        sys.stderr.write(f"nsbot: no consultation '{ident}' (known: {known})\n")
    return c


def _responses(
    settings: Settings, consultation_id: str, since: datetime | None = None
) -> tuple[list[ResponseRow], dict[str, datetime]]:
    import asyncio

    from bot.app import open_storage

    async def fetch() -> tuple[list[ResponseRow], dict[str, datetime]]:
        async with open_storage(settings) as storage:
            rows = await storage.responses(consultation_id, since)
            return rows, await storage.consultation_closures()

    return asyncio.run(fetch())


def cmd_consult_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core import utc_now
    from bot.results import format_moment

    catalog = _catalog_or_explain(settings)
    if catalog is None:
        return EXIT_PROBLEMS
    now = utc_now()
    t = _translator()
    if not len(catalog):
        sys.stdout.write(f"No consultations in {settings.consultations_dir}.\n")
    for c in catalog:
        rows, closures = _responses(settings, c.id)
        early = closures.get(c.id)
        state = "open" if c.is_open(now, early) else ("upcoming" if now < c.opens else "closed")
        done = sum(1 for r in rows if r.status == "submitted")
        if args.json:
            sys.stdout.write(
                json.dumps(
                    {
                        "id": c.id,
                        "title": c.title,
                        "state": state,
                        "opens": c.opens.isoformat(),
                        "closes": (min(c.closes, early) if early else c.closes).isoformat(),
                        "anonymous": c.anonymous,
                        "questions": len(c.questions),
                        "started": len(rows),
                        "completed": done,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            continue
        kind = t("results_anonymous") if c.anonymous else t("results_named")
        sys.stdout.write(
            f"{c.id:<32} {state:<9} {format_moment(c.opens, c.timezone)} – "
            f"{format_moment(c.closes, c.timezone)}  {kind}, {len(c.questions)} questions, "
            f"{len(rows)} started, {done} completed\n    {c.title}\n"
        )
    return EXIT_OK


def _named_consultation(settings: Settings, ident: str) -> Consultation | int:
    """The consultation a command names, or the exit code after saying what is wrong."""
    catalog = _catalog_or_explain(settings)
    if catalog is None:
        return EXIT_PROBLEMS
    c = _consultation(catalog, ident)
    return EXIT_USAGE if c is None else c


def cmd_consult_results(settings: Settings, args: argparse.Namespace) -> int:
    c = _named_consultation(settings, args.id)
    if isinstance(c, int):
        return c
    from bot import markup
    from bot.core import utc_now
    from bot.results import results_text
    from bot.societies import load_societies

    rows, closures = _responses(settings, c.id)
    canonical = load_societies(settings.knowledge_dir).canonical if args.by == "ns" else None
    text = results_text(
        _translator(),
        c,
        rows,
        now=utc_now(),
        closed_early=closures.get(c.id),
        by=args.by,
        canonical=canonical,
    )
    sys.stdout.write(markup.to_plain(text) + "\n")
    return EXIT_OK


def _poll_export(settings: Settings, ident: str, fmt: str) -> bytes | None:
    """A poll's results ("poll-2"), or None when no such poll is stored."""
    import asyncio

    from bot.app import open_storage
    from bot.core import utc_now
    from bot.polls import parse_poll_id
    from bot.results import poll_export

    number = parse_poll_id(ident)
    if number is None:
        return None

    async def fetch() -> bytes | None:
        async with open_storage(settings) as storage:
            poll = await storage.get_poll(number)
            if poll is None:
                return None
            tally = await storage.poll_tally(poll.id)
            return poll_export(_translator(), poll, tally, fmt, now=utc_now())

    return asyncio.run(fetch())


def cmd_consult_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core import utc_now
    from bot.results import consultation_export

    content: bytes | None = None
    if args.id.lower().startswith(("poll", "#")) or args.id.isdigit():
        content = _poll_export(settings, args.id, args.format)
        if content is None:
            sys.stderr.write(f"nsbot: no poll '{args.id}' (/results lists the recent ones)\n")
            return EXIT_USAGE
    else:
        c = _named_consultation(settings, args.id)
        if isinstance(c, int):
            return c
        rows, _ = _responses(settings, c.id, args.since)
        content = consultation_export(_translator(), c, rows, args.format, now=utc_now())
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()
    return EXIT_OK


def cmd_consult_purge(settings: Settings, args: argparse.Namespace) -> int:
    """Delete a closed consultation's responses, at the end of their retention period."""
    import asyncio

    from bot.app import open_storage
    from bot.core import utc_now

    catalog = _catalog_or_explain(settings)
    if catalog is None:
        return EXIT_PROBLEMS
    c = catalog.get(args.id)
    rows, closures = _responses(settings, args.id)
    if c is not None and c.is_open(utc_now(), closures.get(c.id)):
        sys.stderr.write(f"nsbot: '{args.id}' is still open; close it first (/close {args.id})\n")
        return EXIT_USAGE
    if not args.yes:
        sys.stderr.write(
            f"This deletes all {len(rows)} response(s) to '{args.id}' for good. "
            "Export them first if needed, then run again with --yes.\n"
        )
        return EXIT_USAGE

    async def purge() -> int:
        async with open_storage(settings) as storage:
            return await storage.delete_responses(args.id)

    sys.stdout.write(f"Deleted {asyncio.run(purge())} response(s) to '{args.id}'.\n")
    return EXIT_OK


def _clear_gaps(settings: Settings, older_than_days: int) -> int:
    """Curators clear the log once they have acted on it; 0 days clears everything."""
    import asyncio
    from datetime import timedelta

    from bot.app import open_storage
    from bot.core import utc_now

    before = utc_now() - timedelta(days=older_than_days) if older_than_days > 0 else None

    async def clear() -> int:
        async with open_storage(settings) as storage:
            return await storage.clear_gaps(before)

    count = asyncio.run(clear())
    which = f"older than {older_than_days} days" if before else "all"
    sys.stdout.write(f"Cleared {count} logged question(s) ({which}).\n")
    return EXIT_OK


# ------------------------------------------------------------------ wiring


def cmd_calendar(settings: Settings, args: argparse.Namespace) -> int:
    """The timeline, consultations included, as an .ics file on standard output."""
    import asyncio

    from bot import reminders
    from bot.app import open_storage
    from bot.core import utc_now
    from bot.handlers.timeline import filter_events, is_calendar_entry
    from bot.ics import events_ics
    from bot.matcher import Matcher
    from bot.ui import UI

    kb = _load_or_explain(settings)
    catalog = _catalog_or_explain(settings)
    if kb is None or catalog is None:
        return EXIT_PROBLEMS

    async def closures() -> dict[str, Any]:
        async with open_storage(settings) as storage:
            return await storage.consultation_closures()

    moments = reminders.consultation_moments(catalog, asyncio.run(closures()), _translator(), UTC)
    pool = sorted([*kb.events, *moments], key=lambda e: e.start)
    events = filter_events(kb, Matcher(kb), " ".join(args.filter), pool)
    events = [e for e in events if is_calendar_entry(e)]  # as /calendar: no plans, no periods
    if not events:
        sys.stderr.write(f"No event matches {' '.join(args.filter)!r}.\n")
        return EXIT_PROBLEMS
    sys.stdout.buffer.write(events_ics(kb, events, utc_now(), UI.load()))
    sys.stdout.flush()
    return EXIT_OK


def _eval_dir(args: argparse.Namespace) -> Path:
    if args.dir:
        return Path(args.dir)
    return shipped_knowledge_dir().parent / "tests" / "eval"


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Answer quality per language on tests/eval, beside the naive baseline; --fit
    refits the decision model on the dev split (never on held-out)."""
    from bot.evaluation import evaluate, load_split
    from bot.matcher import Matcher

    kb = _load_or_explain(settings)
    if kb is None:
        return EXIT_PROBLEMS
    folder = _eval_dir(args)
    if not (folder / "dev").is_dir() and not (folder / "questions.yaml").is_file():
        sys.stderr.write(f"no evaluation set in {folder}: pass --dir\n")
        return EXIT_USAGE
    if args.fit:
        from bot.fitting import fit_decision_model

        model = fit_decision_model(kb, load_split(folder, "dev"))
        sys.stdout.write(f"fitted on dev: {model.fitted_on}\n")
    splits = ["dev", "heldout"] if args.split == "all" else [args.split]
    out: dict[str, Any] = {}
    for split in splits:
        items = load_split(folder, split)
        report = evaluate(kb, items, Matcher(kb))
        out[split] = report.as_dict()
        if not args.json:
            sys.stdout.write(f"\n== {split} ({len(items)} items)\n{report.table()}\n")
            if args.misses:
                sys.stdout.write("\n".join(report.misses) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    return EXIT_OK


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
    p = sub.add_parser(
        "ask", help="answer questions (arguments, or one per line on standard input)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("question", nargs="*")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser(
        "eval", help="answer quality per language on tests/eval, beside a naive baseline"
    )
    p.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    p.add_argument("--dir", help="the evaluation folder (default: tests/eval of the checkout)")
    p.add_argument("--fit", action="store_true", help="refit the decision model on dev first")
    p.add_argument("--misses", action="store_true", help="list every wrong outcome")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "calendar", help="the timeline as an iCalendar file: nsbot calendar > events.ics"
    )
    p.add_argument("filter", nargs="*", help="a year or words, as in /timeline")
    p.set_defaults(func=cmd_calendar)

    kb = sub.add_parser("kb", help="knowledge base tools for curators")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    p = kb_sub.add_parser("check", help="validate every content file and report all problems")
    p.add_argument(
        "--verbose", action="store_true", help="list every untranslated item, not only the counts"
    )
    p.set_defaults(func=cmd_kb_check)
    p = kb_sub.add_parser("list", help="list every entry")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_kb_list)
    p = kb_sub.add_parser("gaps", help="questions the bot could not answer, most frequent first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument(
        "--clear",
        type=int,
        metavar="DAYS",
        help="delete the logged questions older than DAYS days (0: all of them)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kb_gaps)
    add_kb_curation_commands(kb_sub, kb_check_problems)

    consult = sub.add_parser("consult", help="consultations: list, results, export (coordinators)")
    consult_sub = consult.add_subparsers(
        dest="consult_command", required=True, metavar="CONSULT_COMMAND"
    )
    p = consult_sub.add_parser("list", help="every consultation, its window and response counts")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_consult_list)
    p = consult_sub.add_parser("results", help="results of one consultation, as in /results")
    p.add_argument("id")
    p.add_argument(
        "--by", choices=["region", "ns"], help="break answers down by region or National Society"
    )
    p.set_defaults(func=cmd_consult_results)
    p = consult_sub.add_parser(
        "export",
        help="a consultation's responses (one row each) or a poll's results (poll-2) "
        "to standard output: CSV (UTF-8 with BOM), xlsx or JSON",
    )
    p.add_argument("id")
    p.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    p.add_argument(
        "--since", type=date_argument, help="only responses changed since this date (UTC)"
    )
    p.set_defaults(func=cmd_consult_export)
    p = consult_sub.add_parser(
        "purge", help="delete every response to a closed consultation (end of retention)"
    )
    p.add_argument("id")
    p.add_argument("--yes", action="store_true", help="really delete")
    p.set_defaults(func=cmd_consult_purge)
    add_db_commands(sub)
    add_stats_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        setup_logging(
            settings.log_level if args.command in {"run"} else "WARNING", settings.log_format
        )
        result: int = args.func(settings, args)
        return result
    except BotError as exc:
        sys.stderr.write(f"nsbot: {exc}\n")
        return EXIT_PROBLEMS
    except BrokenPipeError:
        return EXIT_OK
