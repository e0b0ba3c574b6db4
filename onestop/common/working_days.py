"""Working days (design §5): weekends and public holidays off, official make-up working days on.

Limits are counted from the day after receipt: add_working_days(t, 1) is the end
of the next working day after t. Years the data does not cover count weekends only;
years marked provisional (derived, not yet officially announced) say so through
is_provisional, so plans can tell the applicant.
"""

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

CHINA = timezone(timedelta(hours=8))
ENDS_KEPT = 1024  # (day, working days) -> end, per calendar: a few days' worth of limits


class WorkingCalendar:
    def __init__(self, data):
        self.years = set(data.get("years", []))
        self.provisional = set(data.get("provisional", []))
        self.holidays = {date.fromisoformat(d) for d in data.get("holidays", [])}
        self.workdays = {date.fromisoformat(d) for d in data.get("workdays", [])}
        # a calendar never changes once made: the end after a given day is computed once
        self._end_after = lru_cache(maxsize=ENDS_KEPT)(self._count_end_after)

    def is_working_day(self, day):
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def covers(self, day):
        """Whether the data knows the holidays of this day's year."""
        return day.year in self.years

    def is_provisional(self, moment):
        """Whether a date (or an aware datetime, read in China time) is in a year that is
        missing from the data or only provisionally known."""
        day = moment.astimezone(CHINA).date() if isinstance(moment, datetime) else moment
        return day.year in self.provisional or not self.covers(day)

    def add_working_days(self, start, days):
        """The end (23:59:59 China time) of the `days`-th working day after `start`.

        It depends on start's day only; a change computes the same few limits for each of
        its tasks, day after day (routing: K tasks sent at once), so they are kept."""
        return self._end_after(start.astimezone(CHINA).date(), days)

    def _count_end_after(self, local, days):
        remaining = days
        while remaining > 0:
            local += timedelta(days=1)
            if self.is_working_day(local):
                remaining -= 1
        end = datetime.combine(local, time(23, 59, 59), tzinfo=CHINA)
        return end.astimezone(timezone.utc)

    def working_days_between(self, start, end):
        """Working days after start's day up to and including end's day (China time)."""
        first = start.astimezone(CHINA).date()
        last = end.astimezone(CHINA).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
