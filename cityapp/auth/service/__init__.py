"""Auth business rules, one module per concern: actors, credentials (hashing, passwords),
audit, staff accounts, login, staff API tokens, installations, housekeeping. Services never
commit; the caller commits once.

The package re-exports the three names every domain needs (who acts, the scheduler as an
actor, the audit trail); everything else is imported from its module."""

from cityapp.auth.service.actors import SCHEDULER, Actor
from cityapp.auth.service.audit import record_audit

__all__ = ["SCHEDULER", "Actor", "record_audit"]
