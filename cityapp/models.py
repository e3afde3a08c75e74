"""Every table cityapp owns, listed by package: ``MODELS`` is what Alembic compares the
migrations against (create_app hands it to the migration setup)."""

from cityapp import scheduling
from cityapp.auth import models as auth
from cityapp.content import models as content
from cityapp.feedback import models as feedback
from cityapp.kiosks import models as kiosks
from cityapp.mail import models as mail
from cityapp.media import models as media
from cityapp.places import models as places
from cityapp.surveys import models as surveys

MODELS = (
    # the core
    scheduling.JobRun,
    auth.StaffUser,
    auth.ApiToken,
    auth.AuditEntry,
    auth.Installation,
    auth.LoginThrottle,
    auth.RevokedSession,
    places.District,
    media.MediaAsset,
    mail.MailMessage,
    # the domains
    content.NewsItem,
    content.Announcement,
    content.ContentTombstone,
    surveys.Survey,
    surveys.SurveyQuestion,
    surveys.SurveyOption,
    surveys.SurveyBallot,
    surveys.SurveyAnswer,
    surveys.SurveyResultCell,
    surveys.SurveyDeviceState,
    feedback.ReportCategory,
    feedback.Report,
    feedback.ReportContact,
    feedback.ReportEvent,
    feedback.ReportFlag,
    feedback.ReportPhoto,
    feedback.ReportSupporter,
    kiosks.Device,
    kiosks.PairingRequest,
    kiosks.DeviceCommand,
    kiosks.DeviceHealthEvent,
    kiosks.DeviceIncident,
    kiosks.DeviceAvailability,
)
