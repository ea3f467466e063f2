"""The platform's own database: cross-references, business events and dead letters, the audit
trail (`store.audit`), master-data syncs (`store.syncs`) and file intake (`store.intake`:
received files, trading partners, intake dead letters, EDI messages; store/intake.py).

`Store(settings.resolved_store_url)` opens and migrates it; `migrate(url)` only migrates.
"""

from store.migrator import migrate
from store.repository import Store

__all__ = ["Store", "migrate"]
