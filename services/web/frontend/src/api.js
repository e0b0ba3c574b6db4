// The public API, and nothing else (docs/openapi.yaml): every screen talks to /api through
// these functions, with the signed-in person's token. Errors become ApiError with the
// service's code, message and per-field messages, for the screens to show in Chinese.
import { currentToken, signOut } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}

async function parse(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) return response.json();
  return response.status === 204 ? null : response.text();
}

// api("/api/applications", { method: "POST", body: {...}, headers: {...} })
export async function api(path, { method = "GET", body, headers = {}, form, signal, anonymous } = {}) {
  const token = anonymous ? null : currentToken();
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (form) {
    init.body = form; // FormData: the browser sets the multipart boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", error.message);
  }
  const data = await parse(response).catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && token) signOut();
    const error = data && typeof data === "object" ? data : {};
    throw new ApiError(response.status, error.error, error.message, error.fields);
  }
  return data;
}

// an idempotency key for one attempt of one submission: a retry of the same click reuses it
export function newIdempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// the i18n key (common:errors.*) that says what went wrong, for any error thrown above
export function errorKey(error) {
  const byStatus = {
    0: "network",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    400: "validation",
    422: "validation",
    503: "unavailable",
  };
  return `common:errors.${byStatus[error?.status] || "unknown"}`;
}
