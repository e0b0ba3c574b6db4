// The public licence check (anyone, no sign-in): a scanned QR code opens
// /verify?license=<id>, which asks GET /api/licenses/{id}/verification; or paste / choose
// the signed licence document (JSON) and POST it to /api/licenses/verify. The verdict and
// what the signature covers: the signed content the API returns, never the fields of the
// presented document beside it.
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearch } from "wouter";
import { api, ApiError } from "../api.js";
import { ErrorMessage, Loading } from "../components/common.jsx";
import { formatDate, formatDateTime } from "../format.js";
import { ItemName, useCatalogNames } from "./supervisor/names.js";

const TONE = { valid: "ok", expired: "wait", revoked: "bad", forged: "bad" };

function Verdict({ answer, source }) {
  const { t } = useTranslation("verify");
  const result = answer.result;
  return (
    <section aria-labelledby="verdict-heading" className={`verdict ${TONE[result] || "bad"}`}>
      <h2 id="verdict-heading">{t(`result.${result}.heading`)}</h2>
      <p>{t(`result.${result}.explain`)}</p>
      {result === "revoked" ? (
        <p>
          {t("revoked_detail", {
            when: formatDate(answer.revoked_at),
            reason: answer.revocation_reason || t("no_reason"),
          })}
        </p>
      ) : null}
      <p className="meta">{t(`source.${source}`)}</p>
      {answer.license ? <SignedContent license={answer.license} masked={answer.masked} /> : null}
    </section>
  );
}

function SignedContent({ license, masked }) {
  const { t } = useTranslation("verify");
  const names = useCatalogNames();
  const holder = license.holder || {};
  const issuer = license.issuer || {};
  const rows = [
    ["type_name", license.type_name || license.type],
    ["number", license.number],
    ["holder_name", holder.name],
    ["holder_kind", holder.kind ? t(`kinds.${holder.kind}`, { defaultValue: holder.kind }) : ""],
    ["holder_id", holder.id_number],
    ["issuer", `${names.region(issuer.region)} · ${names.department(issuer.department)}`],
    ["issued_at", formatDateTime(license.issued_at)],
    ["expires_at", license.expires_at ? formatDate(license.expires_at) : t("no_expiry")],
    ["application_id", license.application_id],
    [
      "item_code",
      license.item_code ? (
        <>
          <ItemName code={license.item_code} />（{license.item_code}）
        </>
      ) : null,
    ],
    ["key_id", license.key_id],
  ];
  const data = Object.entries(license.data || {});
  return (
    <div className="signed-content">
      <h3>{t("covers.heading")}</h3>
      <p>{t("covers.lead")}</p>
      {masked?.length ? <p className="hint">{t("covers.masked")}</p> : null}
      <dl className="facts">
        {rows.map(([key, value]) => (
          <div key={key}>
            <dt>{t(`fields.${key}`)}</dt>
            <dd>{value || "—"}</dd>
          </div>
        ))}
        {data.map(([key, value]) => (
          <div key={`data-${key}`}>
            <dt>
              {t("fields.data")} · <code>{key}</code>
            </dt>
            <dd>{typeof value === "object" ? JSON.stringify(value) : String(value)}</dd>
          </div>
        ))}
      </dl>
      <details>
        <summary>{t("covers.raw")}</summary>
        <pre className="raw-json" tabIndex={0} aria-label={t("covers.raw")}>
          {JSON.stringify(license, null, 2)}
        </pre>
      </details>
    </div>
  );
}

// the licence a scanned QR code names
function ById({ id }) {
  const { t } = useTranslation("verify");
  const [state, setState] = useState({ answer: null, error: null });
  useEffect(() => {
    let live = true;
    setState({ answer: null, error: null });
    api(`/api/licenses/${encodeURIComponent(id)}/verification`, { anonymous: true }).then(
      (answer) => live && setState({ answer, error: null }),
      (error) => live && setState({ answer: null, error }),
    );
    return () => {
      live = false;
    };
  }, [id]);
  if (state.error?.status === 404) {
    return (
      <section className="verdict bad" aria-labelledby="verdict-heading">
        <h2 id="verdict-heading">{t("unknown.heading")}</h2>
        <p>{t("unknown.explain", { id })}</p>
      </section>
    );
  }
  if (state.error) return <ErrorMessage error={state.error} />;
  if (!state.answer) return <Loading />;
  return <Verdict answer={state.answer} source="id" />;
}

function ByDocument() {
  const { t } = useTranslation("verify");
  const textId = useId();
  const fileId = useId();
  const [text, setText] = useState("");
  const [problem, setProblem] = useState(null);
  const [error, setError] = useState(null);
  const [answer, setAnswer] = useState(null);
  const [busy, setBusy] = useState(false);

  async function readFile(event) {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > 64 * 1024) {
      setProblem(t("paste.too_large"));
      return;
    }
    setText(await file.text());
    setProblem(null);
  }

  async function check(event) {
    event.preventDefault();
    setProblem(null);
    setError(null);
    setAnswer(null);
    let document;
    try {
      document = JSON.parse(text);
    } catch {
      setProblem(t("paste.not_json"));
      return;
    }
    if (!document || typeof document !== "object" || Array.isArray(document)) {
      setProblem(t("paste.not_object"));
      return;
    }
    setBusy(true);
    try {
      setAnswer(await api("/api/licenses/verify", { method: "POST", body: document, anonymous: true }));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "network", e.message));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="paste-heading" className="panel">
      <h2 id="paste-heading">{t("paste.heading")}</h2>
      <form onSubmit={check} noValidate>
        <label htmlFor={textId}>{t("paste.label")}</label>
        <p className="hint" id={`${textId}-hint`}>
          {t("paste.hint")}
        </p>
        <textarea
          id={textId}
          rows={8}
          value={text}
          aria-describedby={`${textId}-hint`}
          aria-invalid={problem ? "true" : undefined}
          onInput={(e) => setText(e.target.value)}
          spellCheck={false}
        />
        <label htmlFor={fileId}>{t("paste.file")}</label>
        <input id={fileId} type="file" accept="application/json,.json" onChange={readFile} />
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : null}
        <p>
          <button type="submit" disabled={busy || !text.trim()}>
            {busy ? t("paste.checking") : t("paste.submit")}
          </button>
        </p>
      </form>
      <ErrorMessage error={error} />
      <div aria-live="polite">{answer ? <Verdict answer={answer} source="document" /> : null}</div>
    </section>
  );
}

export default function Verify() {
  const { t } = useTranslation("verify");
  const id = new URLSearchParams(useSearch()).get("license");
  return (
    <>
      <h1>{t("heading")}</h1>
      <p>{t("lead")}</p>
      {id ? <ById id={id} /> : null}
      <ByDocument />
      <p className="hint">
        {t("offline")} <a href="/.well-known/license-keys.json">{t("keys_link")}</a>
      </p>
    </>
  );
}
