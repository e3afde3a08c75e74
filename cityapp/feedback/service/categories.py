"""Report categories (Open311 services) with typed attributes; attribute values checked."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, get_or_404
from cityapp.errors import Conflict, ValidationError
from cityapp.feedback.models import AttributeType, Report, ReportCategory
from cityapp.fields import (
    INT64_MAX,
    INT64_MIN,
    MAX_YEAR,
    MIN_YEAR,
    check_datetime_range,
    text_problem,
)

_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_LIST_TYPES = {AttributeType.SINGLEVALUELIST, AttributeType.MULTIVALUELIST}


def get_category(category_id: int) -> ReportCategory:
    return get_or_404(ReportCategory, category_id, "category")


def find_category(code: str) -> ReportCategory | None:
    return db.session.scalar(select(ReportCategory).where(ReportCategory.code == code))


def list_categories() -> list[ReportCategory]:
    """Every category, active or not, in display order (for staff)."""
    query = select(ReportCategory).order_by(ReportCategory.position, ReportCategory.id)
    return list(db.session.scalars(query))


def active_categories(*, include_private: bool = True) -> list[ReportCategory]:
    query = select(ReportCategory).where(ReportCategory.is_active.is_(True))
    if not include_private:
        query = query.where(ReportCategory.is_private.is_(False))
    return list(db.session.scalars(query.order_by(ReportCategory.position, ReportCategory.id)))


def _check_attributes(attributes: list[dict]) -> list[dict]:
    seen = set()
    cleaned = []
    for index, attribute in enumerate(attributes):
        where = f"attributes.{index}"
        code = attribute.get("code", "")
        if not _CODE_RE.match(code or ""):
            raise ValidationError(errors={where: ["code: lowercase letters, digits, _ and -."]})
        if code in seen:
            raise ValidationError(errors={where: [f"Duplicate attribute code {code!r}."]})
        seen.add(code)
        datatype = attribute.get("datatype")
        if datatype not in set(AttributeType):
            raise ValidationError(errors={where: [f"Unknown datatype {datatype!r}."]})
        values = attribute.get("values") or []
        if datatype in _LIST_TYPES and not values:
            raise ValidationError(errors={where: ["List attributes need values."]})
        if datatype not in _LIST_TYPES and values:
            raise ValidationError(errors={where: ["Only list attributes take values."]})
        keys = [str(v["key"]) for v in values]
        if len(set(keys)) != len(keys):
            raise ValidationError(errors={where: ["Value keys must be unique."]})
        cleaned.append(
            {
                "code": code,
                "datatype": datatype,
                "required": bool(attribute.get("required", False)),
                "order": int(attribute.get("order") or index + 1),
                "description": attribute.get("description") or code,
                "datatype_description": attribute.get("datatype_description") or "",
                "values": [{"key": str(v["key"]), "name": v["name"]} for v in values],
            }
        )
    return sorted(cleaned, key=lambda a: a["order"])


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    if "code" in data and not _CODE_RE.match(data["code"] or ""):
        raise ValidationError(errors={"code": ["Lowercase letters, digits, _ and -."]})
    if "name" in data and not (data["name"] or {}).get("de"):
        raise ValidationError(errors={"name": ["The German name is required."]})
    if "attributes" in data:
        data["attributes"] = _check_attributes(data["attributes"] or [])
    return data


def create_category(actor: Actor, **data: Any) -> ReportCategory:
    _validate(data)
    if find_category(data["code"]) is not None:
        raise Conflict("A category with this code exists.", errors={"code": ["Taken."]})
    category = ReportCategory(**data)
    db.session.add(category)
    db.session.flush()
    record_audit(
        actor,
        "report_category.create",
        object_type="report_category",
        object_id=category.id,
        summary=category.code,
    )
    return category


def update_category(actor: Actor, category: ReportCategory, **data: Any) -> ReportCategory:
    _validate(data)
    if "code" in data and data["code"] != category.code and find_category(data["code"]):
        raise Conflict("A category with this code exists.", errors={"code": ["Taken."]})
    changed = {k: v for k, v in data.items() if getattr(category, k) != v}
    for key, value in changed.items():
        setattr(category, key, value)
    if changed:
        db.session.flush()
        record_audit(
            actor,
            "report_category.update",
            object_type="report_category",
            object_id=category.id,
            summary="changed " + ", ".join(sorted(changed)),
            changes={k: v for k, v in changed.items() if k != "attributes"},
        )
    return category


def delete_category(actor: Actor, category: ReportCategory) -> str:
    """Delete an unused category; one that reports use is deactivated instead."""
    in_use = db.session.scalar(select(Report.id).where(Report.category_id == category.id).limit(1))
    if in_use is not None:
        if category.is_active:
            category.is_active = False
            record_audit(
                actor,
                "report_category.deactivate",
                object_type="report_category",
                object_id=category.id,
                summary=f"{category.code} (in use, deactivated instead of deleted)",
            )
        return "deactivated"
    record_audit(
        actor,
        "report_category.delete",
        object_type="report_category",
        object_id=category.id,
        summary=category.code,
    )
    db.session.delete(category)
    db.session.flush()
    return "deleted"


# --- attribute values ------------------------------------------------------------------


def _coerce(attribute: dict, value: Any) -> Any:
    datatype = attribute["datatype"]
    if datatype in (AttributeType.STRING, AttributeType.TEXT):
        if not isinstance(value, str):
            raise ValueError("a text")
        if text_problem(value):
            raise ValueError("text without control characters or lone surrogates")
        limit = 200 if datatype == AttributeType.STRING else 4000
        if len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value
    if datatype == AttributeType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("a number")
        if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ValueError("a number") from None
            if not math.isfinite(number):
                raise ValueError("a finite number")
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        raise ValueError("a number")
    if datatype == AttributeType.DATETIME:
        if not isinstance(value, str):
            raise ValueError("an ISO 8601 date-time")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("a date-time with a UTC offset")
        try:
            check_datetime_range(parsed)
        except ValueError:
            raise ValueError(f"a date-time in the years {MIN_YEAR} to {MAX_YEAR}") from None
        return parsed.isoformat()
    keys = {v["key"] for v in attribute["values"]}
    if datatype == AttributeType.SINGLEVALUELIST:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if str(value) not in keys:
            raise ValueError(f"one of {', '.join(sorted(keys))}")
        return str(value)
    values = value if isinstance(value, list) else [value]
    if not values or any(str(v) not in keys for v in values):
        raise ValueError(f"a list of {', '.join(sorted(keys))}")
    return sorted({str(v) for v in values})


def validate_attribute_values(category: ReportCategory, values: dict[str, Any]) -> dict:
    """Check values against the category's attributes: types, required, allowed values."""
    known = {a["code"]: a for a in category.attributes}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for code in values:
        if code not in known:
            errors[f"attributes.{code}"] = ["Unknown attribute for this category."]
    for code, attribute in known.items():
        value = values.get(code)
        if value is None or value == "" or value == []:
            if attribute["required"]:
                errors[f"attributes.{code}"] = ["Required."]
            continue
        try:
            cleaned[code] = _coerce(attribute, value)
        except ValueError as error:
            errors[f"attributes.{code}"] = [f"Must be {error}."]
    if errors:
        raise ValidationError("Some attributes are invalid.", errors=errors)
    return cleaned
