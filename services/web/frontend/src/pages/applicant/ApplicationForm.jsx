// The application form of one package, loaded with the form library only when a signed-in
// applicant opens a package: who applies and where (name, county), the package's own form
// generated from its JSON Schema by @rjsf/core (src/forms/: validated without code generation,
// messages per field in the page's language, the server's 400 field messages put back at the
// fields), the uploads of the materials still needed, and one submission.
import { useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation } from "wouter";
import Form from "@rjsf/core";
import { api, newIdempotencyKey } from "../../api.js";
import { ErrorMessage, useApi } from "../../components/common.jsx";
import { maskId } from "../../format.js";
import {
  cleanSchema,
  extraErrorsOf,
  serverMessage,
  transformErrors,
  translateString,
  uiSchemaFor,
} from "../../forms/schema.js";
import validator from "../../forms/validator.js";
import { holderKind, MaterialUpload, named } from "./shared.jsx";

const NAME = "_applicant_name";
const REGION = "_region";
const DEFAULT_REGION = "430102";

function isPhone() {
  return window.matchMedia?.("(max-width: 40rem)").matches;
}

export default function ApplicationForm({ scenario, claims, needed, optional }) {
  const { t, i18n } = useTranslation("applicant");
  const lang = i18n.language;
  const [, navigate] = useLocation();
  const regions = useApi("/api/regions", { anonymous: true });
  const counties = (regions.data?.regions || []).filter((r) => r.level === "county");

  const schema = useMemo(() => {
    const form = cleanSchema(scenario.form_schema || { type: "object", properties: {} });
    const regionCodes = counties.length ? counties.map((r) => r.code) : [DEFAULT_REGION];
    return {
      type: "object",
      required: [NAME, REGION, ...(form.required || [])],
      properties: {
        [NAME]: { type: "string", minLength: 1, maxLength: 100 },
        [REGION]: { type: "string", enum: regionCodes },
        ...(form.properties || {}),
      },
    };
  }, [scenario, counties.length]); // eslint-disable-line react-hooks/exhaustive-deps

  const uiSchema = useMemo(() => {
    const ui = uiSchemaFor(scenario.form_schema, lang);
    return {
      "ui:title": t("form.title"),
      "ui:description": t("form.description"),
      "ui:order": [NAME, REGION, "*"],
      [NAME]: { "ui:title": t("form.applicant_name"), "ui:help": t("form.applicant_name_help") },
      [REGION]: {
        "ui:title": t("form.region"),
        "ui:enumNames": counties.length ? counties.map((r) => r.name) : [DEFAULT_REGION],
      },
      ...ui,
    };
  }, [scenario, lang, counties.length]); // eslint-disable-line react-hooks/exhaustive-deps

  const [formData, setFormData] = useState({ [NAME]: claims.name || "", [REGION]: DEFAULT_REGION });
  const [uploads, setUploads] = useState({});
  const [materialErrors, setMaterialErrors] = useState({});
  const [serverErrors, setServerErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [sending, setSending] = useState(false);
  // one attempt: the same body sent again (a retry) keeps its Idempotency-Key
  const attempt = useRef({ key: null, body: null });
  const inFlight = useRef(false);

  const toUpload = needed.filter((m) => m.how === "upload");

  function checkMaterials() {
    const missing = {};
    for (const m of toUpload) if (!uploads[m.code]) missing[m.code] = t("upload.required");
    setMaterialErrors(missing);
    return missing;
  }

  function focusFirstMissing(missing) {
    const first = toUpload.find((m) => missing[m.code]);
    if (first) document.getElementById(`material-${first.code}`)?.focus();
  }

  async function submit({ formData: values }) {
    if (inFlight.current) return; // one submission at a time (Enter pressed again while sending)
    const missing = checkMaterials();
    if (Object.keys(missing).length) {
      focusFirstMissing(missing);
      return;
    }
    const { [NAME]: name, [REGION]: region, ...form } = values;
    const body = {
      scenario: scenario.code,
      applicant: { kind: holderKind(claims.sub), id_number: claims.sub, name: name.trim() },
      region,
      channel: isPhone() ? "mobile" : "online",
      form,
      materials: toUpload.map((m) => ({ code: m.code, file_id: uploads[m.code].file_id })),
      optional_items: optional,
    };
    const text = JSON.stringify(body);
    if (attempt.current.body !== text) attempt.current = { key: newIdempotencyKey(), body: text };
    inFlight.current = true;
    setSending(true);
    setFailure(null);
    setServerErrors({});
    try {
      const answer = await api("/api/applications", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": attempt.current.key },
      });
      navigate(`/applications/${answer.id}`);
    } catch (error) {
      setFailure(error);
      const fields = error.fields || {};
      const errors = extraErrorsOf(fields.form);
      if (fields.applicant?.name) errors[NAME] = { __errors: [].concat(fields.applicant.name).map(serverMessage) };
      if (fields.region) errors[REGION] = { __errors: [].concat(fields.region).map(serverMessage) };
      setServerErrors(errors);
      setSending(false);
      inFlight.current = false;
    }
  }

  return (
    <div className="application-form">
      <p>{t("form.who", { name: claims.name || "", id: maskId(claims.sub) })}</p>
      <Form
        schema={schema}
        uiSchema={uiSchema}
        validator={validator}
        formData={formData}
        onChange={(e) => {
          setFormData(e.formData);
        }}
        onSubmit={submit}
        onError={() => checkMaterials()}
        transformErrors={transformErrors}
        translateString={translateString}
        extraErrors={serverErrors}
        showErrorList={false}
        focusOnFirstError
        noHtml5Validate
        idPrefix="field"
      >
        <fieldset className="materials">
          <legend>{t("upload.heading")}</legend>
          {toUpload.length ? (
            <p className="hint" id="materials-hint">
              {t("upload.hint")}
            </p>
          ) : (
            <p>{t("upload.nothing")}</p>
          )}
          {toUpload.map((m) => (
            <MaterialUpload
              key={m.code}
              id={`material-${m.code}`}
              label={named(m, lang)}
              value={uploads[m.code]}
              error={materialErrors[m.code]}
              describedBy="materials-hint"
              onUploaded={(file) => {
                setUploads((u) => ({ ...u, [m.code]: file }));
                if (file) setMaterialErrors((e) => ({ ...e, [m.code]: undefined }));
              }}
            />
          ))}
        </fieldset>
        {failure ? <SubmitFailure error={failure} onRetry={failure.status === 0 || failure.status >= 500 ? () => submit({ formData }) : null} /> : null}
        <p>
          <button type="submit" disabled={sending} aria-disabled={sending}>
            {sending ? t("apply.sending") : t("apply.submit")}
          </button>
        </p>
      </Form>
    </div>
  );
}

// what went wrong with the submission; a network or server failure offers a retry (same key)
function SubmitFailure({ error, onRetry }) {
  const { t } = useTranslation("applicant");
  const fields = error.fields || {};
  const missing = [].concat(fields.materials?.missing || []);
  if (error.status === 400 || error.status === 422) {
    return (
      <div className="error" role="alert">
        <p>{t("apply.invalid")}</p>
        {missing.length ? <p>{t("apply.materials_missing")}</p> : null}
      </div>
    );
  }
  return <ErrorMessage error={error} onRetry={onRetry} />;
}
