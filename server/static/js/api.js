// HTTP calls of the browser clients: JSON in, JSON out, with the CSRF token the server hands out.
let csrfToken = null;

export async function session() {
  const response = await fetch("/api/auth/session", { credentials: "same-origin" });
  const body = await response.json();
  csrfToken = body.csrf_token;
  return body;
}

export async function post(path, body) {
  let response;
  try {
    if (!csrfToken) await session();
    response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: { code: "network", message: null } };
  }
  try {
    const result = await response.json();
    if (result.csrf_token) csrfToken = result.csrf_token; // a login starts a new session
    return result;
  } catch {
    return { ok: false, error: { code: "http_" + response.status, message: null } };
  }
}

// A file from a file picker, with the form's other fields (multipart); JSON back, like post().
export async function upload(path, formData) {
  let response;
  try {
    if (!csrfToken) await session();
    response = await fetch(path, { method: "POST", body: formData, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken } });
  } catch {
    return { ok: false, error: { code: "network", message: "无法连接服务器，请检查网络后重试。" } };
  }
  try {
    return await response.json();
  } catch {
    return { ok: false, error: { code: "http_" + response.status, message: `服务器返回错误（${response.status}）。` } };
  }
}
