"""Operating hours and night-mode windows: validation, overnight windows, DST nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityapp.errors import ValidationError
from cityapp.kiosks.schedule import (
    expected_spans,
    is_expected_online,
    is_in_night_mode,
    is_operating,
    next_boundary,
    night_spans,
    validate_schedule,
    wall_to_utc,
)

BERLIN = ZoneInfo("Europe/Berlin")
ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]


def berlin(*args: int, fold: int = 0) -> datetime:
    """A Berlin wall-clock time as an aware UTC instant."""
    return datetime(*args, tzinfo=BERLIN, fold=fold).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def night(start: str, end: str, days: list[int] | None = None) -> dict:
    return {"night_mode": [{"days": days or ALL_DAYS, "start": start, "end": end}]}


# --- validation --------------------------------------------------------------------------


def test_validate_normalises():
    clean = validate_schedule(
        {"operating_hours": [{"days": [4, 0, 0, 2], "start": "06:00", "end": "24:00"}]}
    )
    assert clean == {
        "operating_hours": [{"days": [0, 2, 4], "start": "06:00", "end": "24:00"}],
        "night_mode": [],
    }
    assert validate_schedule(None) == {"operating_hours": [], "night_mode": []}
    assert validate_schedule({}) == {"operating_hours": [], "night_mode": []}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ([], ("_schema",)),
        ({"quiet": []}, ("quiet",)),
        ({"night_mode": {}}, ("night_mode",)),
        (
            {"night_mode": [{"days": [7], "start": "23:00", "end": "05:00"}]},
            ("night_mode", "0", "days"),
        ),
        (
            {"night_mode": [{"days": [], "start": "23:00", "end": "05:00"}]},
            ("night_mode", "0", "days"),
        ),
        (
            {"night_mode": [{"days": [True], "start": "23:00", "end": "05:00"}]},
            ("night_mode", "0", "days"),
        ),
        (
            {"night_mode": [{"days": [1], "start": "24:00", "end": "05:00"}]},
            ("night_mode", "0", "start"),
        ),
        (
            {"night_mode": [{"days": [1], "start": "7:00", "end": "05:00"}]},
            ("night_mode", "0", "start"),
        ),
        (
            {"night_mode": [{"days": [1], "start": "23:00", "end": "25:00"}]},
            ("night_mode", "0", "end"),
        ),
        (
            {"night_mode": [{"days": [1], "start": "23:00", "end": "23:00"}]},
            ("night_mode", "0", "end"),
        ),
        ({"night_mode": [{"days": [1], "start": "23:00"}]}, ("night_mode", "0", "end")),
        (
            {"night_mode": [{"days": [1], "start": "23:00", "end": "01:00", "x": 1}]},
            ("night_mode", "0", "x"),
        ),
        ({"operating_hours": ["06:00-22:00"]}, ("operating_hours", "0", "_schema")),
        (
            {"operating_hours": [{"days": [1], "start": "06:00", "end": "07:00"}] * 29},
            ("operating_hours",),
        ),
    ],
)
def test_validate_rejects_with_field_errors(data, path):
    with pytest.raises(ValidationError) as caught:
        validate_schedule(data)
    errors = caught.value.errors["schedule"]
    for key in path:
        errors = errors[key]
    assert errors and all(isinstance(message, str) for message in errors)
    assert caught.value.status == 422


# --- plain and overnight windows ---------------------------------------------------------


def test_empty_schedule_is_always_operating_never_night():
    at = utc(2026, 11, 22, 3, 0)
    assert is_operating({}, at, BERLIN)
    assert is_operating(None, at, BERLIN)
    assert not is_in_night_mode({}, at, BERLIN)
    assert is_expected_online({}, at, BERLIN)
    assert next_boundary({}, at, BERLIN) is None


def test_operating_hours_on_weekdays_only():
    schedule = {"operating_hours": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "22:00"}]}
    # 2026-11-20 is a Friday, 2026-11-21 a Saturday.
    assert is_operating(schedule, berlin(2026, 11, 20, 6, 0), BERLIN)
    assert is_operating(schedule, berlin(2026, 11, 20, 21, 59), BERLIN)
    assert not is_operating(schedule, berlin(2026, 11, 20, 22, 0), BERLIN)
    assert not is_operating(schedule, berlin(2026, 11, 20, 5, 59), BERLIN)
    assert not is_operating(schedule, berlin(2026, 11, 21, 12, 0), BERLIN)
    # Friday 22:00 -> next flip is Monday 06:00 (over the weekend).
    assert next_boundary(schedule, berlin(2026, 11, 20, 22, 0), BERLIN) == berlin(2026, 11, 23, 6)


def test_overnight_window_days_refer_to_the_start_day():
    # Only the night starting Friday: Fri 23:00 -> Sat 05:30.
    schedule = night("23:00", "05:30", days=[4])
    assert not is_in_night_mode(schedule, berlin(2026, 11, 20, 22, 59), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 11, 20, 23, 0), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 11, 21, 5, 29), BERLIN)  # Saturday morning
    assert not is_in_night_mode(schedule, berlin(2026, 11, 21, 5, 30), BERLIN)
    # Friday morning 03:00 belongs to Thursday's night, which is not listed.
    assert not is_in_night_mode(schedule, berlin(2026, 11, 20, 3, 0), BERLIN)
    assert not is_in_night_mode(schedule, berlin(2026, 11, 21, 23, 30), BERLIN)


def test_window_over_sunday_to_monday():
    schedule = night("22:00", "06:00", days=[6])  # Sunday night only
    # 2026-11-22 is a Sunday, 2026-11-23 a Monday.
    assert not is_in_night_mode(schedule, berlin(2026, 11, 22, 21, 59), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 11, 22, 23, 59), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 11, 23, 0, 0), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 11, 23, 5, 59), BERLIN)
    assert not is_in_night_mode(schedule, berlin(2026, 11, 23, 6, 0), BERLIN)
    # Saturday night (starting day 5) is not in the window.
    assert not is_in_night_mode(schedule, berlin(2026, 11, 22, 3, 0), BERLIN)
    assert next_boundary(schedule, berlin(2026, 11, 22, 12, 0), BERLIN) == berlin(2026, 11, 22, 22)
    assert next_boundary(schedule, berlin(2026, 11, 22, 22, 0), BERLIN) == berlin(2026, 11, 23, 6)
    assert next_boundary(schedule, berlin(2026, 11, 23, 6, 0), BERLIN) == berlin(2026, 11, 29, 22)


def test_operating_hours_over_sunday_midnight_into_monday():
    schedule = {"operating_hours": [{"days": [6], "start": "18:00", "end": "02:00"}]}
    assert is_operating(schedule, berlin(2026, 11, 23, 1, 0), BERLIN)  # Monday 01:00
    assert not is_operating(schedule, berlin(2026, 11, 23, 2, 0), BERLIN)
    assert not is_operating(schedule, berlin(2026, 11, 24, 1, 0), BERLIN)  # Tuesday 01:00


def test_touching_windows_merge_and_report_only_real_flips():
    schedule = {
        "night_mode": [
            {"days": ALL_DAYS, "start": "22:00", "end": "24:00"},
            {"days": ALL_DAYS, "start": "00:00", "end": "06:00"},
        ]
    }
    assert is_in_night_mode(schedule, berlin(2026, 11, 20, 0, 0), BERLIN)
    # Midnight is no flip: the next one after 23:00 is 06:00.
    assert next_boundary(schedule, berlin(2026, 11, 20, 23, 0), BERLIN) == berlin(2026, 11, 21, 6)


def test_whole_week_window_has_no_boundary():
    schedule = {"operating_hours": [{"days": ALL_DAYS, "start": "00:00", "end": "24:00"}]}
    assert is_operating(schedule, berlin(2026, 3, 29, 2, 30), BERLIN)
    assert next_boundary(schedule, berlin(2026, 3, 28, 12, 0), BERLIN) is None


def test_expected_is_operating_minus_night_mode():
    schedule = {
        "operating_hours": [{"days": ALL_DAYS, "start": "05:00", "end": "23:30"}],
        "night_mode": [{"days": ALL_DAYS, "start": "23:00", "end": "06:00"}],
    }
    assert not is_expected_online(schedule, berlin(2026, 11, 20, 5, 30), BERLIN)  # night
    assert is_expected_online(schedule, berlin(2026, 11, 20, 6, 0), BERLIN)
    assert not is_expected_online(schedule, berlin(2026, 11, 20, 23, 15), BERLIN)
    spans = expected_spans(schedule, berlin(2026, 11, 20, 0, 0), berlin(2026, 11, 21, 0, 0), BERLIN)
    assert spans == [(berlin(2026, 11, 20, 6, 0), berlin(2026, 11, 20, 23, 0))]
    # Boundaries: 06:00 (night ends), 23:00 (night starts), 23:30 (operating ends), 05:00.
    at = berlin(2026, 11, 20, 12, 0)
    assert next_boundary(schedule, at, BERLIN) == berlin(2026, 11, 20, 23, 0)
    assert next_boundary(schedule, berlin(2026, 11, 20, 23, 0), BERLIN) == berlin(
        2026, 11, 20, 23, 30
    )
    assert next_boundary(schedule, berlin(2026, 11, 20, 23, 30), BERLIN) == berlin(
        2026, 11, 21, 5, 0
    )


# --- DST: spring forward (2026-03-29, 02:00-03:00 does not exist) --------------------------


def test_nonexistent_wall_time_is_the_jump():
    jump = utc(2026, 3, 29, 1, 0)  # 03:00 CEST = 02:00 CET never shown
    assert wall_to_utc(date(2026, 3, 29), "02:30", BERLIN) == jump
    assert wall_to_utc(date(2026, 3, 29), "02:00", BERLIN) == jump
    assert wall_to_utc(date(2026, 3, 29), "03:00", BERLIN) == jump
    assert wall_to_utc(date(2026, 3, 29), "01:59", BERLIN) == utc(2026, 3, 29, 0, 59)


def test_spring_forward_overnight_23_to_0530():
    schedule = night("23:00", "05:30")
    # Saturday 2026-03-28 23:00 CET = 22:00 UTC, to Sunday 05:30 CEST = 03:30 UTC: 4.5 h.
    spans = night_spans(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), BERLIN)
    assert spans == [(utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 3, 30))]
    assert is_in_night_mode(schedule, utc(2026, 3, 29, 0, 59), BERLIN)  # 01:59 CET
    assert is_in_night_mode(schedule, utc(2026, 3, 29, 1, 0), BERLIN)  # 03:00 CEST
    assert is_in_night_mode(schedule, utc(2026, 3, 29, 3, 29), BERLIN)
    assert not is_in_night_mode(schedule, utc(2026, 3, 29, 3, 30), BERLIN)
    assert next_boundary(schedule, utc(2026, 3, 28, 23, 0), BERLIN) == utc(2026, 3, 29, 3, 30)


def test_spring_forward_window_0100_to_0330():
    schedule = night("01:00", "03:30")
    # 01:00 CET = 00:00 UTC; 03:30 CEST = 01:30 UTC: only 1.5 h of real time that night.
    spans = night_spans(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), BERLIN)
    assert spans == [(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 30))]
    assert next_boundary(schedule, utc(2026, 3, 28, 23, 30), BERLIN) == utc(2026, 3, 29, 0, 0)
    assert next_boundary(schedule, utc(2026, 3, 29, 0, 0), BERLIN) == utc(2026, 3, 29, 1, 30)
    assert not is_in_night_mode(schedule, utc(2026, 3, 29, 1, 30), BERLIN)
    # The next night is a normal CEST night again: 01:00 CEST = 23:00 UTC.
    assert next_boundary(schedule, utc(2026, 3, 29, 1, 30), BERLIN) == utc(2026, 3, 29, 23, 0)


def test_spring_forward_window_inside_the_gap_vanishes():
    schedule = night("02:15", "02:45", days=[6])
    assert night_spans(schedule, utc(2026, 3, 28), utc(2026, 3, 30), BERLIN) == []
    assert not is_in_night_mode(schedule, utc(2026, 3, 29, 1, 0), BERLIN)


def test_spring_forward_window_ending_in_the_gap_ends_at_the_jump():
    schedule = night("01:00", "02:30", days=[6])
    spans = night_spans(schedule, utc(2026, 3, 28), utc(2026, 3, 30), BERLIN)
    assert spans == [(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0))]


# --- DST: fall back (2026-10-25, 02:00-03:00 happens twice) --------------------------------


def test_ambiguous_wall_time_is_its_first_occurrence():
    assert wall_to_utc(date(2026, 10, 25), "02:30", BERLIN) == utc(2026, 10, 25, 0, 30)
    assert wall_to_utc(date(2026, 10, 25), "03:00", BERLIN) == utc(2026, 10, 25, 2, 0)


def test_fall_back_overnight_23_to_0530():
    schedule = night("23:00", "05:30")
    # Saturday 2026-10-24 23:00 CEST = 21:00 UTC, to Sunday 05:30 CET = 04:30 UTC: 7.5 h.
    spans = night_spans(schedule, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12), BERLIN)
    assert spans == [(utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 4, 30))]
    # Both passes through 02:30 are inside.
    assert is_in_night_mode(schedule, berlin(2026, 10, 25, 2, 30, fold=0), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 10, 25, 2, 30, fold=1), BERLIN)
    assert next_boundary(schedule, utc(2026, 10, 24, 22), BERLIN) == utc(2026, 10, 25, 4, 30)


def test_fall_back_window_0100_to_0330():
    schedule = night("01:00", "03:30")
    # 01:00 CEST = 23:00 UTC (Saturday); 03:30 CET = 02:30 UTC: 3.5 h, one span, no gap.
    spans = night_spans(schedule, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12), BERLIN)
    assert spans == [(utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 2, 30))]
    assert is_in_night_mode(schedule, berlin(2026, 10, 25, 2, 45, fold=0), BERLIN)
    assert is_in_night_mode(schedule, berlin(2026, 10, 25, 2, 45, fold=1), BERLIN)
    assert next_boundary(schedule, utc(2026, 10, 24, 23, 0), BERLIN) == utc(2026, 10, 25, 2, 30)


def test_fall_back_window_ending_in_the_repeated_hour_ends_the_first_time():
    schedule = night("23:00", "02:30", days=[5])  # Saturday night
    spans = night_spans(schedule, utc(2026, 10, 24), utc(2026, 10, 26), BERLIN)
    assert spans == [(utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 0, 30))]
    # The second 02:30 (CET) is outside: the window does not reopen.
    assert not is_in_night_mode(schedule, berlin(2026, 10, 25, 2, 15, fold=1), BERLIN)


def test_day_length_on_dst_days_for_expected_time():
    always = {}
    spring = expected_spans(always, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0), BERLIN)
    autumn = expected_spans(always, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0), BERLIN)
    assert spring[0][1] - spring[0][0] == timedelta(hours=23)
    assert autumn[0][1] - autumn[0][0] == timedelta(hours=25)


def test_zone_defaults_to_app_config(ctx, monkeypatch):
    schedule = night("23:00", "05:30")
    assert is_in_night_mode(schedule, berlin(2026, 11, 20, 23, 30))
    monkeypatch.setitem(ctx.config, "CITYAPP_TIMEZONE", "UTC")
    # 23:30 in Berlin is 22:30 UTC: before the window when the zone is UTC.
    assert not is_in_night_mode(schedule, berlin(2026, 11, 20, 23, 30))
    assert is_in_night_mode(schedule, utc(2026, 11, 20, 23, 30))


def test_staff_api_stores_the_normalised_schedule_and_refuses_a_bad_one(app, admin_client):
    from cityapp.auth.service.actors import CLI
    from cityapp.db import db
    from cityapp.kiosks.service.devices import create_device
    from tests.conftest import assert_problem

    with app.app_context():
        device_id = create_device(CLI, name="Marktplatz").id
        db.session.commit()
    url = f"/api/v1/staff/devices/{device_id}"
    bad = admin_client.patch(
        url, json={"schedule": {"night_mode": [{"days": [1], "start": "23:00", "end": "5:30"}]}}
    )
    body = assert_problem(bad, 422, field="schedule")
    assert list(body["errors"]["schedule"]["night_mode"]["0"]) == ["end"]
    good = admin_client.patch(
        url, json={"schedule": {"night_mode": [{"days": [6, 0], "start": "23:00", "end": "05:30"}]}}
    )
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["schedule"] == {
        "operating_hours": [],
        "night_mode": [{"days": [0, 6], "start": "23:00", "end": "05:30"}],
    }
