"""Survey tables: surveys, questions, options, ballots and their normalised answers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityapp.db import TimestampMixin, db, utcnow
from cityapp.places.models import District


class SurveyStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class ResultsVisibility(enum.StrEnum):
    LIVE = "live"
    AFTER_CLOSE = "after_close"
    STAFF_ONLY = "staff_only"


class ResubmissionPolicy(enum.StrEnum):
    REPLACE = "replace"
    REJECT = "reject"


class Channel(enum.StrEnum):
    APP = "app"
    STELE = "stele"
    WEB = "web"


class QuestionType(enum.StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"
    YES_NO = "yes_no"
    RANKING = "ranking"
    FREE_TEXT = "free_text"


CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE}
OPTION_TYPES = CHOICE_TYPES | {QuestionType.RANKING}


class ModerationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


survey_districts = Table(
    "survey_districts",
    db.metadata,
    Column("survey_id", ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True),
)


class Survey(TimestampMixin, db.Model):
    """A survey or stele poll. Status is stored; opens_at/closes_at are enforced at query time."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_status_opens_at", "status", "opens_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Translations keyed by language; "de" is required.
    title: Mapped[dict] = mapped_column(JSON)
    description: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=SurveyStatus.DRAFT)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: [Channel.APP])
    results_visibility: Mapped[str] = mapped_column(
        String(20), default=ResultsVisibility.AFTER_CLOSE
    )
    resubmission: Mapped[str] = mapped_column(String(20), default=ResubmissionPolicy.REPLACE)
    # Minimum ballots per district group in breakdowns; None = CITYAPP_SURVEY_DISTRICT_K.
    district_threshold: Mapped[int | None]
    # Maintained with every ballot write: the cheap version key of results and their ETags.
    ballot_count: Mapped[int] = mapped_column(default=0)
    results_version: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey",
        order_by="SurveyQuestion.position",
        cascade="all, delete-orphan",
    )
    districts: Mapped[list[District]] = relationship(
        secondary=survey_districts, order_by=District.position
    )

    @property
    def is_stele_poll(self) -> bool:
        return Channel.STELE in (self.channels or [])

    @property
    def has_ballots(self) -> bool:
        return self.ballot_count > 0

    def effective_status(self, now: datetime | None = None) -> str:
        """The status as of ``now``: scheduled and open surveys follow their dates."""
        now = now or utcnow()
        status = self.status
        if status == SurveyStatus.SCHEDULED and self.opens_at and self.opens_at <= now:
            status = SurveyStatus.OPEN
        if status == SurveyStatus.OPEN and self.closes_at and self.closes_at <= now:
            status = SurveyStatus.CLOSED
        return status

    def __repr__(self) -> str:
        return f"<Survey {self.id} {self.status}>"


class SurveyQuestion(TimestampMixin, db.Model):
    __tablename__ = "survey_questions"
    __table_args__ = (Index("ix_survey_questions_survey_position", "survey_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict] = mapped_column(JSON)
    help_text: Mapped[dict | None] = mapped_column(JSON)
    is_required: Mapped[bool] = mapped_column(default=False)
    # multiple_choice
    min_selections: Mapped[int | None]
    max_selections: Mapped[int | None]
    # scale
    scale_min: Mapped[int | None]
    scale_max: Mapped[int | None]
    scale_min_label: Mapped[dict | None] = mapped_column(JSON)
    scale_max_label: Mapped[dict | None] = mapped_column(JSON)
    # free_text
    max_length: Mapped[int | None]
    # {"question_id": 3, "option_ids": [7]} or {"question_id": 4, "values": [true]}
    condition: Mapped[dict | None] = mapped_column(JSON)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    options: Mapped[list[SurveyOption]] = relationship(
        back_populates="question",
        order_by="SurveyOption.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<SurveyQuestion {self.id} {self.type} survey={self.survey_id}>"


class SurveyOption(TimestampMixin, db.Model):
    __tablename__ = "survey_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[dict] = mapped_column(JSON)
    # The "other" option: choosing it lets the participant add a short text.
    is_other: Mapped[bool] = mapped_column(default=False)

    question: Mapped[SurveyQuestion] = relationship(back_populates="options")

    def __repr__(self) -> str:
        return f"<SurveyOption {self.id} question={self.question_id}>"


class SurveyBallot(db.Model):
    """One participant's ballot. ``participant_key`` is an HMAC, never a token or an id."""

    __tablename__ = "survey_ballots"
    __table_args__ = (
        UniqueConstraint("survey_id", "participant_key", name="uq_survey_ballots_participant"),
        Index("ix_survey_ballots_survey_district", "survey_id", "district_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    participant_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20), default=Channel.APP)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<SurveyBallot {self.id} survey={self.survey_id}>"


class SurveyAnswer(db.Model):
    """One normalised answer row: an option, a value (scale, yes/no as 1/0, rank) or a text.

    Multiple choice and ranking answers are one row per option, so every aggregate is a plain
    GROUP BY on (question_id, option_id) or (question_id, value).
    """

    __tablename__ = "survey_answers"
    __table_args__ = (
        # Covers every aggregate (GROUP BY option/value, distinct ballots, the district join)
        # so results are read from the index alone.
        Index("ix_survey_answers_aggregate", "question_id", "option_id", "value", "ballot_id"),
        Index("ix_survey_answers_moderation", "survey_id", "moderation_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("survey_ballots.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"))
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_options.id", ondelete="CASCADE")
    )
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # Only for rows with text (free text, "other"): published once approved.
    moderation_status: Mapped[str | None] = mapped_column(String(20))
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    ballot: Mapped[SurveyBallot] = relationship(back_populates="answers")

    def __repr__(self) -> str:
        return f"<SurveyAnswer {self.id} ballot={self.ballot_id} question={self.question_id}>"


class SurveyResultCell(db.Model):
    """An incrementally maintained answer count per (question, district, cell), updated in the
    ballot's own transaction; results read these few rows instead of scanning answers.

    Cells: ``n`` respondents, ``o:<option>`` choices, ``v:<value>`` scale and yes/no values,
    ``o:<option>:r:<rank>`` rankings. ``district_key`` is the district id, 0 for none (a
    NULL would defeat the unique constraint the upsert relies on).
    """

    __tablename__ = "survey_result_cells"
    __table_args__ = (
        UniqueConstraint("question_id", "district_key", "cell", name="uq_survey_result_cells_cell"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"))
    district_key: Mapped[int] = mapped_column(default=0)
    cell: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SurveyResultCell q={self.question_id} d={self.district_key} {self.cell}>"


class SurveyDeviceState(db.Model):
    """Last stele vote per device and poll: the cooldown. The device key is stored hashed."""

    __tablename__ = "survey_device_states"
    __table_args__ = (
        UniqueConstraint("survey_id", "device_hash", name="uq_survey_device_states_device"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    last_vote_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<SurveyDeviceState survey={self.survey_id} {self.device_hash[:8]}>"
