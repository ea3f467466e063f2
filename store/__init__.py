"""The platform's own database: cross-references, business events and dead letters.

`Store(settings.resolved_store_url)` opens and migrates it; `migrate(url)` only migrates.
"""

from store.migrator import migrate
from store.repository import Store

__all__ = ["Store", "migrate"]
