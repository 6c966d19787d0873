"""The loaded knowledge base and its matcher index, kept between runs.

Parsing every YAML file with line numbers and building the index takes most of a
second, on every ``nsbot ask`` and every start. Both depend only on the content files
and on the code that reads them, so they are pickled under a key made of exactly those:
any edit to a content file, to the matcher or to its data (the word lists included)
makes a new key, and the old file is simply never read again. The cache lives in
``$NSBOT_CACHE_DIR`` (default ``$XDG_CACHE_HOME/nsbot``, ``~/.cache/nsbot``), in a 0700
folder with 0600 files; when it cannot be written the bot builds everything as before.

The same file also keeps what the start of a chat or a bot reads next: the UI strings
and the consultations (under a key of every module of the bot and every file they are
read from), and the word lists the matcher tells languages with.

Only what this process wrote there is read back: the folder is the user's own, like
their shell history, and a pickle from elsewhere is never looked for.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__, wordlists
from bot.config import Settings
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher

if TYPE_CHECKING:
    from bot.consultations import Catalog
    from bot.ui import UI

log = logging.getLogger(__name__)

FORMAT = 2  # bump when what is pickled changes shape
KEEP = 3  # indexes kept: a curator switching between a few versions of the content
_PACKAGE = Path(__file__).resolve().parent
# The code whose output is cached: reading content, matching, and their data files.
_CODE = (
    "knowledge.py",
    "matcher.py",
    "wording.py",
    "readings.py",
    "question_shape.py",
    "foreign_subjects.py",
    "ordinals.py",
    "decision.py",
    "wordlists.py",
    "yamlfile.py",
)


def cache_dir(settings: Settings) -> Path:
    if settings.cache_dir is not None:
        return settings.cache_dir
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nsbot"


# Digests of the bot's own files and of the word lists, by file: a start computes its
# keys several times, and these files change only with an upgrade (which changes their
# size or time). Content files, which curators edit, are read again every time.
_digests: dict[Path, tuple[tuple[int, int, int], bytes]] = {}


def _code_digest(path: Path) -> bytes:
    st = path.stat()
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    known = _digests.get(path)
    if known is None or known[0] != stamp:
        known = (stamp, hashlib.sha256(path.read_bytes()).digest())
        _digests[path] = known
    return known[1]


def content_key(settings: Settings) -> str:
    """A digest of everything the knowledge base and its index are built from."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    code = [_PACKAGE / name for name in _CODE] + sorted((_PACKAGE / "data").glob("*.yaml"))
    content = [*sorted(settings.knowledge_dir.rglob("*.yaml")), settings.faq_file]
    for path in [*code, *wordlists.data_files(), *content]:
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes() if path in content else _code_digest(path))
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()[:40]


def _checks_key(settings: Settings) -> str:
    """The content key, and every module of the bot: the checks before a start read the
    consultations, the societies and the UI strings through most of the package."""
    digest = hashlib.sha256(content_key(settings).encode())
    consultations = sorted(settings.consultations_dir.glob("*.yaml"))  # may live elsewhere
    for path in consultations:
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    for path in _package_files():
        digest.update(str(path).encode())
        digest.update(_code_digest(path))
    return digest.hexdigest()[:40]


def _package_files() -> list[Path]:
    """Every module of the bot and its UI strings (os.walk: a start lists them twice, and
    pathlib's rglob took longer than hashing them)."""
    found = []
    for folder, subfolders, files in os.walk(_PACKAGE):
        subfolders[:] = [d for d in subfolders if d != "__pycache__"]
        in_locales = os.path.basename(folder) == "locales"
        found += [
            os.path.join(folder, f)
            for f in files
            if f.endswith(".py") or (in_locales and f.endswith(".yaml"))
        ]
    return [Path(p) for p in sorted(found)]


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
        _prune(folder, "checked-*")
    except OSError as exc:
        log.debug("check verdict not written (%s)", exc)


# ------------------------------------------------------------------ the index


@dataclass(frozen=True)
class _Arrays:
    """Many small numpy arrays (a posting list per word) as one: unpickling six thousand
    arrays one by one is a third of reading the index; slicing one back is cheap."""

    keys: list[Any]
    lengths: list[int]
    flat: Any  # numpy.ndarray

    def unpack(self) -> dict[Any, Any]:
        out, start = {}, 0
        for key, length in zip(self.keys, self.lengths, strict=True):
            out[key] = self.flat[start : start + length]
            start += length
        return out


def _packable(value: object) -> bool:
    import numpy as np

    if type(value) is not dict or len(value) < 2:
        return False
    arrays = list(value.values())
    return all(type(a) is np.ndarray and a.ndim == 1 for a in arrays) and (
        len({a.dtype for a in arrays}) == 1
    )


