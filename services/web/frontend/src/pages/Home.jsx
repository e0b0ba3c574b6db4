// Home: find a scenario package (一件事) by typing what you want in your own words (the
// search API) or by browsing the 26 packages by audience.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { api } from "../api.js";
import { ErrorMessage, Loading, useApi } from "../components/common.jsx";
import { workingDays } from "../format.js";

const AUDIENCES = ["individual", "enterprise", "project"];

function packageName(item, lang) {
  return lang === "en" ? item.name : item.name_zh || item.name;
}

function SearchBox() {
  const { t, i18n } = useTranslation("home");
  const [q, setQ] = useState("");
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function search(event) {
    event.preventDefault();
    if (!q.trim()) {
      setError(null);
      setAnswer({ results: [], empty: true });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setAnswer(await api(`/api/search?q=${encodeURIComponent(q.trim())}&limit=5`, { anonymous: true }));
    } catch (e) {
      setError(e);
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="search-heading" className="search">
      <h2 id="search-heading">{t("search.heading")}</h2>
      <form role="search" onSubmit={search} className="search-form">
        <label htmlFor="search-q">{t("search.label")}</label>
        <div className="search-row">
          <input
            id="search-q"
            type="search"
            value={q}
            maxLength={100}
            placeholder={t("search.placeholder")}
            onChange={(e) => setQ(e.target.value)}
            aria-describedby="search-hint"
          />
          <button type="submit" disabled={busy}>
            {t("search.button")}
          </button>
        </div>
        <p id="search-hint" className="hint">
          {t("search.hint")}
        </p>
      </form>
      <ErrorMessage error={error} />
      <div aria-live="polite">
        {answer?.empty ? <p>{t("search.blank")}</p> : null}
        {answer && !answer.empty && answer.results.length === 0 ? (
          <p>{t("search.none")}</p>
        ) : null}
        {answer?.results?.length ? (
          <>
            <p className="visually-hidden">{t("search.count", { count: answer.results.length })}</p>
            <ol className="results">
              {answer.results.map((r) => (
                <li key={r.code}>
                  <Link href={`/scenarios/${r.code}`} className="result-title">
                    {packageName(r, i18n.language)}
                  </Link>
                  {r.items?.length ? (
                    <p className="result-items">
                      {t("search.items")}
                      {r.items.map((item) => packageName(item, i18n.language)).join("、")}
                    </p>
                  ) : null}
                </li>
              ))}
            </ol>
          </>
        ) : null}
      </div>
    </section>
  );
}

function Packages() {
  const { t, i18n } = useTranslation("home");
  const [audience, setAudience] = useState("individual");
  const { data, error, loading, reload } = useApi("/api/scenarios", { anonymous: true });
  const shown = (data?.scenarios || []).filter((s) => s.audience === audience);
  return (
    <section aria-labelledby="packages-heading">
      <h2 id="packages-heading">{t("packages.heading", { count: data?.scenarios?.length || 26 })}</h2>
      <div className="tabs" role="group" aria-label={t("packages.audience")}>
        {AUDIENCES.map((a) => (
          <button
            key={a}
            type="button"
            aria-pressed={audience === a}
            onClick={() => setAudience(a)}
          >
            {t(`packages.audiences.${a}`)}
          </button>
        ))}
      </div>
      {loading && !data ? <Loading /> : null}
      <ErrorMessage error={error} onRetry={reload} />
      <ul className="cards">
        {shown.map((s) => (
          <li key={s.code} className="card">
            <h3>
              <Link href={`/scenarios/${s.code}`}>{packageName(s, i18n.language)}</Link>
            </h3>
            <p className="meta">
              {t("packages.meta", {
                items: s.item_count,
                departments: s.departments.length,
                days: workingDays(s.promised_days),
              })}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function Home() {
  const { t } = useTranslation("home");
  return (
    <>
      <section className="hero">
        <h1>{t("heading")}</h1>
        <p>{t("lead")}</p>
      </section>
      <SearchBox />
      <Packages />
    </>
  );
}
