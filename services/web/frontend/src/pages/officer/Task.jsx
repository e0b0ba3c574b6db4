// One task of the officer's office: the applicant (identifiers masked), the form, the
// materials (each uploaded PDF or image viewable in the page, fetched with the officer's
// token and shown from a blob: URL), the application's history; then the decision:
// approve, reject with reasons, or ask for a correction naming materials from the item's
// standard list. A task awaiting its fee's payment gets the payment confirmation instead.
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { api, ApiError } from "../../api.js";
import { ErrorMessage, Loading, RequireRole, toggled, useApi } from "../../components/common.jsx";
import { formatDateTime, maskId } from "../../format.js";
import { currentToken } from "../../session.js";
import { displayValue, fieldTitle, flatFields } from "../../forms/schema.js";
import { makeCalendar } from "./calendar.js";
import { Deadline, useItems } from "./Queue.jsx";

const ID_LIKE = /^([0-9]{17}[0-9Xx]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})$/;

function nameOf(thing, lang) {
  return lang === "en" ? thing?.name : thing?.name_zh || thing?.name;
}

// the file of one material, fetched with the token, as a blob: URL while shown
async function fetchFile(applicationId, fileId) {
  const response = await fetch(
    `/api/applications/${encodeURIComponent(applicationId)}/materials/${encodeURIComponent(fileId)}`,
    { headers: { Authorization: `Bearer ${currentToken()}` } },
  );
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error, body.message, body.fields);
  }
  const blob = await response.blob();
  return { url: URL.createObjectURL(blob), type: blob.type };
}

