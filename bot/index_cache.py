"""The loaded knowledge base and its matcher index, kept between runs.

Parsing every YAML file with line numbers and building the index takes most of a
second, on every ``nsbot ask`` and every start. Both depend only on the content files
and on the code that reads them, so they are pickled under a key made of exactly those:
any edit to a content file, to the matcher or to its data makes a new key, and the old
file is simply never read again. The cache lives in ``$NSBOT_CACHE_DIR`` (default
``$XDG_CACHE_HOME/nsbot``, ``~/.cache/nsbot``), in a 0700 folder with 0600 files; when
it cannot be written the bot builds everything as before.

Only what this process wrote there is read back: the folder is the user's own, like
their shell history, and a pickle from elsewhere is never looked for.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from bot import __version__
from bot.config import Settings
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what is pickled changes shape
KEEP = 3  # indexes kept: a curator switching between a few versions of the content
_PACKAGE = Path(__file__).resolve().parent
# The code whose output is cached: reading content, matching, and their data files.
_CODE = ("knowledge.py", "matcher.py", "decision.py", "wordlists.py", "yamlfile.py")


def cache_dir(settings: Settings) -> Path:
    if settings.cache_dir is not None:
        return settings.cache_dir
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nsbot"


def content_key(settings: Settings) -> str:
    """A digest of everything the knowledge base and its index are built from."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    code = [_PACKAGE / name for name in _CODE] + sorted((_PACKAGE / "data").glob("*.yaml"))
    content = [*sorted(settings.knowledge_dir.rglob("*.yaml")), settings.faq_file]
    for path in [*code, *content]:
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()[:40]


def _checks_key(settings: Settings) -> str:
    """The content key, and every module of the bot: the checks before a start read the
    consultations, the societies and the UI strings through most of the package."""
    digest = hashlib.sha256(content_key(settings).encode())
    consultations = sorted(settings.consultations_dir.glob("*.yaml"))  # may live elsewhere
    code = sorted(_PACKAGE.rglob("*.py")) + sorted(_PACKAGE.rglob("locales/*.yaml"))
    for path in [*consultations, *code]:
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:40]


def checks_passed(settings: Settings) -> bool:
    """Whether this exact content, read by this exact code, passed the start-up checks
    before (errors stop a start, so only a clean verdict is ever recorded)."""
    return (cache_dir(settings) / f"checked-{_checks_key(settings)}").is_file()


def record_checks_passed(settings: Settings) -> None:
    folder = cache_dir(settings)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        marker = folder / f"checked-{_checks_key(settings)}"
        marker.touch(mode=0o600)
        older = sorted(folder.glob("checked-*"), key=lambda p: p.stat().st_mtime)[:-KEEP]
        for stale in older:
            stale.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("check verdict not written (%s)", exc)


def cached_index(settings: Settings) -> tuple[KnowledgeBase, Matcher] | None:
    """The knowledge base and matcher from the cache, if this content was indexed before."""
    path = cache_dir(settings) / f"index-{content_key(settings)}.pickle"
    try:
        with path.open("rb") as handle:
            kb, matcher = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return None
    if not isinstance(kb, KnowledgeBase) or not isinstance(matcher, Matcher):
        return None
    return kb, matcher


def load_indexed(settings: Settings) -> tuple[KnowledgeBase, Matcher]:
    """The knowledge base (validated; ContentError as usual) and its matcher, from the
    cache when the content is unchanged, else built and then cached."""
    found = cached_index(settings)
    if found is not None:
        return found
    kb = load_knowledge(settings.knowledge_dir, settings.faq_file)
    matcher = Matcher(kb)
    _store(settings, kb, matcher)
    return kb, matcher


def _store(settings: Settings, kb: KnowledgeBase, matcher: Matcher) -> None:
    folder = cache_dir(settings)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".index-")
        with os.fdopen(handle, "wb") as out:  # mkstemp makes it 0600
            pickle.dump((kb, matcher), out, protocol=pickle.HIGHEST_PROTOCOL)
        kept = folder / f"index-{content_key(settings)}.pickle"
        os.replace(temporary, kept)
        # Older versions of the content are never read again: keep the last few only.
        older = sorted(folder.glob("index-*.pickle"), key=lambda p: p.stat().st_mtime)[:-KEEP]
        for stale in older:
            stale.unlink(missing_ok=True)
    except OSError as exc:  # a read-only home, a full disk: the bot works without it
        log.debug("index cache not written (%s)", exc)
