"""Staff listings of news and announcements: every status, recently changed first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from cityapp.content.service.visibility import matches_text


def staff_list_query(
    model: type, *, status: str | None = None, category: str | None = None, q: str | None = None
) -> tuple[Select, list[tuple[Any, str]]]:
    """The query and its keyset order, filtered by status, category and full text."""
    query = select(model)
    if status is not None:
        query = query.where(model.status == status)
    if category is not None:
        query = query.where(model.category == category)
    if q is not None:
        query = query.where(matches_text(model, q))
    return query, [(model.updated_at, "desc"), (model.id, "desc")]
