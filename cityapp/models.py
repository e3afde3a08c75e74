"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from cityapp.auth.models import ApiToken, AuditEntry, Installation, LoginThrottle, StaffUser
from cityapp.content import jobs as _content_jobs  # noqa: F401 - registers the content jobs
from cityapp.content.models import Announcement, ContentTombstone, NewsItem
from cityapp.feedback import jobs as _feedback_jobs  # noqa: F401 - registers the retention job
from cityapp.feedback.models import (
    Report,
    ReportCategory,
    ReportContact,
    ReportEvent,
    ReportFlag,
    ReportPhoto,
    ReportSupporter,
)
from cityapp.kiosks import jobs as _kiosk_jobs  # noqa: F401 - registers the fleet health jobs
from cityapp.kiosks.models import (
    Device,
    DeviceAvailability,
    DeviceCommand,
    DeviceHealthEvent,
    DeviceIncident,
    PairingRequest,
)
from cityapp.mail.models import MailMessage
from cityapp.media.models import MediaAsset
from cityapp.places.models import District
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
    "Announcement",
    "ApiToken",
    "AuditEntry",
    "ContentTombstone",
    "Device",
    "DeviceAvailability",
    "DeviceCommand",
    "DeviceHealthEvent",
    "DeviceIncident",
    "District",
    "Installation",
    "JobRun",
    "LoginThrottle",
    "MailMessage",
    "MediaAsset",
    "NewsItem",
    "PairingRequest",
    "Report",
    "ReportCategory",
    "ReportContact",
    "ReportEvent",
    "ReportFlag",
    "ReportPhoto",
    "ReportSupporter",
    "StaffUser",
    "Survey",
    "SurveyAnswer",
    "SurveyBallot",
    "SurveyDeviceState",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyResultCell",
]
