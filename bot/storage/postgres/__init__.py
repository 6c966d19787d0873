"""PostgreSQL storage (``NSBOT_DATABASE_URL=postgresql://...``), for several replicas.

:mod:`.storage` implements :class:`bot.storage.Storage` (with :mod:`.handoff`, the
handoff store, mixed in), :mod:`.schema` holds the migrations, :mod:`.values` scrubs
what PostgreSQL text cannot hold, :mod:`.gate` keeps a unit of work exclusive within a
process, :mod:`.url` shows a URL without its password.
"""

from bot.storage.postgres.schema import MIGRATIONS
from bot.storage.postgres.storage import PostgresStorage
from bot.storage.postgres.url import is_postgres_url, redact

__all__ = ["MIGRATIONS", "PostgresStorage", "is_postgres_url", "redact"]
