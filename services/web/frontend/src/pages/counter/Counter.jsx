// The window clerk applies for the person at the counter (channel `counter`, only inside
// the counter's region: docs/adr/0020-staff-scopes.md): pick the package, enter the
// applicant's identity and the package's form (from its JSON Schema), scan the materials
// (the clerk's own uploads), submit once, then print the receipt. Below: what this
// counter's clerk has submitted, each with its receipt.
import { useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "wouter";
import Form from "@rjsf/core";
import { api, newIdempotencyKey } from "../../api.js";
import { ErrorMessage, Loading, RequireRole, toggled, useApi } from "../../components/common.jsx";
import { DataTable } from "../../components/DataTable.jsx";
import { formatDateTime, workingDays } from "../../format.js";
import { useSession } from "../../session.js";
import {
  cleanSchema,
  extraErrorsOf,
  flatFields,
  transformErrors,
  translateString,
  uiSchemaFor,
} from "../../forms/schema.js";
import validator from "../../forms/validator.js";

const ID_PATTERNS = {
  person: /^[0-9]{17}[0-9X]$/,
  enterprise: /^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/,
};

function nameOf(thing, lang) {
  return lang === "en" ? thing?.name : thing?.name_zh || thing?.name;
}

// the materials this application needs: every checklist entry of a chosen item that no
// other chosen item produces (as the API checks them)
function neededMaterials(scenario, optional) {
  const chosen = new Set(
    scenario.items.filter((i) => !i.optional || optional.includes(i.code)).map((i) => i.code),
  );
  return scenario.checklist.filter(
    (m) => m.items.some((code) => chosen.has(code)) && !chosen.has(m.provided_by),
  );
}

function PackagePicker({ onPick }) {
  const { t, i18n } = useTranslation("counter");
  const { data, error, loading, reload } = useApi("/api/scenarios", { anonymous: true });
  const [q, setQ] = useState("");
  const [found, setFound] = useState(null);
  const [searchError, setSearchError] = useState(null);
  const [chosen, setChosen] = useState("");

  async function search(event) {
    event.preventDefault();
    if (!q.trim()) return;
    try {
      const answer = await api(`/api/search?q=${encodeURIComponent(q.trim())}&limit=5`, {
        anonymous: true,
      });
      setFound(answer.results);
      setSearchError(null);
    } catch (e) {
      setFound(null);
      setSearchError(e);
    }
  }

  return (
    <section aria-labelledby="pick-heading" className="panel">
      <h2 id="pick-heading">{t("pick.heading")}</h2>
      {loading && !data ? <Loading /> : null}
      <ErrorMessage error={error} onRetry={reload} />
      <form
        className="pick-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) onPick(chosen);
        }}
      >
        <label htmlFor="pick-package">{t("pick.label")}</label>
        <div className="search-row">
          <select id="pick-package" value={chosen} onChange={(e) => setChosen(e.target.value)}>
            <option value="">{t("pick.none")}</option>
            {(data?.scenarios || []).map((s) => (
              <option key={s.code} value={s.code}>
                {nameOf(s, i18n.language)}
              </option>
            ))}
          </select>
          <button type="submit" disabled={!chosen}>
            {t("pick.button")}
          </button>
        </div>
      </form>
      <form role="search" onSubmit={search}>
        <label htmlFor="pick-q">{t("pick.search_label")}</label>
        <div className="search-row">
          <input
            id="pick-q"
            type="search"
            value={q}
            maxLength={100}
            onChange={(e) => setQ(e.target.value)}
          />
          <button type="submit" className="secondary">
            {t("pick.search_button")}
          </button>
        </div>
      </form>
      <ErrorMessage error={searchError} />
      <div aria-live="polite">
        {found && !found.length ? <p>{t("pick.no_results")}</p> : null}
        {found?.length ? (
          <ul className="plain-list">
            {found.map((r) => (
              <li key={r.code}>
                <button type="button" className="secondary" onClick={() => onPick(r.code)}>
                  {t("pick.use", { name: nameOf(r, i18n.language) })}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </section>
  );
}

function MaterialUpload({ material, value, onChange, error }) {
  const { t, i18n } = useTranslation("counter");
  const [state, setState] = useState({ busy: false, error: null });
  const id = `material-${material.code}`;

  async function upload(event) {
    const file = event.target.files?.[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    setState({ busy: true, error: null });
    try {
      const stored = await api("/api/uploads", { method: "POST", form });
      onChange({ ...value, file_id: stored.file_id, name: file.name, size: stored.size });
      setState({ busy: false, error: null });
    } catch (e) {
      setState({ busy: false, error: e });
    }
  }

  return (
    <li className="material">
      <label htmlFor={id}>{nameOf(material, i18n.language)}</label>
      <input
        id={id}
        type="file"
        accept="application/pdf,image/jpeg,image/png"
        onChange={upload}
        aria-describedby={`${id}-state`}
        aria-invalid={error ? "true" : undefined}
      />
      <p id={`${id}-state`} className="hint" aria-live="polite">
        {state.busy
          ? t("materials.uploading")
          : value?.license_id
            ? t("materials.from_licence", { id: value.license_id })
            : value?.file_id
              ? t("materials.uploaded", { name: value.name, size: Math.ceil(value.size / 1024) })
              : t("materials.missing")}
      </p>
      <label htmlFor={`${id}-licence`} className="secondary-label">
        {t("materials.licence")}
      </label>
      <input
        id={`${id}-licence`}
        className="licence-input"
        value={value?.license_id || ""}
        maxLength={32}
        autoComplete="off"
        aria-describedby={`${id}-licence-hint`}
        onChange={(e) => {
          const { license_id: _, ...rest } = value || {};
          const licence = e.target.value.trim();
          onChange(licence ? { ...rest, license_id: licence } : rest.file_id ? rest : null);
        }}
      />
      <p id={`${id}-licence-hint`} className="hint">
        {t("materials.licence_hint")}
      </p>
      {error ? <p className="field-error">{error}</p> : null}
      <ErrorMessage error={state.error} />
    </li>
  );
}

function ApplicationForm({ code, onCancel }) {
  const { t, i18n } = useTranslation("counter");
  const lang = i18n.language;
  const { claims } = useSession();
  const [, navigate] = useLocation();
  const { data: scenario, error: loadError, loading } = useApi(`/api/scenarios/${code}`, {
    anonymous: true,
  });
  const kinds = scenario?.applicant_kinds || ["person"];
  const [applicant, setApplicant] = useState({ kind: "", name: "", id_number: "" });
  const [region, setRegion] = useState(claims?.region || "");
  const [counter, setCounter] = useState({
    centre_code: `ZW${claims?.region || ""}`,
    centre_name: claims?.name || "",
    window: "",
  });
  const [optional, setOptional] = useState([]);
  const [formData, setFormData] = useState({});
  const [files, setFiles] = useState({});
  const [attempted, setAttempted] = useState(false);
  const [serverError, setServerError] = useState(null);
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey());
  const formRef = useRef(null);

  const schema = useMemo(
    () => (scenario ? { ...cleanSchema(scenario.form_schema), title: undefined } : null),
    [scenario],
  );
  const uiSchema = useMemo(
    () => (scenario ? uiSchemaFor(scenario.form_schema, lang, { submitButton: false }) : {}),
    [scenario, lang],
  );

  if (loading && !scenario) return <Loading />;
  if (loadError) return <ErrorMessage error={loadError} />;
  if (!scenario) return null;

  const kind = applicant.kind || kinds[0];
  const needed = neededMaterials(scenario, optional);
  const optionalItems = scenario.items.filter((i) => i.optional);

  function check() {
    const found = {};
    if (!applicant.name.trim()) found.name = t("applicant.name_required");
    if (!ID_PATTERNS[kind].test(applicant.id_number.trim()))
      found.id_number = t(`applicant.id_invalid_${kind}`);
    if (!/^[0-9]{6}([0-9]{3})?$/.test(region)) found.region = t("applicant.region_invalid");
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(counter.centre_code))
      found.centre_code = t("counter.code_invalid");
    if (!counter.centre_name.trim()) found.centre_name = t("counter.name_required");
    for (const m of needed) if (!files[m.code]) found[`material-${m.code}`] = t("materials.required");
    return found;
  }
  // once a submission was tried, each entry's message follows what is filled now
  const problems = attempted ? check() : {};

  async function submit(event) {
    event.preventDefault();
    setServerError(null);
    const found = check();
    const formValid = formRef.current ? formRef.current.validateForm() : true;
    setAttempted(true);
    if (Object.keys(found).length || !formValid) {
      const first = document.querySelector("[aria-invalid='true'], .field-error, .rjsf .error-detail");
      first?.scrollIntoView?.({ block: "center" });
      setServerError({ status: 400, client: true });
      return;
    }
    setBusy(true);
    const body = {
      scenario: scenario.code,
      applicant: { kind, name: applicant.name.trim(), id_number: applicant.id_number.trim() },
      region,
      channel: "counter",
      form: formData,
      materials: needed.map((m) =>
        files[m.code].license_id
          ? { code: m.code, license_id: files[m.code].license_id }
          : { code: m.code, file_id: files[m.code].file_id },
      ),
      optional_items: optional,
      counter: {
        centre_code: counter.centre_code,
        centre_name: counter.centre_name.trim(),
        ...(counter.window.trim() ? { window: counter.window.trim() } : {}),
      },
    };
    try {
      const accepted = await api("/api/applications", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": key.current },
      });
      navigate(`/counter/receipt/${accepted.id}`);
    } catch (e) {
      setServerError(e);
      setBusy(false);
    }
  }

  const serverFields = serverError && !serverError.client ? flatFields(serverError.fields) : {};
  const otherFields = Object.fromEntries(
    Object.entries(serverFields).filter(([name]) => !name.startsWith("form.")),
  );
  const field = (name, label, value, onChange, extra = {}) => (
    <div className="field">
      <label htmlFor={`f-${name}`}>{label}</label>
      <input
        id={`f-${name}`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={problems[name] ? "true" : undefined}
        aria-describedby={problems[name] ? `f-${name}-error` : undefined}
        {...extra}
      />
      {problems[name] ? (
        <p id={`f-${name}-error`} className="field-error">
          {problems[name]}
        </p>
      ) : null}
    </div>
  );

  return (
    <form onSubmit={submit} noValidate aria-labelledby="apply-heading" className="counter-form">
      <h2 id="apply-heading">{t("apply.heading", { name: nameOf(scenario, lang) })}</h2>
      <p className="meta">
        {t("apply.meta", {
          items: scenario.items.length,
          days: workingDays(scenario.promised_days),
        })}{" "}
        <button type="button" className="link-button" onClick={onCancel}>
          {t("apply.change")}
        </button>
      </p>

      <fieldset>
        <legend>{t("applicant.legend")}</legend>
        {kinds.length > 1 ? (
          <div className="field">
            <label htmlFor="f-kind">{t("applicant.kind")}</label>
            <select
              id="f-kind"
              value={kind}
              onChange={(e) => setApplicant({ ...applicant, kind: e.target.value })}
            >
              {kinds.map((k) => (
                <option key={k} value={k}>
                  {t(`applicant.kinds.${k}`)}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {field(
          "name",
          t(kind === "enterprise" ? "applicant.name_enterprise" : "applicant.name"),
          applicant.name,
          (v) => setApplicant({ ...applicant, name: v }),
          { maxLength: 100, autoComplete: "off" },
        )}
        {field(
          "id_number",
          t(kind === "enterprise" ? "applicant.credit_code" : "applicant.id_number"),
          applicant.id_number,
          (v) => setApplicant({ ...applicant, id_number: v.toUpperCase() }),
          { maxLength: 18, autoComplete: "off", spellCheck: false },
        )}
        {field("region", t("applicant.region"), region, setRegion, {
          maxLength: 9,
          inputMode: "numeric",
          "aria-describedby": "f-region-hint",
        })}
        <p id="f-region-hint" className="hint">
          {t("applicant.region_hint", { region: claims?.region || "" })}
        </p>
      </fieldset>

      <fieldset>
        <legend>{t("counter.legend")}</legend>
        {field("centre_name", t("counter.centre_name"), counter.centre_name, (v) =>
          setCounter({ ...counter, centre_name: v }),
        )}
        {field("centre_code", t("counter.centre_code"), counter.centre_code, (v) =>
          setCounter({ ...counter, centre_code: v }),
        )}
        {field("window", t("counter.window"), counter.window, (v) =>
          setCounter({ ...counter, window: v }),
          { maxLength: 20 },
        )}
      </fieldset>

      {optionalItems.length ? (
        <fieldset>
          <legend>{t("optional.legend")}</legend>
          {optionalItems.map((item) => (
            <label key={item.code} className="check">
              <input
                type="checkbox"
                checked={optional.includes(item.code)}
                onChange={(e) => setOptional(toggled(optional, item.code, e.target.checked))}
              />{" "}
              {nameOf(item, lang)}
            </label>
          ))}
        </fieldset>
      ) : null}

      <fieldset className="rjsf-wrap">
        <legend>{t("form.legend")}</legend>
        <Form
          ref={formRef}
          tagName="div"
          schema={schema}
          uiSchema={uiSchema}
          formData={formData}
          validator={validator}
          onChange={(e) => setFormData(e.formData)}
          transformErrors={transformErrors}
          translateString={translateString}
          extraErrors={extraErrorsOf(serverError?.fields?.form)}
          showErrorList={false}
          noHtml5Validate
        />
      </fieldset>

      <fieldset>
        <legend>{t("materials.legend")}</legend>
        <p className="hint">{t("materials.hint")}</p>
        <ul className="materials">
          {needed.map((m) => (
            <MaterialUpload
              key={m.code}
              material={m}
              value={files[m.code]}
              error={problems[`material-${m.code}`]}
              onChange={(v) => setFiles((all) => ({ ...all, [m.code]: v }))}
            />
          ))}
        </ul>
      </fieldset>

      {serverError?.client ? (
        <p className="error" role="alert">
          {t("apply.fix")}
        </p>
      ) : (
        <ErrorMessage error={serverError && { ...serverError, fields: otherFields }} />
      )}
      <button type="submit" disabled={busy}>
        {busy ? t("apply.submitting") : t("apply.submit")}
      </button>
    </form>
  );
}

function MySubmissions() {
  const { t, i18n } = useTranslation("counter");
  const { data, error } = useApi("/api/applications?limit=10");
  const { data: catalog } = useApi("/api/scenarios", { anonymous: true });
  const names = Object.fromEntries(
    (catalog?.scenarios || []).map((s) => [s.code, nameOf(s, i18n.language)]),
  );
  const apps = data?.applications || [];
  return (
    <section aria-labelledby="mine-heading">
      <h2 id="mine-heading">{t("mine.heading")}</h2>
      <ErrorMessage error={error} />
      {data && !apps.length ? <p>{t("mine.none")}</p> : null}
      {apps.length ? (
        <DataTable
          caption={t("mine.heading")}
          captionHidden
          columns={[
            { key: "number", header: t("mine.number"), cell: (a) => <Link href={`/counter/receipt/${a.id}`}>{a.id}</Link> },
            { key: "applicant", header: t("mine.applicant"), cell: (a) => a.applicant.name },
            { key: "package", header: t("mine.package"), cell: (a) => names[a.scenario] || a.scenario },
            { key: "submitted", header: t("mine.submitted"), cell: (a) => formatDateTime(a.submitted_at) },
            { key: "status", header: t("mine.status"), cell: (a) => t(`status.${a.status}`, { defaultValue: a.status }) },
          ]}
          rows={apps}
          rowKey={(a) => a.id}
        />
      ) : null}
    </section>
  );
}

export default function Counter() {
  const { t } = useTranslation("counter");
  const [code, setCode] = useState(null);
  return (
    <RequireRole roles={["clerk"]}>
      <h1>{t("heading")}</h1>
      <p>{t("lead")}</p>
      {code ? (
        <ApplicationForm key={code} code={code} onCancel={() => setCode(null)} />
      ) : (
        <PackagePicker onPick={setCode} />
      )}
      <MySubmissions />
    </RequireRole>
  );
}
