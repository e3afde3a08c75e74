"""Survey business rules. Services never commit; the caller commits once."""

from cityapp.surveys.service.ballots import (
    get_my_ballot,
    participant_key,
    participant_key_for_installation,
    submit_ballot,
)
from cityapp.surveys.service.builder import (
    add_question,
    create_survey,
    delete_question,
    delete_survey,
    get_question,
    get_survey,
    load_questions,
    reorder_questions,
    update_question,
    update_survey,
)
from cityapp.surveys.service.cells import rebuild_result_cells
from cityapp.surveys.service.lifecycle import (
    archive_survey,
    close_survey,
    flip_survey_statuses,
    open_surveys_query,
    publish_survey,
    staff_surveys_query,
)
from cityapp.surveys.service.results import (
    compute_results,
    ensure_results_visible,
    get_text_answer,
    moderate_text_answer,
    results_available,
    text_answers_query,
)
from cityapp.surveys.service.stele import record_stele_vote
from cityapp.surveys.service.validation import validate_survey

__all__ = [
    "add_question",
    "archive_survey",
    "close_survey",
    "compute_results",
    "create_survey",
    "delete_question",
    "delete_survey",
    "ensure_results_visible",
    "flip_survey_statuses",
    "get_my_ballot",
    "get_question",
    "get_survey",
    "get_text_answer",
    "load_questions",
    "moderate_text_answer",
    "open_surveys_query",
    "participant_key",
    "participant_key_for_installation",
    "publish_survey",
    "rebuild_result_cells",
    "record_stele_vote",
    "reorder_questions",
    "results_available",
    "staff_surveys_query",
    "submit_ballot",
    "text_answers_query",
    "update_question",
    "update_survey",
    "validate_survey",
]
