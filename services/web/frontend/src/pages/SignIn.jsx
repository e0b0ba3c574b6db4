// Sign-in: with the deployment's identity provider (OpenID Connect, when configured), or,
// in a development deployment only (WEB_DEV_SIGNIN), as one of the demo people.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useSearch } from "wouter";
import { ApiError } from "../api.js";
import { useAuthConfig } from "../auth.js";
import { ErrorMessage, Loading, useApi } from "../components/common.jsx";
import { signIn } from "../session.js";

// where each role starts after signing in, unless the page asked for somewhere else
const START = {
  applicant: "/applications",
  clerk: "/counter",
  officer: "/officer",
  supervisor: "/supervisor",
};

// only a path of this site, never an address elsewhere (an open redirect)
export function safeNext(next) {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin")
    ? next
    : null;
}

function DevPeople({ next }) {
  const { t } = useTranslation("signin");
  const [, navigate] = useLocation();
  const { data, error } = useApi("/auth/dev/people", { anonymous: true });
  const [failure, setFailure] = useState(null);

  async function choose(person) {
    setFailure(null);
    try {
      const response = await fetch("/auth/dev/sign-in", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ person: person.key }),
      });
      const body = await response.json();
      if (!response.ok) throw new ApiError(response.status, body.error, body.message, body.fields);
      signIn(body.token);
      navigate(next || START[person.role] || "/");
    } catch (e) {
      setFailure(e instanceof ApiError ? e : new ApiError(0, "network", e.message));
    }
  }

  return (
    <section aria-labelledby="dev-heading" className="panel dev">
      <h2 id="dev-heading">{t("dev.heading")}</h2>
      <p className="warning">{t("dev.warning")}</p>
      <ErrorMessage error={error || failure} />
      {!data && !error ? <Loading /> : null}
      <ul className="people">
        {(data?.people || []).map((person) => (
          <li key={person.key}>
            <button type="button" onClick={() => choose(person)}>
              <span className="person-name">{person.name}</span>
              <span className="person-role">
                {t(`common:roles.${person.role}`)}
                {person.office ? ` · ${person.office}` : ""}
                {person.region ? ` · ${t("dev.region", { region: person.region })}` : ""}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function SignIn() {
  const { t } = useTranslation("signin");
  const config = useAuthConfig();
  const next = safeNext(new URLSearchParams(useSearch()).get("next"));
  if (!config) return <Loading />;
  return (
    <>
      <h1>{t("heading")}</h1>
      {config.oidc ? (
        <section aria-labelledby="oidc-heading" className="panel">
          <h2 id="oidc-heading">{t("oidc.heading")}</h2>
          <p>{t("oidc.lead")}</p>
          <a
            className="button"
            href={`/auth/oidc/login${next ? `?next=${encodeURIComponent(next)}` : ""}`}
          >
            {t("oidc.button", { name: config.oidc_name || t("oidc.default_name") })}
          </a>
        </section>
      ) : null}
      {config.dev ? <DevPeople next={next} /> : null}
      {!config.oidc && !config.dev ? <p>{t("none")}</p> : null}
    </>
  );
}
