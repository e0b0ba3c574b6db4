// The officer's work: the open tasks of their office (GET /api/officer/tasks), overdue
// work first, then the soonest due, with the time left in working days (the catalog's
// calendar) and each task's state. Re-read every 15 s while the page is visible.
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api.js";
import { Link } from "wouter";
import { ApiStatus, onlyFor, useApi } from "../../components/common.jsx";
import { DataTable } from "../../components/DataTable.jsx";
import { formatDate, formatDateTime } from "../../format.js";
import { byUrgency, isOverdue, makeCalendar, workingDaysLeft } from "./calendar.js";

export function Deadline({ due, calendar }) {
  const { t } = useTranslation("officer");
  if (!due) return <span>—</span>;
  const left = workingDaysLeft(due, calendar);
  const late = isOverdue(due);
  let words = "";
  if (late) words = t("deadline.overdue", { count: Math.abs(left ?? 1) || 1 });
  else if (left === 0) words = t("deadline.today");
  else if (left !== null) words = t("deadline.left", { count: left });
  return (
    <span className={late ? "status bad" : left !== null && left <= 1 ? "status wait" : ""}>
      {formatDate(due)}
      {words ? t("paren", { text: words }) : ""}
    </span>
  );
}

export function taskPath(taskId) {
  return `/officer/tasks/${encodeURIComponent(taskId)}`;
}

// the catalog's items by code (Chinese names), for the codes given
export function useItems(codes) {
  const [items, setItems] = useState({});
  const wanted = [...new Set(codes)].sort().join(",");
  useEffect(() => {
    let live = true;
    for (const code of wanted ? wanted.split(",") : []) {
      api(`/api/items/${encodeURIComponent(code)}`, { anonymous: true }).then(
        (item) => live && setItems((all) => ({ ...all, [code]: item })),
        () => {},
      );
    }
    return () => {
      live = false;
    };
  }, [wanted]);
  return items;
}

function QueueBody() {
  const { t, i18n } = useTranslation("officer");
  const result = useApi("/api/officer/tasks", { poll: 15000 });
  const { data } = result;
  const { data: cal } = useApi("/api/calendar", { anonymous: true });
  const calendar = cal ? makeCalendar(cal) : null;
  const tasks = byUrgency(data?.tasks || []);
  const items = useItems(tasks.map((task) => task.item_code));
  const overdue = tasks.filter((task) => isOverdue(task.due)).length;
  return (
    <>
      <h1>{t("queue.heading")}</h1>
      {data ? (
        <p>
          {t("queue.summary", { office: data.office, count: data.total })}
          {overdue ? <strong className="warning">{t("queue.overdue", { count: overdue })}</strong> : null}
        </p>
      ) : null}
      <ApiStatus result={result} empty={!tasks.length}>
        <p className="notice">{t("queue.empty")}</p>
      </ApiStatus>
      {tasks.length ? (
        <DataTable
          className="queue"
          caption={t("queue.caption")}
          captionHidden
          columns={[
            {
              key: "item",
              header: t("queue.item"),
              cell: (task) => (
                <Link href={taskPath(task.task_id)}>
                  {t("queue.open", {
                    item: i18n.language === "en" ? task.item_name : items[task.item_code]?.name_zh || task.item_name,
                    number: task.application_id.slice(0, 8),
                  })}
                </Link>
              ),
            },
            { key: "applicant", header: t("queue.applicant"), cell: (task) => task.applicant?.name },
            {
              key: "state",
              header: t("queue.state"),
              cell: (task) => (
                <>
                  {t(`state.${task.state}`, { defaultValue: task.state })}
                  {task.attempt > 1 ? t("paren", { text: t("queue.attempt", { count: task.attempt }) }) : ""}
                </>
              ),
            },
            { key: "sent", header: t("queue.sent"), cell: (task) => formatDateTime(task.sent_at) },
            { key: "due", header: t("queue.due"), cell: (task) => <Deadline due={task.due} calendar={calendar} /> },
          ]}
          rows={tasks}
          rowKey={(task) => task.task_id}
          rowClassName={(task) => (isOverdue(task.due) ? "overdue" : undefined)}
        />
      ) : null}
    </>
  );
}

export default onlyFor(["officer"], QueueBody);
