"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from cityapp.auth.models import ApiToken, AuditEntry, Installation, LoginThrottle, StaffUser
from cityapp.content.models import District
from cityapp.scheduler import JobRun
from cityapp.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyBallot,
    SurveyDeviceState,
    SurveyOption,
    SurveyQuestion,
    SurveyResultCell,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "District",
    "Installation",
    "JobRun",
    "LoginThrottle",
    "StaffUser",
    "Survey",
    "SurveyAnswer",
    "SurveyBallot",
    "SurveyDeviceState",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyResultCell",
]
