// One application, live: its status and each department's task with its deadline (re-read
// every few seconds while open and undecided, no reload), the correction request to answer,
// withdrawal (confirmed first), the decision, the signed notices, the e-licences issued (each
// with a QR code of the public verify page), the review (five levels) and what came of it,
// and the history.
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { api } from "../../api.js";
import { ErrorMessage, Loading, RequireRole, useApi } from "../../components/common.jsx";
import { DataTable } from "../../components/DataTable.jsx";
import { formatDate, formatDateTime, workingDays } from "../../format.js";
import { FINAL, joined, LicenceCard, MaterialUpload, named, StatusBadge, useDepartments } from "./shared.jsx";

const POLL_MS = 2500;
const LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];

// an item's time limit, the task's due date, when it was decided, and whether it is late
function TaskDeadline({ task, item }) {
  const { t } = useTranslation("applicant");
  return (
    <div>
      {item ? <div>{t("progress.limit", { days: workingDays(item.promised_days) })}</div> : null}
      {task.due ? <div>{t("progress.due", { date: formatDate(task.due) })}</div> : null}
      {task.decided_at ? (
        <div className="hint">{t("progress.decided", { date: formatDateTime(task.decided_at) })}</div>
      ) : null}
      {task.overdue ? <strong className="warning">{t("progress.overdue")}</strong> : null}
    </div>
  );
}

function Tasks({ application, scenario, departments }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const items = Object.fromEntries((scenario?.items || []).map((i) => [i.code, i]));
  return (
    <section aria-labelledby="tasks-heading">
      <h2 id="tasks-heading">{t("progress.heading")}</h2>
      <DataTable
        stacking
        caption={t("progress.caption")}
        captionHidden
        columns={[
          {
            key: "item",
            header: t("progress.item"),
            cell: (task) => (items[task.item_code] ? named(items[task.item_code], lang) : task.item_name),
          },
          {
            key: "department",
            header: t("progress.department"),
            cell: (task) => named(departments[task.department], lang) || task.department,
          },
          {
            key: "state",
            header: t("progress.state"),
            cell: (task) => (
              <div>
                <StatusBadge status={task.state} kind="task_state" />
                {task.reason && ["rejected", "correction_required"].includes(task.state) ? (
                  <div className="hint">{task.reason}</div>
                ) : null}
              </div>
            ),
          },
          {
            key: "deadline",
            header: t("progress.deadline"),
            cell: (task) => <TaskDeadline task={task} item={items[task.item_code]} />,
          },
        ]}
        rows={application.tasks}
        rowKey={(task) => task.task_id}
        rowProps={(task) => ({ "data-item": task.item_code })}
      />
    </section>
  );
}

