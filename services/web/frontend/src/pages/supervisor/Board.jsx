// The supervisor board (/supervisor): overdue tasks by department and region
// (GET /api/supervision/overdue), the distribution of reviews (GET /api/statistics, which
// takes a region; GET /api/reviews/stats by department) and rectification cases
// (GET /api/rectifications): each as a chart and, beside it, the table of its numbers.
// The API already narrows everything to the region the supervisor's token names; the region
// filter narrows further, within it.
import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiStatus, onlyFor, useApi } from "../../components/common.jsx";
import { DataTable } from "../../components/DataTable.jsx";
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
  const result = useApi("/api/supervision/overdue", { poll: POLL_MS });
  const { data } = result;
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
      <ApiStatus result={result} />
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
              <DataTable
                id={tableId}
                caption={t("overdue.by_group")}
                columns={[
                  { key: "department", header: t("columns.department"), cell: (g) => names.department(g.department) },
                  { key: "region", header: t("columns.region"), cell: (g) => names.region(g.region) },
                  { key: "count", header: t("overdue.count"), cell: (g) => g.count },
                ]}
                rows={groups}
                rowKey={(g) => `${g.department}-${g.region}`}
              />
            </div>
          ) : null}
          {tasks.length ? (
            <DataTable
              caption={t("overdue.tasks")}
              columns={[
                { key: "application", header: t("columns.application"), cell: (task) => <code>{task.application_id}</code> },
                {
                  key: "item",
                  header: t("columns.item"),
                  cell: (task) => <ItemName code={task.item_code} fallback={task.item_name} />,
                },
                { key: "department", header: t("columns.department"), cell: (task) => names.department(task.department) },
                { key: "region", header: t("columns.region"), cell: (task) => names.region(task.region) },
                { key: "due", header: t("columns.due"), cell: (task) => formatDate(task.due) },
                { key: "legal_due", header: t("columns.legal_due"), cell: (task) => formatDate(task.legal_due) },
                {
                  key: "escalated",
                  header: t("columns.escalated"),
                  cell: (task) =>
                    task.escalated ? <span className="status bad">{t("overdue.escalated")}</span> : t("overdue.not_escalated"),
                },
              ]}
              rows={tasks}
              rowKey={(task) => task.task_id}
            />
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
      <ApiStatus result={published} />
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
            <DataTable
              id={tableId}
              caption={t("reviews.by_level")}
              columns={[
                { key: "level", header: t("columns.level"), cell: (level) => t(`levels.${level}`) },
                { key: "count", header: t("reviews.count"), cell: (level) => reviews.levels[level] || 0 },
                {
                  key: "share",
                  header: t("reviews.share"),
                  cell: (level) => (total ? percent((reviews.levels[level] || 0) / total) : "—"),
                },
              ]}
              rows={LEVELS}
              rowKey={(level) => level}
            />
          </div>
        </>
      ) : null}
      <h3>{t("reviews.by_department")}</h3>
      <p className="hint">{t("reviews.by_department_hint")}</p>
      <ApiStatus result={stats} quiet />
      {stats.data ? (
        <DataTable
          caption={t("reviews.by_department")}
          captionHidden
          columns={[
            { key: "department", header: t("columns.department"), cell: (g) => names.department(g.key) },
            { key: "applications", header: t("columns.applications"), cell: (g) => g.applications },
            { key: "reviews", header: t("columns.reviews"), cell: (g) => g.reviews },
            { key: "good_rate", header: t("columns.good_rate"), cell: (g) => percent(g.good_review_rate) },
            { key: "bad", header: t("columns.bad"), cell: (g) => g.bad },
            { key: "cases", header: t("columns.cases"), cell: (g) => g.rectification?.cases ?? 0 },
            { key: "rate", header: t("columns.rectification_rate"), cell: (g) => percent(g.rectification?.rate) },
          ]}
          rows={stats.data.groups}
          rowKey={(g) => g.key}
        />
      ) : null}
    </section>
  );
}

// a case's state, and which of its deadlines it has missed
function CaseState({ c }) {
  const { t } = useTranslation("supervisor");
  return (
    <>
      {t(`states.${c.state}`)}
      {c.overdue_now?.length ? (
        <>
          {" "}
          <span className="status bad">{c.overdue_now.map((d) => t(`rectifications.late.${d}`)).join("、")}</span>
        </>
      ) : null}
    </>
  );
}

function Rectifications({ region }) {
  const { t } = useTranslation("supervisor");
  const names = useNames();
  const tableId = useId();
  const result = useApi("/api/rectifications?limit=200", { poll: POLL_MS });
  const { data } = result;
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
      <ApiStatus result={result} />
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
              <DataTable
                id={tableId}
                caption={t("rectifications.by_state")}
                columns={[
                  { key: "state", header: t("columns.state"), cell: (s) => t(`states.${s}`) },
                  { key: "count", header: t("rectifications.count"), cell: (s, i) => counts[i] },
                ]}
                rows={STATES}
                rowKey={(s) => s}
              />
            </div>
          ) : null}
          {cases.length ? (
            <DataTable
              caption={t("rectifications.cases")}
              columns={[
                { key: "case", header: t("columns.case"), cell: (c) => <code>{c.id}</code> },
                { key: "scenario", header: t("columns.scenario"), cell: (c) => names.scenario(c.scenario) },
                { key: "department", header: t("columns.department"), cell: (c) => names.department(c.department) },
                { key: "region", header: t("columns.region"), cell: (c) => names.region(c.region) },
                { key: "level", header: t("columns.level"), cell: (c) => t(`levels.${c.level}`, { defaultValue: c.level }) },
                { key: "complaint", header: t("columns.complaint"), cell: (c) => c.complaint?.comment || "—" },
                { key: "state", header: t("columns.state"), cell: (c) => <CaseState c={c} /> },
                { key: "visit_due", header: t("columns.visit_due"), cell: (c) => formatDate(c.visit_due) },
                { key: "rectify_due", header: t("columns.rectify_due"), cell: (c) => formatDate(c.rectify_due) },
              ]}
              rows={cases}
              rowKey={(c) => c.id}
            />
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

export default onlyFor(["supervisor", "operator"], Board);
