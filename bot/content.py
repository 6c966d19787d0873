"""What the bot answers from, as one value: the knowledge base, its matcher index and
the consultations, loaded and validated together.

The core holds one :class:`Content` and replaces it whole on a reload
(:mod:`bot.reload`); each event reads the one it started with (:class:`Context` keeps
it), so a question being answered while a reload lands never mixes an old match with
a new knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.consultations import Catalog, load_consultations
from bot.index_cache import load_indexed
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.ui import UI


@dataclass(frozen=True)
class Content:
    kb: KnowledgeBase
    matcher: Matcher
    consultations: Catalog


def load_catalog(settings: Settings, ui: UI | None = None) -> Catalog:
    """Load the consultations or raise ContentError listing every problem.

    Yes/no options are labelled in English here, for results and exports; people see
    them in their own language, and may type yes or no in any (:mod:`bot.handlers.consult`).
    """
    ui = ui or UI.load()
    yes_no = (ui.t("consult_yes"), ui.t("consult_no"))
    return load_consultations(settings.consultations_dir, yes_no=yes_no)


def load_content(settings: Settings, ui: UI | None = None) -> Content:
    """Everything the bot answers from, or ContentError listing the problems that stop
    it (the knowledge base's first, then the consultations')."""
    kb, matcher = load_indexed(settings)
    return Content(kb, matcher, load_catalog(settings, ui))