function Material({ applicationId, material, name }) {
  const { t } = useTranslation("officer");
  const [shown, setShown] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => () => shown && URL.revokeObjectURL(shown.url), [shown]);

  async function toggle() {
    if (shown) {
      setShown(null);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setShown(await fetchFile(applicationId, material.file_id));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (material.license_id) {
    return (
      <li>
        <strong>{name}</strong>：{t("materials.licence", { id: material.license_id })}
      </li>
    );
  }
  const title = t("materials.viewer", { name });
  return (
    <li className="material">
      <strong>{name}</strong>{" "}
      <button type="button" className="secondary small-button" onClick={toggle} disabled={busy}
        aria-expanded={Boolean(shown)}>
        {shown ? t("materials.hide", { name }) : t("materials.view", { name })}
      </button>
      <ErrorMessage error={error} />
      {shown ? (
        shown.type.startsWith("image/") ? (
          <img className="material-view" src={shown.url} alt={title} />
        ) : (
          <iframe className="material-view" src={shown.url} title={title} />
        )
      ) : null}
    </li>
  );
}

function Decision({ task, item, onDone }) {
  const { t, i18n } = useTranslation("officer");
  const [decision, setDecision] = useState("");
  const [reason, setReason] = useState("");
  const [materials, setMaterials] = useState([]);
  const [attempted, setAttempted] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const standard = item?.material_details || (item?.materials || []).map((code) => ({ code }));

  function check() {
    const found = {};
    if (!decision) found.decision = t("decide.choose");
    if (decision && decision !== "approved" && !reason.trim()) found.reason = t("decide.reason_required");
    if (decision === "correction_required" && !materials.length)
      found.materials = t("decide.materials_required");
    return found;
  }
  // once a submission was tried, each message follows what is chosen and written now
  const problems = attempted ? check() : {};

  async function submit(event) {
    event.preventDefault();
    const found = check();
    setAttempted(true);
    setError(null);
    if (Object.keys(found).length) return;
    const body = { decision };
    if (decision !== "approved") body.reason = reason.trim();
    if (decision === "correction_required") body.materials = materials;
    setBusy(true);
    try {
      await api(`/api/officer/tasks/${encodeURIComponent(task.task_id)}/decision`, {
        method: "POST",
        body,
      });
      onDone(decision);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  const serverFields = error ? flatFields(error.fields) : {};
  return (
    <form onSubmit={submit} noValidate aria-labelledby="decide-heading" className="panel">
      <h2 id="decide-heading">{t("decide.heading")}</h2>
      <fieldset aria-describedby={problems.decision ? "decision-error" : undefined}>
        <legend>{t("decide.legend")}</legend>
        {["approved", "rejected", "correction_required"].map((value) => (
          <label key={value} className="check">
            <input
              type="radio"
              name="decision"
              value={value}
              checked={decision === value}
              onChange={() => setDecision(value)}
            />{" "}
            {t(`decide.${value}`)}
          </label>
        ))}
        {problems.decision ? (
          <p id="decision-error" className="field-error">
            {problems.decision}
          </p>
        ) : null}
      </fieldset>
      {decision === "correction_required" ? (
        <fieldset aria-describedby={problems.materials ? "materials-error" : "materials-hint"}>
          <legend>{t("decide.materials")}</legend>
          <p id="materials-hint" className="hint">
            {t("decide.materials_hint")}
          </p>
          {standard.map((m) => (
            <label key={m.code} className="check">
              <input
                type="checkbox"
                checked={materials.includes(m.code)}
                onChange={(e) => setMaterials(toggled(materials, m.code, e.target.checked))}
              />{" "}
              {nameOf(m, i18n.language) || m.code}
            </label>
          ))}
          {problems.materials ? (
            <p id="materials-error" className="field-error">
              {problems.materials}
            </p>
          ) : null}
        </fieldset>
      ) : null}
      {decision && decision !== "approved" ? (
        <div className="field">
          <label htmlFor="decision-reason">
            {t(decision === "rejected" ? "decide.reason_reject" : "decide.reason_correct")}
          </label>
          <textarea
            id="decision-reason"
            rows={3}
            maxLength={2000}
            value={reason}
            required
            aria-invalid={problems.reason ? "true" : undefined}
            aria-describedby={problems.reason ? "reason-error" : undefined}
            onChange={(e) => setReason(e.target.value)}
          />
          {problems.reason ? (
            <p id="reason-error" className="field-error">
              {problems.reason}
            </p>
          ) : null}
        </div>
      ) : null}
      <ErrorMessage error={error && { ...error, fields: serverFields }} />
      <button type="submit" disabled={busy}>
        {t("decide.submit")}
      </button>
    </form>
  );
}

function Payment({ task, onDone }) {
  const { t } = useTranslation("officer");
  const [amount, setAmount] = useState(String(task.fee ?? 0));
  const [receipt, setReceipt] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(`/api/officer/tasks/${encodeURIComponent(task.task_id)}/payment`, {
        method: "POST",
        body: { amount: Number(amount), receipt_number: receipt.trim() },
      });
      onDone("paid");
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} aria-labelledby="pay-heading" className="panel">
      <h2 id="pay-heading">{t("pay.heading")}</h2>
      <p>{t("pay.fee", { fee: task.fee })}</p>
      <label htmlFor="pay-amount">{t("pay.amount")}</label>
      <input id="pay-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      <label htmlFor="pay-receipt">{t("pay.receipt")}</label>
      <input id="pay-receipt" maxLength={64} required value={receipt} onChange={(e) => setReceipt(e.target.value)} />
      <ErrorMessage error={error && { ...error, fields: flatFields(error.fields) }} />
      <button type="submit" disabled={busy || !receipt.trim()}>
        {t("pay.submit")}
      </button>
    </form>
  );
}

function History({ applicationId }) {
  const { t } = useTranslation("officer");
  const { data, error } = useApi(`/api/applications/${encodeURIComponent(applicationId)}/history`);
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">{t("history.heading")}</h2>
      <ErrorMessage error={error} />
      {data ? (
        <ol className="history">
          {data.history.map((h, index) => (
            <li key={index}>
              <time dateTime={h.at}>{formatDateTime(h.at)}</time>{" "}
              <span>{h.transition}</span>
              {h.by ? <span className="meta">{t("paren", { text: t("history.by", { by: h.by }) })}</span> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function TaskBody({ taskId }) {
  const { t, i18n } = useTranslation("officer");
  const lang = i18n.language;
  const { data, error, loading, reload } = useApi("/api/officer/tasks");
  const { data: cal } = useApi("/api/calendar", { anonymous: true });
  const [done, setDone] = useState(null);
  const heading = useRef(null);
  const task = data?.tasks?.find((x) => x.task_id === taskId);
  const { data: scenario } = useApi(task ? `/api/scenarios/${task.scenario}` : null, { anonymous: true });
  const items = useItems(task ? [task.item_code] : []);
  const item = task ? items[task.item_code] : null;
  useEffect(() => {
    if (done) heading.current?.focus();
  }, [done]);

  if (done) {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          {t("decided.heading")}
        </h1>
        <p className="success" role="status">
          {t(`decided.${done}`)}
        </p>
        <Link href="/officer" className="button">
          {t("decided.back")}
        </Link>
      </section>
    );
  }
  if (loading && !data) return <Loading />;
  if (error) return <ErrorMessage error={error} onRetry={reload} />;
  if (!task) {
    return (
      <section>
        <h1>{t("task.gone")}</h1>
        <p>{t("task.gone_hint")}</p>
        <Link href="/officer">{t("decided.back")}</Link>
      </section>
    );
  }
  const properties = scenario?.form_schema?.properties || {};
  const materialNames = Object.fromEntries(
    (scenario?.checklist || []).map((m) => [m.code, nameOf(m, lang)]),
  );
  const applicant = task.applicant || {};
  return (
    <>
      <p className="no-print">
        <Link href="/officer">{t("task.back")}</Link>
      </p>
      <h1>{t("task.heading", { item: lang === "en" ? task.item_name : item?.name_zh || task.item_name })}</h1>
      <dl className="facts">
        <dt>{t("task.number")}</dt>
        <dd>{task.application_id}</dd>
        <dt>{t("task.package")}</dt>
        <dd>{nameOf(scenario, lang) || task.scenario}</dd>
        <dt>{t("task.state")}</dt>
        <dd>{t(`state.${task.state}`, { defaultValue: task.state })}</dd>
        <dt>{t("task.due")}</dt>
        <dd>
          <Deadline due={task.due} calendar={cal ? makeCalendar(cal) : null} />
        </dd>
        <dt>{t("task.channel")}</dt>
        <dd>{t(`channel.${task.channel}`, { defaultValue: task.channel })}</dd>
      </dl>

      <section aria-labelledby="applicant-heading">
        <h2 id="applicant-heading">{t("task.applicant")}</h2>
        <dl className="facts">
          <dt>{t("task.name")}</dt>
          <dd>{applicant.name}</dd>
          <dt>{t(applicant.kind === "enterprise" ? "task.credit_code" : "task.id_number")}</dt>
          <dd>{maskId(applicant.id_number)}</dd>
        </dl>
      </section>

      <section aria-labelledby="form-heading">
        <h2 id="form-heading">{t("task.form")}</h2>
        <dl className="facts">
          {Object.entries(task.form || {}).map(([name, value]) => (
            <div key={name} className="fact">
              <dt>{fieldTitle(properties[name], name, lang)}</dt>
              <dd>
                {typeof value === "string" && ID_LIKE.test(value)
                  ? maskId(value)
                  : displayValue(properties[name], value, lang)}
              </dd>
            </div>
          ))}
        </dl>
      </section>

      {Object.keys(task.inputs || {}).length ? (
        <section aria-labelledby="inputs-heading">
          <h2 id="inputs-heading">{t("task.inputs")}</h2>
          <dl className="facts">
            {Object.entries(task.inputs).map(([code, data]) => (
              <div key={code} className="fact">
                <dt>{code}</dt>
                <dd>
                  <code>{JSON.stringify(data)}</code>
                </dd>
              </div>
            ))}
          </dl>
        </section>
      ) : null}

      <section aria-labelledby="materials-heading">
        <h2 id="materials-heading">{t("materials.heading")}</h2>
        <ul className="materials">
          {(task.materials || []).map((m) => (
            <Material
              key={`${m.code}-${m.file_id || m.license_id}`}
              applicationId={task.application_id}
              material={m}
              name={materialNames[m.code] || m.code}
            />
          ))}
        </ul>
      </section>

      {task.state === "awaiting_payment" ? (
        <Payment task={task} onDone={setDone} />
      ) : (
        <Decision task={task} item={item} onDone={setDone} />
      )}

      <History applicationId={task.application_id} />
    </>
  );
}

export default function Task({ params }) {
  return (
    <RequireRole roles={["officer"]}>
      <TaskBody taskId={decodeURIComponent(params.id)} />
    </RequireRole>
  );
}
