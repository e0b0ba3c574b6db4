// The supervisor board (/supervisor): overdue tasks by department and region
// (GET /api/supervision/overdue), the distribution of reviews (GET /api/statistics, which
// takes a region; GET /api/reviews/stats by department) and rectification cases
// (GET /api/rectifications): each as a chart and, beside it, the table of its numbers.
// The API already narrows everything to the region the supervisor's token names; the region
// filter narrows further, within it.
import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorMessage, Loading, RequireRole, useApi } from "../../components/common.jsx";
import { formatDate } from "../../format.js";
import { useSession } from "../../session.js";
import ChartCanvas from "./Chart.jsx";
import { ItemName, regionCovers, useCatalogNames } from "./names.js";

const LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];
const STATES = ["awaiting_visit", "awaiting_rectification", "awaiting_confirmation", "closed"];
const POLL_MS = 15000;

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`;
}

function useNames() {
  const { t } = useTranslation("supervisor");
  const names = useCatalogNames();
  return useMemo(
    () => ({
      ...names,
      department: (code) =>
        code === "service_center" ? t("service_center") : names.department(code),
    }),
    [names, t],
  );
}

function RegionFilter({ area, value, onChange }) {
  const { t } = useTranslation("supervisor");
  const names = useNames();
  const id = useId();
  const options = names.regions.filter((r) => regionCovers(area, r.code));
  return (
    <div className="board-filters">
      <div>
        <label htmlFor={id}>{t("filter.region")}</label>
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{area ? t("filter.whole", { region: names.region(area) }) : t("filter.all")}</option>
          {options
            .filter((r) => r.code !== area)
            .map((r) => (
              <option key={r.code} value={r.code}>
                {r.level === "county" ? `\u3000${r.name}` : r.name}
              </option>
            ))}
        </select>
      </div>
      <p className="hint">{t("filter.hint")}</p>
    </div>
  );
}

function Overdue({ region }) {
  const { t } = useTranslation("supervisor");
  const names = useNames();
  const tableId = useId();
  const { data, error, reload } = useApi("/api/supervision/overdue", { poll: POLL_MS });
  const groups = useMemo(
    () => (data?.groups || []).filter((g) => regionCovers(region, g.region)),
    [data, region],
  );
  const byDepartment = useMemo(() => {
    const counts = {};
    for (const g of groups) counts[g.department] = (counts[g.department] || 0) + g.count;
    return Object.entries(counts).sort((a, b) => b[1] - a[1]);
  }, [groups]);
  const labels = useMemo(() => byDepartment.map(([code]) => names.department(code)), [byDepartment, names]);
  const datasets = useMemo(
    () => [{ label: t("overdue.count"), data: byDepartment.map(([, n]) => n) }],
    [byDepartment, t],
  );
  const tasks = groups.flatMap((g) => g.tasks).sort((a, b) => (a.due < b.due ? -1 : 1));
  const total = groups.reduce((sum, g) => sum + g.count, 0);
  return (
    <section aria-labelledby="overdue-heading" className="panel">
      <h2 id="overdue-heading">{t("overdue.heading")}</h2>
      <ErrorMessage error={error} onRetry={reload} />
      {!data && !error ? <Loading /> : null}
      {data ? (
        <>
          <p>{t("overdue.total", { count: total })}</p>
          {total ? (
            <div className="chart-and-table">
              <ChartCanvas
                type="bar"
                labels={labels}
                datasets={datasets}
                label={t("overdue.chart", {
                  summary: byDepartment.map(([code, n]) => `${names.department(code)} ${n}`).join("，"),
                })}
                describedBy={tableId}
              />
              <div className="table-wrap">
                <table id={tableId}>
                  <caption>{t("overdue.by_group")}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t("columns.department")}</th>
                      <th scope="col">{t("columns.region")}</th>
                      <th scope="col">{t("overdue.count")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {groups.map((g) => (
                      <tr key={`${g.department}-${g.region}`}>
                        <td>{names.department(g.department)}</td>
                        <td>{names.region(g.region)}</td>
                        <td>{g.count}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          ) : null}
          {tasks.length ? (
            <div className="table-wrap">
              <table>
                <caption>{t("overdue.tasks")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("columns.application")}</th>
                    <th scope="col">{t("columns.item")}</th>
                    <th scope="col">{t("columns.department")}</th>
                    <th scope="col">{t("columns.region")}</th>
                    <th scope="col">{t("columns.due")}</th>
                    <th scope="col">{t("columns.legal_due")}</th>
                    <th scope="col">{t("columns.escalated")}</th>
                  </tr>
                </thead>
                <tbody>
                  {tasks.map((task) => (
                    <tr key={task.task_id}>
                      <td>
                        <code>{task.application_id}</code>
                      </td>
                      <td>
                        <ItemName code={task.item_code} fallback={task.item_name} />
                      </td>
                      <td>{names.department(task.department)}</td>
                      <td>{names.region(task.region)}</td>
                      <td>{formatDate(task.due)}</td>
                      <td>{formatDate(task.legal_due)}</td>
                      <td>
                        {task.escalated ? (
                          <span className="status bad">{t("overdue.escalated")}</span>
                        ) : (
                          t("overdue.not_escalated")
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function Reviews({ region }) {
  const { t } = useTranslation("supervisor");
  const names = useNames();
  const tableId = useId();
  const published = useApi(`/api/statistics${region ? `?region=${region}` : ""}`, { poll: POLL_MS });
  const stats = useApi("/api/reviews/stats?by=department", { poll: POLL_MS });
  const reviews = published.data?.totals?.reviews;
  const labels = useMemo(() => LEVELS.map((level) => t(`levels.${level}`)), [t]);
  const datasets = useMemo(
    () => [{ label: t("reviews.count"), data: LEVELS.map((level) => reviews?.levels?.[level] || 0) }],
    [reviews, t],
  );
  const total = reviews?.total || 0;
  return (
    <section aria-labelledby="reviews-heading" className="panel">
      <h2 id="reviews-heading">{t("reviews.heading")}</h2>
      <ErrorMessage error={published.error} onRetry={published.reload} />
      {!published.data && !published.error ? <Loading /> : null}
      {reviews ? (
        <>
          <p>{t("reviews.total", { count: total, rate: percent(reviews.good_rate) })}</p>
          <div className="chart-and-table">
            <ChartCanvas
              type="bar"
              labels={labels}
              datasets={datasets}
              label={t("reviews.chart", {
                summary: LEVELS.map((l) => `${t(`levels.${l}`)} ${reviews.levels[l] || 0}`).join("，"),
              })}
              describedBy={tableId}
            />
            <div className="table-wrap">
              <table id={tableId}>
                <caption>{t("reviews.by_level")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("columns.level")}</th>
                    <th scope="col">{t("reviews.count")}</th>
                    <th scope="col">{t("reviews.share")}</th>
                  </tr>
                </thead>
                <tbody>
                  {LEVELS.map((level) => (
                    <tr key={level}>
                      <td>{t(`levels.${level}`)}</td>
                      <td>{reviews.levels[level] || 0}</td>
                      <td>{total ? percent((reviews.levels[level] || 0) / total) : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      ) : null}
      <h3>{t("reviews.by_department")}</h3>
      <p className="hint">{t("reviews.by_department_hint")}</p>
      <ErrorMessage error={stats.error} onRetry={stats.reload} />
      {stats.data ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t("reviews.by_department")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("columns.department")}</th>
                <th scope="col">{t("columns.applications")}</th>
                <th scope="col">{t("columns.reviews")}</th>
                <th scope="col">{t("columns.good_rate")}</th>
                <th scope="col">{t("columns.bad")}</th>
                <th scope="col">{t("columns.cases")}</th>
                <th scope="col">{t("columns.rectification_rate")}</th>
              </tr>
            </thead>
            <tbody>
              {stats.data.groups.map((g) => (
                <tr key={g.key}>
                  <td>{names.department(g.key)}</td>
                  <td>{g.applications}</td>
                  <td>{g.reviews}</td>
                  <td>{percent(g.good_review_rate)}</td>
                  <td>{g.bad}</td>
                  <td>{g.rectification?.cases ?? 0}</td>
                  <td>{percent(g.rectification?.rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Rectifications({ region }) {
  const { t } = useTranslation("supervisor");
  const names = useNames();
  const tableId = useId();
  const { data, error, reload } = useApi("/api/rectifications?limit=200", { poll: POLL_MS });
  const cases = useMemo(
    () => (data?.cases || []).filter((c) => regionCovers(region, c.region)),
    [data, region],
  );
  const counts = useMemo(() => STATES.map((s) => cases.filter((c) => c.state === s).length), [cases]);
  const labels = useMemo(() => STATES.map((s) => t(`states.${s}`)), [t]);
  const datasets = useMemo(() => [{ label: t("rectifications.count"), data: counts }], [counts, t]);
  const overdue = cases.filter((c) => c.overdue_now?.length).length;
  return (
    <section aria-labelledby="rect-heading" className="panel">
      <h2 id="rect-heading">{t("rectifications.heading")}</h2>
      <ErrorMessage error={error} onRetry={reload} />
      {!data && !error ? <Loading /> : null}
      {data ? (
        <>
          <p>{t("rectifications.total", { count: cases.length, overdue })}</p>
          {cases.length ? (
            <div className="chart-and-table">
              <ChartCanvas
                type="doughnut"
                labels={labels}
                datasets={datasets}
                label={t("rectifications.chart", {
                  summary: STATES.map((s, i) => `${t(`states.${s}`)} ${counts[i]}`).join("，"),
                })}
                describedBy={tableId}
              />
              <div className="table-wrap">
                <table id={tableId}>
                  <caption>{t("rectifications.by_state")}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t("columns.state")}</th>
                      <th scope="col">{t("rectifications.count")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {STATES.map((s, i) => (
                      <tr key={s}>
                        <td>{t(`states.${s}`)}</td>
                        <td>{counts[i]}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          ) : null}
          {cases.length ? (
            <div className="table-wrap">
              <table>
                <caption>{t("rectifications.cases")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("columns.case")}</th>
                    <th scope="col">{t("columns.scenario")}</th>
                    <th scope="col">{t("columns.department")}</th>
                    <th scope="col">{t("columns.region")}</th>
                    <th scope="col">{t("columns.level")}</th>
                    <th scope="col">{t("columns.complaint")}</th>
                    <th scope="col">{t("columns.state")}</th>
                    <th scope="col">{t("columns.visit_due")}</th>
                    <th scope="col">{t("columns.rectify_due")}</th>
                  </tr>
                </thead>
                <tbody>
                  {cases.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <code>{c.id}</code>
                      </td>
                      <td>{names.scenario(c.scenario)}</td>
                      <td>{names.department(c.department)}</td>
                      <td>{names.region(c.region)}</td>
                      <td>{t(`levels.${c.level}`, { defaultValue: c.level })}</td>
                      <td>{c.complaint?.comment || "—"}</td>
                      <td>
                        {t(`states.${c.state}`)}
                        {c.overdue_now?.length ? (
                          <>
                            {" "}
                            <span className="status bad">
                              {c.overdue_now.map((d) => t(`rectifications.late.${d}`)).join("、")}
                            </span>
                          </>
                        ) : null}
                      </td>
                      <td>{formatDate(c.visit_due)}</td>
                      <td>{formatDate(c.rectify_due)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function Board() {
  const { t } = useTranslation("supervisor");
  const { claims } = useSession();
  const names = useNames();
  const [region, setRegion] = useState("");
  const area = claims?.region || "";
  return (
    <>
      <h1>{t("heading")}</h1>
      <p>{area ? t("scope", { region: names.region(area) }) : t("scope_all")}</p>
      <RegionFilter area={area} value={region} onChange={setRegion} />
      <Overdue region={region || area} />
      <Reviews region={region || area} />
      <Rectifications region={region || area} />
    </>
  );
}

export default function SupervisorBoard() {
  return (
    <RequireRole roles={["supervisor", "operator"]}>
      <Board />
    </RequireRole>
  );
}
