// What the applicant's screens share: names in the page's language (packages, items,
// departments, materials, licence types), the status labels, the upload of one material
// and an e-licence card with the QR code that anyone can scan to verify it.
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import QRCode from "qrcode";
import { api } from "../../api.js";
import { useApi } from "../../components/common.jsx";
import { formatDate } from "../../format.js";
import i18n from "../../i18n/index.js";

// the catalog's own Chinese name when the page is Chinese, else its English name
export function named(thing, lang) {
  if (!thing) return "";
  return lang === "en" ? thing.name || thing.name_zh || thing.code : thing.name_zh || thing.name || thing.code;
}

// a list said in the page's language: 甲、乙、丙 / A, B, C
export function joined(list, lang) {
  return list.join(lang === "en" ? ", " : "、");
}

// department code -> the department as the catalog lists it (names in both languages)
export function useDepartments() {
  const { data } = useApi("/api/departments", { anonymous: true });
  const byCode = {};
  for (const d of data?.departments || []) byCode[d.code] = d;
  return byCode;
}

// the person's kind from their identifier: an 18-digit ID number or a credit code
export function holderKind(sub) {
  return /^[0-9]{17}[0-9X]$/.test(sub || "") ? "person" : "enterprise";
}

export const FINAL = ["approved", "rejected", "withdrawn", "not_accepted"];

export function statusTone(status) {
  if (["approved", "valid"].includes(status)) return "ok";
  if (["rejected", "withdrawn", "not_accepted", "cancelled", "revoked", "expired"].includes(status)) return "bad";
  return "wait";
}

export function StatusBadge({ status, kind = "status" }) {
  const { t } = useTranslation("applicant");
  return <span className={`status ${statusTone(status)}`}>{t(`${kind}.${status}`, { defaultValue: status })}</span>;
}

// the public page that verifies a licence: what its QR code encodes
export function verifyUrl(licenceId) {
  return `${window.location.origin}/verify?license=${encodeURIComponent(licenceId)}`;
}

export function QrCode({ text, label, size = 160 }) {
  const [src, setSrc] = useState(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(text, { width: size, margin: 1, errorCorrectionLevel: "M" })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [text, size]);
  if (!src) return null;
  return <img className="qr" src={src} width={size} height={size} alt={label} data-qr-text={text} />;
}

// the licence type's name: the licence's own (English) name in English, ours in Chinese
export function licenceTypeName(licence, t) {
  const type = licence.type || licence.license_type;
  if (i18n.language === "en") return licence.type_name || type;
  return t(`licence_types.${type}`, { defaultValue: licence.type_name || type });
}

export function LicenceCard({ licence, headingLevel = 3 }) {
  const { t } = useTranslation("applicant");
  const departments = useDepartments();
  const H = `h${headingLevel}`;
  const name = licenceTypeName(licence, t);
  const issuer = departments[licence.issuer?.department];
  const { i18n } = useTranslation();
  return (
    <article className="licence-card" aria-label={name}>
      <div className="licence-text">
        <H>{name}</H>
        <dl className="facts">
          <dt>{t("licence.number")}</dt>
          <dd>{licence.number}</dd>
          <dt>{t("licence.holder")}</dt>
          <dd>{licence.holder?.name}</dd>
          <dt>{t("licence.issuer")}</dt>
          <dd>{issuer ? named(issuer, i18n.language) : licence.issuer?.department}</dd>
          <dt>{t("licence.issued_at")}</dt>
          <dd>{formatDate(licence.issued_at)}</dd>
          <dt>{t("licence.expires_at")}</dt>
          <dd>{licence.expires_at ? formatDate(licence.expires_at) : t("licence.no_expiry")}</dd>
          <dt>{t("licence.status")}</dt>
          <dd>
            <StatusBadge status={licence.status} kind="licence_status" />
          </dd>
        </dl>
        <Link href={`/verify?license=${encodeURIComponent(licence.id)}`}>{t("licence.verify_link", { name })}</Link>
      </div>
      <figure className="licence-qr">
        <QrCode text={verifyUrl(licence.id)} label={t("licence.qr_alt", { name, number: licence.number })} />
        <figcaption>{t("licence.qr_caption")}</figcaption>
      </figure>
    </article>
  );
}

// one file for one material: uploaded at once (POST /api/uploads), its file_id kept
export function MaterialUpload({ id, label, value, onUploaded, error, describedBy }) {
  const { t } = useTranslation("applicant");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState(null);
  async function pick(event) {
    const file = event.target.files?.[0];
    if (!file) return;
    setBusy(true);
    setFailure(null);
    try {
      const form = new FormData();
      form.append("file", file);
      const stored = await api("/api/uploads", { method: "POST", form });
      onUploaded({ file_id: stored.file_id, name: file.name, size: stored.size });
    } catch (e) {
      setFailure(e);
      onUploaded(null);
    } finally {
      setBusy(false);
    }
  }
  const message = failure ? uploadError(failure, t) : error;
  const ids = [describedBy, `${id}-state`].filter(Boolean).join(" ");
  return (
    <div className="material-upload">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
        onChange={pick}
        aria-describedby={ids}
        aria-invalid={message ? "true" : undefined}
      />
      <p id={`${id}-state`} className="hint" aria-live="polite">
        {busy ? t("upload.sending") : value ? t("upload.done", { name: value.name }) : t("upload.none")}
      </p>
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
    </div>
  );
}

function uploadError(error, t) {
  if (error.status === 413) return t("upload.too_large");
  if (error.status === 415) return t("upload.wrong_type");
  return t("upload.failed");
}
