// What sign-ins this deployment offers (GET /auth/config, services/web), fetched once.
import { useEffect, useState } from "react";

let pending = null;

export function loadAuthConfig() {
  pending ||= fetch("/auth/config", { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : { dev: false, oidc: false }))
    .catch(() => ({ dev: false, oidc: false }));
  return pending;
}

export function useAuthConfig() {
  const [config, setConfig] = useState(null);
  useEffect(() => {
    let live = true;
    loadAuthConfig().then((c) => live && setConfig(c));
    return () => {
      live = false;
    };
  }, []);
  return config;
}
