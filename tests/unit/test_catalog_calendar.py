"""The working-day calendar data: 2026 as officially announced, 2027 provisional."""

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from onestop.common.working_days import CHINA, WorkingCalendar
from services.catalog.domain import load_data

DATA = load_data()["calendar"]
CALENDAR = WorkingCalendar(DATA)


def days_of(year):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def test_2026_agrees_with_chinesecalendar_on_every_day():
    differ = [
        day
        for day in days_of(2026)
        if CALENDAR.is_working_day(day) != chinese_calendar.is_workday(day)
    ]
    assert differ == []


def test_2027_is_covered_but_marked_provisional():
    assert CALENDAR.covers(date(2027, 6, 1))
    assert CALENDAR.is_provisional(date(2027, 6, 1))
    assert not CALENDAR.is_provisional(date(2026, 6, 1))
    assert CALENDAR.is_provisional(date(2028, 1, 3))  # not in the data at all
    assert [s["status"] for s in DATA["sources"] if s["year"] == 2027] == ["provisional"]


@pytest.mark.parametrize(
    "day, working",
    [
        ("2027-01-01", False),  # New Year's Day, a Friday
        ("2027-02-05", False),  # Spring Festival eve
        ("2027-02-12", False),
        ("2027-02-15", True),
        ("2027-01-31", True),  # make-up Sunday
        ("2027-02-20", True),  # make-up Saturday
        ("2027-04-05", False),  # Qingming, a Monday
        ("2027-05-05", False),
        ("2027-05-08", True),
        ("2027-06-09", False),  # Dragon Boat
        ("2027-09-15", False),  # Mid-Autumn
        ("2027-10-07", False),
        ("2027-10-09", True),
    ],
)
def test_2027_follows_the_statutory_holidays(day, working):
    assert CALENDAR.is_working_day(date.fromisoformat(day)) is working


def test_2027_gives_exactly_the_13_statutory_days_off():
    # New Year 1, Spring Festival 4, Qingming 1, Labour Day 2, Dragon Boat 1, Mid-Autumn 1,
    # National Day 3: those on a weekend move to a weekday; bridging days off are paid back
    # by make-up weekend days, so the year loses exactly 13 working days
    working = sum(CALENDAR.is_working_day(day) for day in days_of(2027))
    weekdays = sum(day.weekday() < 5 for day in days_of(2027))
    assert weekdays - working == 1 + 4 + 1 + 2 + 1 + 1 + 3


def test_limits_skip_the_national_day_break_and_count_the_make_up_saturday():
    received = datetime(2026, 9, 30, 16, 0, tzinfo=CHINA)
    assert CALENDAR.add_working_days(received, 1).astimezone(CHINA).date() == date(2026, 10, 8)
    assert CALENDAR.add_working_days(received, 3).astimezone(CHINA).date() == date(2026, 10, 10)
    assert CALENDAR.working_days_between(received, datetime(2026, 10, 12, tzinfo=CHINA)) == 4
