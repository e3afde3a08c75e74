"""Staff accounts: create, change (role, name, active flag, password), look up, list."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from cityapp.auth.models import Role, StaffUser
from cityapp.auth.service.actors import Actor
from cityapp.auth.service.audit import record_audit
from cityapp.auth.service.credentials import hash_password, validate_password
from cityapp.db import db, get_or_404
from cityapp.errors import Conflict, ValidationError


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_staff_user(user_id: int) -> StaffUser:
    return get_or_404(StaffUser, user_id, "staff account")


def find_staff_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def create_staff_user(
    actor: Actor, *, email: str, display_name: str, role: str, password: str | None = None
) -> StaffUser:
    email = normalise_email(email)
    if role not in {r.value for r in Role}:
        raise ValidationError(errors={"role": [f"Unknown role {role!r}."]})
    if find_staff_by_email(email) is not None:
        raise Conflict("A staff account with this email exists.", errors={"email": ["Taken."]})
    user = StaffUser(email=email, display_name=display_name.strip(), role=role, is_active=True)
    if password is not None:
        validate_password(password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit(
        actor,
        "staff.create",
        object_type="staff_user",
        object_id=user.id,
        summary=f"created {role} account",
        changes={"role": role, "display_name": user.display_name},
    )
    return user


def update_staff_user(actor: Actor, user: StaffUser, **changes: object) -> StaffUser:
    """Change role, display name, active flag or password; sessions die on deactivation."""
    applied: dict[str, object] = {}
    if "role" in changes and changes["role"] != user.role:
        if changes["role"] not in {r.value for r in Role}:
            raise ValidationError(errors={"role": ["Unknown role."]})
        if user.role == Role.ADMIN and _is_last_active_admin(user):
            raise Conflict("The last active admin cannot lose the admin role.")
        applied["role"] = user.role = str(changes["role"])
    if "display_name" in changes and changes["display_name"] != user.display_name:
        applied["display_name"] = user.display_name = str(changes["display_name"]).strip()
    if "is_active" in changes and changes["is_active"] != user.is_active:
        if not changes["is_active"] and user.role == Role.ADMIN and _is_last_active_admin(user):
            raise Conflict("The last active admin cannot be deactivated.")
        applied["is_active"] = user.is_active = bool(changes["is_active"])
        user.session_version += 1
    if changes.get("password"):
        validate_password(str(changes["password"]))
        user.password_hash = hash_password(str(changes["password"]))
        user.session_version += 1
        applied["password"] = "changed"
    if applied:
        record_audit(
            actor,
            "staff.update",
            object_type="staff_user",
            object_id=user.id,
            summary="changed " + ", ".join(sorted(applied)),
            changes=applied,
        )
    return user


def _is_last_active_admin(user: StaffUser) -> bool:
    others = db.session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == Role.ADMIN, StaffUser.is_active, StaffUser.id != user.id)
    )
    return not others


def staff_query(*, role: str | None = None, is_active: bool | None = None) -> Select:
    """Staff accounts, optionally filtered by role and active flag (unordered: callers page)."""
    query = select(StaffUser)
    if role is not None:
        query = query.where(StaffUser.role == role)
    if is_active is not None:
        query = query.where(StaffUser.is_active == is_active)
    return query
