"""Who acts: a staff member, or a system actor (the scheduler, the CLI, an anonymous request)."""

from __future__ import annotations

from dataclasses import dataclass

from cityapp.auth.models import StaffUser


@dataclass(frozen=True)
class SystemActor:
    """Who acts when no staff member does: the scheduler, the CLI, an anonymous request."""

    label: str
    id: None = None


SCHEDULER = SystemActor("system:scheduler")
CLI = SystemActor("cli")
ANONYMOUS = SystemActor("anonymous")

Actor = StaffUser | SystemActor


def actor_label(actor: Actor) -> str:
    return f"staff:{actor.id}" if isinstance(actor, StaffUser) else actor.label
