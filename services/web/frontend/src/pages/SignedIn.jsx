// Back from the identity provider: services/web put the platform token in the fragment
// (#token=..., never sent to any server, never logged); keep it and go on.
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "wouter";
import { signIn } from "../session.js";
import { safeNext } from "./SignIn.jsx";

export default function SignedIn() {
  const { t } = useTranslation("signin");
  const [, navigate] = useLocation();
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    const params = new URLSearchParams(window.location.hash.slice(1));
    window.history.replaceState(null, "", window.location.pathname);
    const token = params.get("token");
    if (token) {
      signIn(token);
      navigate(safeNext(params.get("next")) || "/applications", { replace: true });
    } else {
      setFailed(params.get("error") || "no_token");
    }
  }, [navigate]);
  if (!failed) return <p role="status">{t("common:loading")}</p>;
  return (
    <section>
      <h1>{t("failed.heading")}</h1>
      <p role="alert">
        {t(`failed.reasons.${failed}`, { defaultValue: t("failed.message", { reason: failed }) })}
      </p>
      <Link href="/signin" className="button">
        {t("common:sign_in")}
      </Link>
    </section>
  );
}
