// The one way pages talk to the server: same-origin JSON with the session cookie.
// State-changing calls carry the CSRF token the sign-in (or /api/me) handed out; a 401
// tells the shell (event "sendrail:signed-out"), which shows the login page.

const BASE = new URL("../", document.baseURI); // the app lives at <root>/app/
let csrf = null;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

export function setCsrf(token) {
  csrf = token || null;
}

function url(path) {
  return new URL(path.replace(/^\//, ""), BASE).toString();
}

async function send(method, path, body, contentType) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = contentType;
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(url(path), {
    method,
    headers,
    body,
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const payload = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const error = (payload && payload.error) || {};
    if (response.status === 401 && !path.startsWith("/api/auth/")) {
      setCsrf(null);
      window.dispatchEvent(new Event("sendrail:signed-out")); // the shell shows the login page
    }
    throw new ApiError(response.status, error.code || "http_" + response.status,
      error.message || response.statusText || "request failed", error.details);
  }
  return payload;
}

export async function api(method, path, body) {
  return send(method, path, body === undefined ? undefined : JSON.stringify(body), "application/json");
}

export async function upload(path, file, contentType) {
  return send("POST", path, file, contentType || file.type || "application/octet-stream");
}

// A file the server makes (a report): fetched with the cookie, every page of it (the
// server names the next one in X-Next-Cursor), then saved by the browser.
const MAX_PAGES = 500;

export async function download(path, filename) {
  const parts = [];
  let cursor = null;
  for (let pageNo = 0; pageNo < MAX_PAGES; pageNo += 1) {
    const target = cursor ? `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(cursor)}` : path;
    const response = await fetch(url(target), { credentials: "same-origin" });
    if (!response.ok) throw new ApiError(response.status, "download_failed", "the download failed");
    parts.push(await response.blob());
    cursor = response.headers.get("X-Next-Cursor");
    if (!cursor) break;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob(parts, { type: parts[0] ? parts[0].type : "text/csv" }));
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
