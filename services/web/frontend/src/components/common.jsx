// Pieces every screen uses: loading state, error message, sign-in guard, the useApi hook.
import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "wouter";
import { api, errorKey } from "../api.js";
import { useSession } from "../session.js";

export function Loading() {
  const { t } = useTranslation();
  return <p role="status">{t("common:loading")}</p>;
}

// an ApiError (or any error) said in the page's language, with per-field messages
export function ErrorMessage({ error, onRetry }) {
  const { t } = useTranslation();
  if (!error) return null;
  const fields = Object.entries(error.fields || {});
  return (
    <div className="error" role="alert">
      <p>{t(errorKey(error), { status: error.status })}</p>
      {error.message && error.status >= 400 && error.status < 500 ? (
        <p className="error-detail">{error.message}</p>
      ) : null}
      {fields.length ? (
        <ul>
          {fields.map(([field, messages]) => (
            <li key={field}>
              <code>{field}</code>: {[].concat(messages).join("; ")}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          {t("common:retry")}
        </button>
      ) : null}
    </div>
  );
}

// children only for a signed-in person of one of `roles`; else a way to sign in
export function RequireRole({ roles, children }) {
  const { t } = useTranslation();
  const { claims } = useSession();
  const [location] = useLocation();
  if (!claims) {
    return (
      <section>
        <h1>{t("common:need_sign_in")}</h1>
        <Link href={`/signin?next=${encodeURIComponent(location)}`} className="button">
          {t("common:sign_in")}
        </Link>
      </section>
    );
  }
  if (!roles.includes(claims.role)) {
    return (
      <section>
        <h1>{t("common:need_role", { role: t(`common:roles.${roles[0]}`) })}</h1>
        <Link href={`/signin?next=${encodeURIComponent(location)}`} className="button">
          {t("common:sign_in")}
        </Link>
      </section>
    );
  }
  return children;
}

// a page (its props passed on) only for a signed-in person of one of `roles`
export function onlyFor(roles, Page) {
  return function Guarded(props) {
    return (
      <RequireRole roles={roles}>
        <Page {...props} />
      </RequireRole>
    );
  };
}

// GET `path` (null: nothing yet); `poll` ms re-reads it while the page is open (live progress)
export function useApi(path, { poll = 0, anonymous = false } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: Boolean(path) });
  const generation = useRef(0);
  const load = useCallback(
    async (quiet) => {
      if (!path) return;
      const mine = ++generation.current;
      if (!quiet) setState((s) => ({ ...s, loading: true }));
      try {
        const data = await api(path, { anonymous });
        if (mine === generation.current) setState({ data, error: null, loading: false });
      } catch (error) {
        if (mine === generation.current) setState((s) => ({ ...s, error, loading: false }));
      }
    },
    [path, anonymous],
  );
  useEffect(() => {
    load(false);
    if (!poll) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") load(true);
    }, poll);
    return () => clearInterval(timer);
  }, [load, poll]);
  return { ...state, reload: () => load(true) };
}

// the states of a useApi read before its data shows: loading (the first read), the error (with
// a retry) and, once read, `children` when `empty` says there is nothing to show.
// `quiet`: no loading line (the panel says so elsewhere).
export function ApiStatus({ result, empty = false, quiet = false, children = null }) {
  const { data, error, reload } = result;
  return (
    <>
      {!quiet && !data && !error ? <Loading /> : null}
      <ErrorMessage error={error} onRetry={reload} />
      {data && empty ? children : null}
    </>
  );
}

// `list` with `value` in it (on) or out of it: a set of checkboxes' chosen codes
export function toggled(list, value, on = !list.includes(value)) {
  if (!on) return list.filter((v) => v !== value);
  return list.includes(value) ? list : [...list, value];
}
