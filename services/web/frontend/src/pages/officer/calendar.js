// Working days as the catalog's calendar counts them (GET /api/calendar: official holidays
// and the weekend days worked instead), never the browser's idea of a week. Dates are the
// calendar day in China Standard Time.
const DAY = 86400000;
const CST = 8 * 3600000;

// "2026-12-08" of an instant, in China Standard Time
export function cstDay(value) {
  return new Date(new Date(value).getTime() + CST).toISOString().slice(0, 10);
}

function isWorking(day, calendar) {
  if (calendar.holidays.has(day)) return false;
  if (calendar.workdays.has(day)) return true;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

export function makeCalendar(data) {
  return { holidays: new Set(data?.holidays || []), workdays: new Set(data?.workdays || []) };
}

// working days from today to the due date (0: due today; negative: overdue by that many)
export function workingDaysLeft(due, calendar, now = Date.now()) {
  if (!due || !calendar) return null;
  const today = cstDay(now);
  const end = cstDay(due);
  if (end === today) return 0;
  const forward = end > today;
  let [from, to] = forward ? [today, end] : [end, today];
  let count = 0;
  for (let t = Date.parse(`${from}T00:00:00Z`) + DAY; t <= Date.parse(`${to}T00:00:00Z`); t += DAY) {
    if (isWorking(new Date(t).toISOString().slice(0, 10), calendar)) count += 1;
  }
  return forward ? count : -Math.max(count, 1);
}

export function isOverdue(due, now = Date.now()) {
  return Boolean(due) && Date.parse(due) < now;
}

// overdue work first, then the soonest due; the same order for the same tasks every time
export function byUrgency(tasks, now = Date.now()) {
  return [...tasks].sort((a, b) => {
    const late = Number(isOverdue(b.due, now)) - Number(isOverdue(a.due, now));
    if (late) return late;
    const due = (a.due || "9999").localeCompare(b.due || "9999");
    return due || a.task_id.localeCompare(b.task_id);
  });
}
