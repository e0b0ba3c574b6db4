// The signed-in person's applications, newest first (GET /api/applications), with status,
// a page at a time.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { ApiStatus, onlyFor, useApi } from "../../components/common.jsx";
import { formatDateTime } from "../../format.js";
import { named, StatusBadge } from "./shared.jsx";

const PAGE = 20;

function List() {
  const { t, i18n } = useTranslation("applicant");
  const [offset, setOffset] = useState(0);
  const result = useApi(`/api/applications?limit=${PAGE}&offset=${offset}`, { poll: 10000 });
  const { data } = result;
  const scenarios = useApi("/api/scenarios", { anonymous: true });
  const names = Object.fromEntries((scenarios.data?.scenarios || []).map((s) => [s.code, named(s, i18n.language)]));
  const list = data?.applications || [];
  return (
    <>
      <h1>{t("applications.heading")}</h1>
      <ApiStatus result={result} empty={!list.length}>
        <p>
          {t("applications.none")} <Link href="/">{t("applications.find")}</Link>
        </p>
      </ApiStatus>
      {list.length ? (
        <ol className="application-list">
          {list.map((a) => (
            <li key={a.id} className="card">
              <h2 className="card-title">
                <Link href={`/applications/${a.id}`}>{names[a.scenario] || a.scenario}</Link>
              </h2>
              <p>
                <StatusBadge status={a.status} />
              </p>
              <p className="meta">
                {t("applications.meta", {
                  date: formatDateTime(a.submitted_at),
                  name: a.applicant?.name || "",
                  id: a.id,
                })}
              </p>
            </li>
          ))}
        </ol>
      ) : null}
      <nav aria-label={t("applications.pages")} className="button-row">
        {offset > 0 ? (
          <button type="button" className="secondary" onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t("applications.newer")}
          </button>
        ) : null}
        {data?.next_offset != null ? (
          <button type="button" className="secondary" onClick={() => setOffset(data.next_offset)}>
            {t("applications.older")}
          </button>
        ) : null}
      </nav>
    </>
  );
}

export default onlyFor(["applicant"], List);
