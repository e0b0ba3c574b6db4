// One scenario package (一件事): its items and departments, the promised working days, the
// one-time notice of every material needed (一次性告知; what the signed-in person already
// holds as an e-licence is reused, not asked for), the service guide's summary, and for a
// signed-in applicant the application: the form generated from the package's JSON Schema
// (@rjsf/core), the optional items, the uploads of the materials still needed, and one
// submission (an Idempotency-Key kept across retries of the same attempt).
import { lazy, Suspense, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "wouter";
import { ErrorMessage, Loading, toggled, useApi } from "../../components/common.jsx";
import { DataTable } from "../../components/DataTable.jsx";
import { workingDays } from "../../format.js";
import { useSession } from "../../session.js";
import { holderKind, joined, licenceTypeName, named, useDepartments } from "./shared.jsx";

const ApplicationForm = lazy(() => import("./ApplicationForm.jsx"));

// every material of the items applied for, once, and how it is provided:
// "reused" (an e-licence the person holds), "produced" (an item of this package issues it),
// "upload" (the person uploads it)
export function materialsNeeded(scenario, checklist, chosen) {
  const held = {};
  for (const m of checklist?.checklist || []) if (m.provided_by === "e_license") held[m.code] = m;
  const out = [];
  for (const m of scenario.checklist || []) {
    if (!m.items.some((code) => chosen.has(code))) continue;
    if (held[m.code]) out.push({ ...m, how: "reused", license: held[m.code].license });
    else if (m.provided_by && chosen.has(m.provided_by)) out.push({ ...m, how: "produced" });
    else out.push({ ...m, how: "upload" });
  }
  return out;
}

function Items({ scenario, chosen, onToggle, departments }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const byCode = Object.fromEntries(scenario.items.map((i) => [i.code, i]));
  return (
    <section aria-labelledby="items-heading">
      <h2 id="items-heading">{t("scenario.items_heading", { count: scenario.items.length })}</h2>
      <DataTable
        caption={t("scenario.items_caption")}
        captionHidden
        columns={[
          {
            key: "item",
            header: t("scenario.item"),
            cell: (item) => (
              <>
                {named(item, lang)}
                {item.depends_on?.length ? (
                  <div className="hint">
                    {t("scenario.after", {
                      items: joined(
                        item.depends_on.map((c) => named(byCode[c], lang) || c),
                        lang,
                      ),
                    })}
                  </div>
                ) : null}
              </>
            ),
          },
          {
            key: "department",
            header: t("scenario.department"),
            cell: (item) =>
              named(departments[item.department], lang) ||
              (lang === "en" ? item.department_name : item.department_name_zh),
          },
          { key: "promised", header: t("scenario.promised"), cell: (item) => workingDays(item.promised_days) },
          {
            key: "apply",
            header: t("scenario.apply"),
            cell: (item) =>
              item.optional ? (
                <label className="inline-check">
                  <input type="checkbox" checked={chosen.has(item.code)} onChange={() => onToggle(item.code)} />
                  {t("scenario.optional_choose", { name: named(item, lang) })}
                </label>
              ) : (
                t("scenario.mandatory")
              ),
          },
        ]}
        rows={scenario.items}
        rowKey={(item) => item.code}
      />
    </section>
  );
}

function Notice({ needed, signedIn, scenario }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const items = Object.fromEntries(scenario.items.map((i) => [i.code, i]));
  const asked = needed.filter((m) => m.how === "upload");
  return (
    <section aria-labelledby="notice-heading" className="panel">
      <h2 id="notice-heading">{t("notice.heading")}</h2>
      <p>{t("notice.lead", { count: asked.length })}</p>
      {!signedIn ? <p className="hint">{t("notice.sign_in_for_reuse")}</p> : null}
      <ul className="checklist">
        {needed.map((m) => (
          <li key={m.code} className={`material ${m.how}`}>
            <span className="material-name">{named(m, lang)}</span>{" "}
            <span className={`status ${m.how === "upload" ? "wait" : "ok"}`}>{t(`notice.how.${m.how}`)}</span>
            {m.how === "reused" && m.license ? (
              <span className="hint">
                {" "}
                {t("notice.reused_detail", {
                  type: licenceTypeName(m.license, t),
                  number: m.license.number,
                })}
              </span>
            ) : null}
            {m.how === "produced" ? (
              <span className="hint"> {t("notice.produced_detail", { item: named(items[m.provided_by], lang) })}</span>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Guide({ code, optional }) {
  const { t } = useTranslation("applicant");
  const query = optional.length ? `?optional=${encodeURIComponent(optional.join(","))}` : "";
  const { data } = useApi(`/api/scenarios/${code}/guide${query}`, { anonymous: true });
  if (!data) return null;
  return (
    <section aria-labelledby="guide-heading">
      <h2 id="guide-heading">{t("guide.heading")}</h2>
      <dl className="facts">
        <dt>{t("guide.promised")}</dt>
        <dd>{workingDays(data.promised_days)}</dd>
        <dt>{t("guide.fee")}</dt>
        <dd>{data.total_fee ? t("guide.fee_amount", { amount: data.total_fee }) : t("guide.free")}</dd>
        <dt>{t("guide.visits")}</dt>
        <dd>{data.visits ? t("guide.visits_count", { count: data.visits }) : t("guide.no_visit")}</dd>
      </dl>
    </section>
  );
}

export default function Scenario({ params }) {
  const code = params.code;
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const { claims } = useSession();
  const applicant = claims?.role === "applicant";
  const scenario = useApi(`/api/scenarios/${encodeURIComponent(code)}`, { anonymous: true });
  const checklist = useApi(applicant ? `/api/scenarios/${encodeURIComponent(code)}/checklist` : null);
  const departments = useDepartments();
  const [optional, setOptional] = useState([]);
  const [location] = useLocation();

  const data = scenario.data;
  const chosen = useMemo(
    () => new Set([...(data?.items || []).filter((i) => !i.optional).map((i) => i.code), ...optional]),
    [data, optional],
  );
  const needed = useMemo(() => (data ? materialsNeeded(data, checklist.data, chosen) : []), [data, checklist.data, chosen]);

  if (scenario.loading && !data) return <Loading />;
  if (scenario.error) return <ErrorMessage error={scenario.error} onRetry={scenario.reload} />;
  if (!data) return null;

  function toggle(itemCode) {
    setOptional((list) => toggled(list, itemCode));
  }
  const description = lang === "en" ? data.description : data.description_zh || data.description;

  return (
    <>
      <section className="hero">
        <h1>{named(data, lang)}</h1>
        {description ? <p>{description}</p> : null}
        <p className="meta">
          {t("scenario.meta", {
            items: data.items.length,
            departments: joined(
              data.departments.map((d) => named(departments[d], lang) || d),
              lang,
            ),
            days: workingDays(data.promised_days),
          })}
        </p>
      </section>
      <Items scenario={data} chosen={chosen} onToggle={toggle} departments={departments} />
      <Notice needed={needed} signedIn={applicant} scenario={data} />
      <Guide code={code} optional={optional} />
      <section aria-labelledby="apply-heading">
        <h2 id="apply-heading">{t("apply.heading")}</h2>
        {!claims ? (
          <p>
            <Link href={`/signin?next=${encodeURIComponent(location)}`} className="button">
              {t("apply.sign_in")}
            </Link>
          </p>
        ) : !applicant ? (
          <p>{t("apply.applicants_only")}</p>
        ) : !data.applicant_kinds.includes(holderKind(claims.sub)) ? (
          <p>{t(`apply.kind_not_served.${holderKind(claims.sub)}`)}</p>
        ) : checklist.error ? (
          <ErrorMessage error={checklist.error} onRetry={checklist.reload} />
        ) : !checklist.data ? (
          <Loading />
        ) : (
          <Suspense fallback={<Loading />}>
            <ApplicationForm scenario={data} claims={claims} needed={needed} optional={optional} />
          </Suspense>
        )}
      </section>
    </>
  );
}
