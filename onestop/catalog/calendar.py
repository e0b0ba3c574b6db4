"""Working days (design §5): weekends and public holidays off, official make-up working days on.

Limits are counted from the day after receipt: add_working_days(t, 1) is the end
of the next working day after t.
"""
from datetime import date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


class WorkingCalendar:
    def __init__(self, data):
        self.years = set(data.get("years", []))
        self.holidays = {date.fromisoformat(d) for d in data.get("holidays", [])}
        self.workdays = {date.fromisoformat(d) for d in data.get("workdays", [])}

    def is_working_day(self, day):
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start, days):
        """The end (23:59:59 China time) of the `days`-th working day after `start`."""
        local = start.astimezone(CHINA).date()
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
