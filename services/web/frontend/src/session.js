// Who is signed in: the platform token from the sign-in (services/web), kept in this tab's
// sessionStorage (gone when the tab closes), and its claims for the screens to show.
import { useSyncExternalStore } from "react";

const KEY = "onestop.token";
const listeners = new Set();

function decode(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

let cached = { token: null, claims: null };

function read() {
  const token = globalThis.sessionStorage?.getItem(KEY) || null;
  if (token === cached.token) return cached;
  const claims = token ? decode(token) : null;
  if (token && (!claims || claims.exp * 1000 < Date.now())) {
    globalThis.sessionStorage?.removeItem(KEY);
    cached = { token: null, claims: null };
  } else {
    cached = { token, claims };
  }
  return cached;
}

function notify() {
  for (const listener of listeners) listener();
}

export function signIn(token) {
  sessionStorage.setItem(KEY, token);
  notify();
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  notify();
}

export function currentToken() {
  return read().token;
}

export function currentClaims() {
  return read().claims;
}

// { token, claims } or { token: null }; re-renders on sign-in and sign-out
export function useSession() {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    read,
  );
}
