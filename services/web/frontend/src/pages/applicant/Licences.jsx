// The wallet: every e-licence the signed-in person holds (GET /api/licenses), each with the
// QR code of the public page that verifies it.
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { ApiStatus, onlyFor, useApi } from "../../components/common.jsx";
import { LicenceCard } from "./shared.jsx";

function Wallet() {
  const { t } = useTranslation("applicant");
  const result = useApi("/api/licenses");
  const list = result.data?.licenses || [];
  return (
    <>
      <h1>{t("licences.heading")}</h1>
      <p className="hint">{t("licences.lead")}</p>
      <ApiStatus result={result} empty={!list.length}>
        <p>
          {t("licences.none")} <Link href="/">{t("applications.find")}</Link>
        </p>
      </ApiStatus>
      <div className="licence-list">
        {list.map((l) => (
          <LicenceCard key={l.id} licence={l} headingLevel={2} />
        ))}
      </div>
    </>
  );
}

export default onlyFor(["applicant"], Wallet);
