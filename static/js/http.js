// fetch with the session and Django's CSRF token, for the page modules.

/** The CSRF token from the page's form field or, failing that, Django's csrftoken cookie. */
export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/**
 * fetch `url` asking for JSON; a non-string body is sent as JSON. Never throws on an HTTP status.
 * @returns {Promise<{ok: boolean, status: number, data: any}>} data is null when the answer is not JSON.
 */
export async function fetchJSON(url, options = {}) {
  const init = { credentials: "same-origin", ...options, headers: { Accept: "application/json", ...options.headers } };
  if (init.body !== undefined && typeof init.body !== "string") {
    init.body = JSON.stringify(init.body);
    init.headers["Content-Type"] = "application/json";
  }
  if (init.method && init.method !== "GET") init.headers["X-CSRFToken"] = csrfToken();
  const response = await fetch(url, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}
