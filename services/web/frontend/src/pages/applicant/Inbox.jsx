// The person's notifications (GET /api/notifications), newest first; each can be marked read.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { api } from "../../api.js";
import { ApiStatus, onlyFor, useApi } from "../../components/common.jsx";
import { formatDateTime } from "../../format.js";

function Messages() {
  const { t } = useTranslation("applicant");
  const { data, error, reload } = useApi("/api/notifications", { poll: 15000 });
  const [failure, setFailure] = useState(null);
  const [read, setRead] = useState({});
  const list = data?.notifications || [];
  const unread = list.filter((n) => !n.read && !read[n.id]).length;

  async function markRead(id) {
    setFailure(null);
    try {
      await api(`/api/notifications/${encodeURIComponent(id)}/read`, { method: "POST" });
      setRead((r) => ({ ...r, [id]: true }));
      reload();
    } catch (e) {
      setFailure(e);
    }
  }

  return (
    <>
      <h1>{t("inbox.heading")}</h1>
      {data ? <p role="status">{t("inbox.unread", { count: unread })}</p> : null}
      <ApiStatus result={{ data, error: error || failure, reload: error ? reload : null }} empty={!list.length}>
        <p>{t("inbox.none")}</p>
      </ApiStatus>
      <ul className="plain inbox">
        {list.map((n) => {
          const isRead = n.read || read[n.id];
          return (
            <li key={n.id} className={`panel ${isRead ? "read" : "unread"}`}>
              <h2 className="card-title">
                {isRead ? null : <span className="status wait">{t("inbox.new")}</span>} {n.title}
              </h2>
              <p>{n.text}</p>
              <p className="meta">
                <time dateTime={n.created_at}>{formatDateTime(n.created_at)}</time>
                {n.application_id ? (
                  <>
                    {" · "}
                    <Link href={`/applications/${n.application_id}`}>{t("inbox.open")}</Link>
                  </>
                ) : null}
              </p>
              {isRead ? null : (
                <button type="button" className="secondary small-button" onClick={() => markRead(n.id)}>
                  {t("inbox.mark_read")}
                  <span className="visually-hidden">{t("inbox.mark_read_which", { title: n.title })}</span>
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

export default onlyFor(["applicant"], Messages);
