"""nsbot: an assistant for Red Cross and Red Crescent National Society staff.

One platform-neutral core (``bot.core``) with handlers (``bot.handlers``), a curated
knowledge base (``bot.knowledge``) and storage (``bot.storage``); thin adapters
(``bot.adapters``) translate each chat platform to and from the core's types.
"""

__version__ = "0.1.0"