function Correction({ application, scenario, onDone }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const notice = application.correction_notice;
  const materials = Object.fromEntries((scenario?.checklist || []).map((m) => [m.code, m]));
  const items = Object.fromEntries((scenario?.items || []).map((i) => [i.code, i]));
  const [uploads, setUploads] = useState({});
  const [missing, setMissing] = useState({});
  const [sending, setSending] = useState(false);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(false);
  if (!notice) return null;

  async function send(event) {
    event.preventDefault();
    const lacking = {};
    for (const code of notice.materials) if (!uploads[code]) lacking[code] = t("upload.required");
    setMissing(lacking);
    const first = notice.materials.find((c) => lacking[c]);
    if (first) {
      document.getElementById(`correction-${first}`)?.focus();
      return;
    }
    setSending(true);
    setError(null);
    try {
      await api(`/api/applications/${application.id}/corrections`, {
        method: "POST",
        body: { materials: notice.materials.map((code) => ({ code, file_id: uploads[code].file_id })) },
      });
      setSent(true);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  }

  if (sent) return <p className="success" role="status">{t("correction.sent")}</p>;
  return (
    <section aria-labelledby="correction-heading" className="panel attention">
      <h2 id="correction-heading">{t("correction.heading")}</h2>
      <p>{t("correction.lead")}</p>
      <ul>
        {notice.requests.map((r) => (
          <li key={r.task_id}>
            <strong>{items[r.item_code] ? named(items[r.item_code], lang) : r.item_name}</strong>
            {lang === "en" ? ": " : "："}
            {joined(
              r.materials.map((c) => named(materials[c], lang) || c),
              lang,
            )}
            {r.reason ? <div className="hint">{t("correction.reason", { reason: r.reason })}</div> : null}
          </li>
        ))}
      </ul>
      <form onSubmit={send} noValidate>
        {notice.materials.map((code) => (
          <MaterialUpload
            key={code}
            id={`correction-${code}`}
            label={named(materials[code], lang) || code}
            value={uploads[code]}
            error={missing[code]}
            onUploaded={(file) => {
              setUploads((u) => ({ ...u, [code]: file }));
              if (file) setMissing((m) => ({ ...m, [code]: undefined }));
            }}
          />
        ))}
        <ErrorMessage error={error} />
        <button type="submit" disabled={sending}>
          {sending ? t("apply.sending") : t("correction.submit")}
        </button>
      </form>
    </section>
  );
}

function Withdraw({ application, onDone }) {
  const { t } = useTranslation("applicant");
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState(null);
  const confirmRef = useRef(null);
  const openRef = useRef(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);

  async function withdraw() {
    setSending(true);
    setError(null);
    try {
      await api(`/api/applications/${application.id}/withdraw`, {
        method: "POST",
        body: reason.trim() ? { reason: reason.trim() } : {},
      });
      setAsking(false);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  }

  return (
    <section aria-labelledby="withdraw-heading">
      <h2 id="withdraw-heading">{t("withdraw.heading")}</h2>
      {!asking ? (
        <button type="button" className="secondary" ref={openRef} onClick={() => setAsking(true)}>
          {t("withdraw.button")}
        </button>
      ) : (
        <div className="panel confirm" role="group" aria-labelledby="withdraw-question">
          <p id="withdraw-question" tabIndex={-1} ref={confirmRef}>
            <strong>{t("withdraw.question")}</strong>
          </p>
          <label htmlFor="withdraw-reason">{t("withdraw.reason")}</label>
          <textarea id="withdraw-reason" rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          <ErrorMessage error={error} />
          <div className="button-row">
            <button type="button" className="danger" disabled={sending} onClick={withdraw}>
              {t("withdraw.confirm")}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setAsking(false);
                setTimeout(() => openRef.current?.focus(), 0);
              }}
            >
              {t("withdraw.cancel")}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

function Decision({ application, scenario, departments }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const decision = application.decision;
  if (!decision) return null;
  const items = Object.fromEntries((scenario?.items || []).map((i) => [i.code, i]));
  return (
    <section aria-labelledby="decision-heading" className={decision.outcome === "approved" ? "success" : "panel"}>
      <h2 id="decision-heading">{t("decision.heading")}</h2>
      <p>
        <StatusBadge status={decision.outcome} kind="outcome" />{" "}
        {decision.decided_at ? t("decision.at", { date: formatDateTime(decision.decided_at) }) : null}
      </p>
      {decision.departments?.length ? (
        <ul>
          {decision.departments.map((d) => (
            <li key={d.item_code}>
              {t("decision.line", {
                item: items[d.item_code] ? named(items[d.item_code], lang) : d.item_name,
                department: named(departments[d.department], lang) || d.department,
                outcome: t(`outcome.${d.outcome}`, { defaultValue: d.outcome }),
              })}
              {d.reason ? <span className="hint">{t("decision.reason", { reason: d.reason })}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function Notices({ id, refresh }) {
  const { t } = useTranslation("applicant");
  const { data, reload } = useApi(`/api/applications/${id}/notices`);
  useEffect(() => {
    reload();
  }, [refresh]); // eslint-disable-line react-hooks/exhaustive-deps
  const notices = data?.notices || [];
  if (!notices.length) return null;
  return (
    <section aria-labelledby="notices-heading">
      <h2 id="notices-heading">{t("notices.heading")}</h2>
      <ul className="plain">
        {notices.map((n) => (
          <li key={n.notice_id} className="panel">
            <strong>{n.title_zh}</strong>
            <div className="hint">{t("notices.issued", { date: formatDateTime(n.issued_at) })}</div>
            {n.promised_due ? <div>{t("notices.promised_due", { date: formatDate(n.promised_due) })}</div> : null}
            {n.reasons?.length ? <div>{t("notices.reasons", { reasons: n.reasons.join("；") })}</div> : null}
            {n.signature ? <div className="hint">{t("notices.signed", { key: n.key_id || "" })}</div> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Licences({ id, refresh, expected }) {
  const { t } = useTranslation("applicant");
  const [complete, setComplete] = useState(false);
  // licences are issued just after the approval: read again until every one expected is here
  const { data, reload } = useApi("/api/licenses", { poll: expected && !complete ? POLL_MS : 0 });
  useEffect(() => {
    reload();
  }, [refresh]); // eslint-disable-line react-hooks/exhaustive-deps
  const mine = (data?.licenses || []).filter((l) => l.application_id === id);
  useEffect(() => {
    if (expected && mine.length >= expected) setComplete(true);
  }, [expected, mine.length]);
  if (!mine.length) return null;
  return (
    <section aria-labelledby="licences-heading">
      <h2 id="licences-heading">{t("licences.issued_heading", { count: mine.length })}</h2>
      <div className="licence-list">
        {mine.map((l) => (
          <LicenceCard key={l.id} licence={l} />
        ))}
      </div>
    </section>
  );
}

function Rectification({ caseId }) {
  const { t } = useTranslation("applicant");
  const { data } = useApi(`/api/rectifications/${caseId}`, { poll: 10000 });
  if (!data) return null;
  return (
    <div className="notice">
      <p>{t("review.case", { state: t(`case_state.${data.state}`, { defaultValue: data.state }) })}</p>
      {data.visit_due && data.state === "awaiting_visit" ? <p>{t("review.visit_due", { date: formatDate(data.visit_due) })}</p> : null}
      {data.rectify_due && data.state !== "closed" ? <p>{t("review.rectify_due", { date: formatDate(data.rectify_due) })}</p> : null}
      {data.rectification?.summary || data.rectification?.text ? <p>{data.rectification.summary || data.rectification.text}</p> : null}
    </div>
  );
}

function Reviews({ application }) {
  const { t } = useTranslation("applicant");
  const { data, reload } = useApi(`/api/applications/${application.id}/reviews`);
  const [level, setLevel] = useState("");
  const [comment, setComment] = useState("");
  const [problems, setProblems] = useState({});
  const [error, setError] = useState(null);
  const [sending, setSending] = useState(false);
  const reviews = (data?.reviews || []).filter((r) => !r.department);
  const bad = level === "dissatisfied" || level === "very_dissatisfied";

  async function send(event) {
    event.preventDefault();
    const p = {};
    if (!level) p.level = t("review.choose_level");
    if (bad && !comment.trim()) p.comment = t("review.comment_needed");
    setProblems(p);
    if (p.level) {
      document.getElementById(`level-${LEVELS[0]}`)?.focus();
      return;
    }
    if (p.comment) {
      document.getElementById("review-comment")?.focus();
      return;
    }
    setSending(true);
    setError(null);
    try {
      await api(`/api/applications/${application.id}/reviews`, {
        method: "POST",
        body: { level, channel: "online", ...(comment.trim() ? { comment: comment.trim() } : {}) },
      });
      reload();
    } catch (e) {
      setError(e);
      if (e.fields?.comment) setProblems({ comment: t("review.comment_needed") });
    } finally {
      setSending(false);
    }
  }

  return (
    <section aria-labelledby="review-heading">
      <h2 id="review-heading">{t("review.heading")}</h2>
      {reviews.length ? (
        <ul className="plain">
          {reviews.map((r) => (
            <li key={r.id} className="panel">
              <p>
                {t("review.yours", { level: t(`levels.${r.effective_level || r.level}`), date: formatDateTime(r.created_at) })}
              </p>
              {r.comment ? <p className="hint">{t("review.comment_was", { comment: r.comment })}</p> : null}
              {r.case_id ? <Rectification caseId={r.case_id} /> : <p>{t("review.thanks")}</p>}
            </li>
          ))}
        </ul>
      ) : data ? (
        <form onSubmit={send} noValidate className="review-form">
          <fieldset aria-describedby={problems.level ? "level-error" : undefined}>
            <legend>{t("review.question")}</legend>
            {LEVELS.map((l) => (
              <label key={l} className="inline-check" htmlFor={`level-${l}`}>
                <input
                  type="radio"
                  id={`level-${l}`}
                  name="level"
                  value={l}
                  checked={level === l}
                  onChange={() => setLevel(l)}
                />
                {t(`levels.${l}`)}
              </label>
            ))}
            {problems.level ? (
              <p id="level-error" className="field-error" role="alert">
                {problems.level}
              </p>
            ) : null}
          </fieldset>
          <label htmlFor="review-comment">{bad ? t("review.comment_required") : t("review.comment")}</label>
          <textarea
            id="review-comment"
            rows={3}
            maxLength={1000}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            aria-invalid={problems.comment ? "true" : undefined}
            aria-describedby={problems.comment ? "comment-error" : undefined}
          />
          {problems.comment ? (
            <p id="comment-error" className="field-error" role="alert">
              {problems.comment}
            </p>
          ) : null}
          {error && !problems.comment ? <ErrorMessage error={error} /> : null}
          <p>
            <button type="submit" disabled={sending}>
              {t("review.submit")}
            </button>
          </p>
        </form>
      ) : null}
    </section>
  );
}

function History({ id, refresh }) {
  const { t } = useTranslation("applicant");
  const { data, reload } = useApi(`/api/applications/${id}/history`);
  useEffect(() => {
    reload();
  }, [refresh]); // eslint-disable-line react-hooks/exhaustive-deps
  const entries = data?.history || [];
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">{t("history.heading")}</h2>
      <details>
        <summary>{t("history.show", { count: entries.length })}</summary>
        <ol className="history">
          {entries.map((h, n) => (
            <li key={n}>
              <time dateTime={h.at}>{formatDateTime(h.at)}</time>{" "}
              <span>{t(`history.causes.${h.cause}`, { defaultValue: h.cause })}</span>
              <span className="hint">
                {" "}
                {t("history.detail", { transition: h.transition, actor: h.by ? `${h.actor} / ${h.by}` : h.actor })}
              </span>
            </li>
          ))}
        </ol>
      </details>
    </section>
  );
}

// how many e-licences the approved tasks issue (items with a licence type)
function expectedLicences(application, scenario) {
  if (!scenario) return 0;
  const items = Object.fromEntries(scenario.items.map((i) => [i.code, i]));
  return application.tasks.filter((task) => task.state === "approved" && items[task.item_code]?.license_type).length;
}

function ApplicationView({ id }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const [final, setFinal] = useState(false);
  const app = useApi(`/api/applications/${id}`, { poll: final ? 0 : POLL_MS });
  const data = app.data;
  const scenario = useApi(data ? `/api/scenarios/${data.scenario}?version=${data.catalog_version}` : null, { anonymous: true });
  const departments = useDepartments();
  useEffect(() => {
    if (data && FINAL.includes(data.status)) setFinal(true);
  }, [data]);

  if (app.loading && !data) return <Loading />;
  if (!data) return <ErrorMessage error={app.error} onRetry={app.reload} />;

  // a change in any task or the status: the history, notices and licences are read again
  const refresh = `${data.status}|${data.tasks.map((task) => task.state).join(",")}|${(data.notices || []).length}`;
  const isFinal = FINAL.includes(data.status);
  return (
    <>
      <p>
        <Link href="/applications">{t("application.back")}</Link>
      </p>
      <h1>{scenario.data ? named(scenario.data, lang) : data.scenario}</h1>
      <dl className="facts">
        <dt>{t("application.number")}</dt>
        <dd>
          <code>{data.id}</code>
        </dd>
        <dt>{t("application.applicant")}</dt>
        <dd>{data.applicant?.name}</dd>
        <dt>{t("application.submitted")}</dt>
        <dd>{formatDateTime(data.submitted_at)}</dd>
        {data.promised_due ? (
          <>
            <dt>{t("application.promised_due")}</dt>
            <dd>
              {formatDate(data.promised_due)}
              {scenario.data ? t("application.promise", { days: workingDays(scenario.data.promised_days) }) : null}
            </dd>
          </>
        ) : null}
      </dl>
      <div className="status-line" role="status" aria-live="polite">
        {t("application.status")} <StatusBadge status={data.status} />
      </div>
      {app.error ? <p className="hint">{t("application.stale")}</p> : null}
      {data.status === "awaiting_correction" ? (
        <Correction key={refresh} application={data} scenario={scenario.data} onDone={app.reload} />
      ) : null}
      {data.status === "awaiting_payment" ? <p className="notice">{t("application.payment")}</p> : null}
      <Decision application={data} scenario={scenario.data} departments={departments} />
      <Tasks application={data} scenario={scenario.data} departments={departments} />
      <Licences id={id} refresh={refresh} expected={expectedLicences(data, scenario.data)} />
      <Notices id={id} refresh={refresh} />
      {isFinal ? <Reviews application={data} /> : <Withdraw application={data} onDone={app.reload} />}
      <History id={id} refresh={refresh} />
    </>
  );
}

export default function Application({ params }) {
  return (
    <RequireRole roles={["applicant"]}>
      <ApplicationView id={params.id} />
    </RequireRole>
  );
}