def _pack(value: dict[Any, Any]) -> _Arrays:
    import numpy as np

    keys = list(value)
    return _Arrays(keys, [len(value[k]) for k in keys], np.concatenate([value[k] for k in keys]))


def _matcher_from(state: dict[str, Any]) -> Matcher:
    """The matcher as it was pickled: its attributes set back, its arrays unpacked."""
    matcher = Matcher.__new__(Matcher)
    matcher.__dict__.update(
        {name: v.unpack() if isinstance(v, _Arrays) else v for name, v in state.items()}
    )
    return matcher


def _plain(cls: type) -> bool:
    """True when ``cls`` pickles the default way: a hook of its own is respected."""
    hooks = ("__getstate__", "__setstate__", "__reduce__", "__reduce_ex__")
    return all(getattr(cls, h, None) is getattr(object, h, None) for h in hooks)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # The matcher's own attributes, as they are: only how its arrays are stored changes
        # (test_index_cache.py checks that a read-back matcher answers like a fresh one).
        if type(obj) is Matcher and _plain(Matcher):
            state = {k: _pack(v) if _packable(v) else v for k, v in vars(obj).items()}
            return _matcher_from, (state,)
        return NotImplemented


# What this process read from the cache, by file: a start reads the index once, though
# the checks before it and the core after it both ask for it. One file of each kind is
# remembered: a bot reloaded after many edits does not keep every old index alive.
_read: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def _kind(path: Path) -> str:
    return path.name.split("-")[0]


def _cached(path: Path) -> dict[str, Any] | None:
    try:
        st = path.stat()
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)  # a file replaced is read again
        if path in _read and _read[path][0] == stamp:
            return _read[path][1]
        with path.open("rb") as handle:
            found = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None
    if not isinstance(found, dict):
        return None
    for older in [p for p in _read if _kind(p) == _kind(path)]:
        del _read[older]
    _read[path] = (stamp, found)
    return found


def cached_index(settings: Settings) -> tuple[KnowledgeBase, Matcher] | None:
    """The knowledge base and matcher from the cache, if this content was indexed before."""
    found = _cached(cache_dir(settings) / f"index-{content_key(settings)}.pickle")
    if found is None:
        return None
    kb, matcher, words = found.get("kb"), found.get("matcher"), found.get("words")
    if not isinstance(kb, KnowledgeBase) or not isinstance(matcher, Matcher):
        return None
    if isinstance(words, dict):
        wordlists.adopt(words)
    return kb, matcher


def load_indexed(
    settings: Settings, checked: KnowledgeBase | None = None
) -> tuple[KnowledgeBase, Matcher]:
    """The knowledge base (validated; ContentError as usual) and its matcher, from the
    cache when the content is unchanged, else built and then cached. ``checked``: the
    knowledge base the caller has just loaded and validated from these files, so that a
    first start does not parse them twice."""
    found = cached_index(settings)
    if found is not None:
        return found
    kb = checked or load_knowledge(settings.knowledge_dir, settings.faq_file)
    matcher = Matcher(kb)
    _store(settings, kb, matcher)
    return kb, matcher


def _store(settings: Settings, kb: KnowledgeBase, matcher: Matcher) -> None:
    words = wordlists.serialised()
    _write(
        settings,
        f"index-{content_key(settings)}.pickle",
        {"kb": kb, "matcher": matcher, "words": words},
    )


# ------------------------------------------------------------------ a chat's or a bot's start


def cached_start(settings: Settings) -> tuple[UI, Catalog] | None:
    """The UI strings and the consultations a start read before, if neither they nor any
    module of the bot changed since (the key of the start-up checks)."""
    from bot.consultations import Catalog
    from bot.ui import UI

    found = _cached(cache_dir(settings) / f"start-{_checks_key(settings)}.pickle")
    if found is None:
        return None
    ui, catalog = found.get("ui"), found.get("catalog")
    if not isinstance(ui, UI) or not isinstance(catalog, Catalog):
        return None
    return ui, catalog


def record_start(settings: Settings, ui: UI, catalog: Catalog) -> None:
    """Keep what a start loaded without errors (a start with errors stops)."""
    _write(settings, f"start-{_checks_key(settings)}.pickle", {"ui": ui, "catalog": catalog})


def _write(settings: Settings, name: str, value: dict[str, Any]) -> None:
    folder = cache_dir(settings)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:  # mkstemp makes it 0600
            _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        os.replace(temporary, folder / name)
        # Older versions of the content are never read again: keep the last few only.
        _prune(folder, name.split("-")[0] + "-*.pickle")
    except OSError as exc:  # a read-only home, a full disk: the bot works without it
        log.debug("cache file %s not written (%s)", name, exc)


def _prune(folder: Path, pattern: str) -> None:
    older = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)[:-KEEP]
    for stale in older:
        stale.unlink(missing_ok=True)
