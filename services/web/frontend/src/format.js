// Dates as people in Hunan read them: the calendar day in China Standard Time, in the
// language of the page (2026年12月3日 / 3 Dec 2026); working days counted by the catalog's
// calendar (GET /api/calendar), never by the browser's own.
import i18n from "./i18n/index.js";

const ZONE = "Asia/Shanghai";

function locale() {
  return i18n.language === "en" ? "en-GB" : "zh-CN";
}

export function formatDate(value) {
  if (!value) return "";
  const date = new Date(value.length === 10 ? `${value}T00:00:00+08:00` : value);
  return new Intl.DateTimeFormat(locale(), { timeZone: ZONE, dateStyle: "long" }).format(date);
}

export function formatDateTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(locale(), {
    timeZone: ZONE,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(value));
}

// "3 个工作日" / "3 working days"
export function workingDays(count) {
  return i18n.t("common:working_days", { count });
}

// an ID number as the screens show it: first and last digits only (the API masks too)
export function maskId(id) {
  if (!id || id.length < 8) return id || "";
  return `${id.slice(0, 3)}${"*".repeat(id.length - 7)}${id.slice(-4)}`;
}
