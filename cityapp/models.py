"""Every table cityapp owns, listed by domain: ``MODELS`` is what Alembic compares the
migrations against (create_app hands it to the migration setup)."""

from cityapp.auth.models import (
    ApiToken,
    AuditEntry,
    Installation,
    LoginThrottle,
    RevokedSession,
    StaffUser,
)
from cityapp.content.models import Announcement, ContentTombstone, NewsItem
from cityapp.feedback.models import (
    Report,
    ReportCategory,
    ReportContact,
    ReportEvent,
    ReportFlag,
    ReportPhoto,
    ReportSupporter,
)
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
from cityapp.scheduling import JobRun
from cityapp.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyBallot,
    SurveyDeviceState,
    SurveyOption,
    SurveyQuestion,
    SurveyResultCell,
)

MODELS = (
    Announcement,
    ApiToken,
    AuditEntry,
    ContentTombstone,
    Device,
    DeviceAvailability,
    DeviceCommand,
    DeviceHealthEvent,
    DeviceIncident,
    District,
    Installation,
    JobRun,
    LoginThrottle,
    MailMessage,
    MediaAsset,
    NewsItem,
    PairingRequest,
    Report,
    ReportCategory,
    ReportContact,
    ReportEvent,
    ReportFlag,
    ReportPhoto,
    ReportSupporter,
    RevokedSession,
    StaffUser,
    Survey,
    SurveyAnswer,
    SurveyBallot,
    SurveyDeviceState,
    SurveyOption,
    SurveyQuestion,
    SurveyResultCell,
)
