// The wallet: every e-licence the signed-in person holds (GET /api/licenses), each with the
// QR code of the public page that verifies it.
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { ErrorMessage, Loading, RequireRole, useApi } from "../../components/common.jsx";
import { LicenceCard } from "./shared.jsx";

function Wallet() {
  const { t } = useTranslation("applicant");
  const { data, error, loading, reload } = useApi("/api/licenses");
  const list = data?.licenses || [];
  return (
    <>
      <h1>{t("licences.heading")}</h1>
      <p className="hint">{t("licences.lead")}</p>
      {loading && !data ? <Loading /> : null}
      <ErrorMessage error={error} onRetry={reload} />
      {data && !list.length ? (
        <p>
          {t("licences.none")} <Link href="/">{t("applications.find")}</Link>
        </p>
      ) : null}
      <div className="licence-list">
        {list.map((l) => (
          <LicenceCard key={l.id} licence={l} headingLevel={2} />
        ))}
      </div>
    </>
  );
}

export default function Licences() {
  return (
    <RequireRole roles={["applicant"]}>
      <Wallet />
    </RequireRole>
  );
}
