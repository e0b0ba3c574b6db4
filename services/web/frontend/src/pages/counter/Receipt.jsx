// The receipt (回执) the counter prints for the applicant: the application number, who
// applied (ID number masked), the package, when, the promised time, the materials received
// and a QR code of the follow-up link (the receipt API's follow_up_url). Print hides the
// site's chrome (@media print in styles.css).
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import QRCode from "qrcode";
import { ErrorMessage, Loading, RequireRole, useApi } from "../../components/common.jsx";
import { formatDate, formatDateTime, workingDays } from "../../format.js";

function useQr(text) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    if (!text) return undefined;
    let live = true;
    QRCode.toDataURL(text, { errorCorrectionLevel: "M", margin: 1, width: 200 }).then(
      (data) => live && setUrl(data),
      () => live && setUrl(null),
    );
    return () => {
      live = false;
    };
  }, [text]);
  return url;
}

function ReceiptBody({ id }) {
  const { t, i18n } = useTranslation("counter");
  const lang = i18n.language;
  const { data: receipt, error, loading, reload } = useApi(
    `/api/applications/${encodeURIComponent(id)}/receipt`,
  );
  const { data: scenario } = useApi(receipt ? `/api/scenarios/${receipt.scenario}` : null, {
    anonymous: true,
  });
  const qr = useQr(receipt?.follow_up_url);
  if (loading && !receipt) return <Loading />;
  if (error) return <ErrorMessage error={error} onRetry={reload} />;
  if (!receipt) return null;
  const materialNames = Object.fromEntries(
    (scenario?.checklist || []).map((m) => [m.code, lang === "en" ? m.name : m.name_zh || m.name]),
  );
  const packageName =
    lang === "en" && scenario ? scenario.name : receipt.scenario_name || scenario?.name_zh;
  const counter = receipt.counter;
  return (
    <article className="receipt" aria-labelledby="receipt-heading">
      <h1 id="receipt-heading">{t("receipt.heading")}</h1>
      <div className="receipt-top">
        <dl className="facts">
          <dt>{t("receipt.number")}</dt>
          <dd className="receipt-number">{receipt.application_id}</dd>
          <dt>{t("receipt.applicant")}</dt>
          <dd>
            {receipt.applicant.name}
            {receipt.applicant.id_number_masked ? (
              <>
                {" "}
                <span className="nowrap">
                  {t("paren", {
                    text: t(`receipt.id_label`, {
                      label: t(`receipt.id_${receipt.applicant.kind}`),
                      id: receipt.applicant.id_number_masked,
                    }),
                  })}
                </span>
              </>
            ) : null}
          </dd>
          <dt>{t("receipt.package")}</dt>
          <dd>{packageName || receipt.scenario}</dd>
          <dt>{t("receipt.submitted")}</dt>
          <dd>{formatDateTime(receipt.submitted_at)}</dd>
          <dt>{t("receipt.promise")}</dt>
          <dd>
            {scenario ? workingDays(scenario.promised_days) : null}
            {receipt.promised_due
              ? t("receipt.due", { date: formatDate(receipt.promised_due) })
              : ` ${t("receipt.due_pending")}`}
          </dd>
          {counter ? (
            <>
              <dt>{t("receipt.counter")}</dt>
              <dd>
                {counter.centre_name || counter.region}
                {counter.window ? t("receipt.window", { window: counter.window }) : null}
              </dd>
            </>
          ) : null}
          <dt>{t("receipt.status")}</dt>
          <dd>{t(`status.${receipt.status}`, { defaultValue: receipt.status })}</dd>
        </dl>
        <figure className="qr">
          {qr ? (
            <img src={qr} width="200" height="200" alt={t("receipt.qr_alt")} />
          ) : (
            <Loading />
          )}
          <figcaption>
            {t("receipt.qr_caption")}
            <br />
            <a href={receipt.follow_up_url} className="follow-up">
              {receipt.follow_up_url}
            </a>
          </figcaption>
        </figure>
      </div>
      <h2>{t("receipt.materials")}</h2>
      <ul>
        {receipt.materials_received.map((m) => (
          <li key={m.code}>
            {materialNames[m.code] || m.code}
            {t("paren", { text: t(`receipt.form_${m.form}`) })}
          </li>
        ))}
      </ul>
      <p className="hint">{t("receipt.keep")}</p>
      <div className="actions no-print">
        <button type="button" onClick={() => window.print()}>
          {t("receipt.print")}
        </button>
        <Link href="/counter" className="button secondary">
          {t("receipt.next")}
        </Link>
      </div>
    </article>
  );
}

export default function Receipt({ params }) {
  return (
    <RequireRole roles={["clerk", "applicant", "supervisor", "operator"]}>
      <ReceiptBody id={params.id} />
    </RequireRole>
  );
}
