// The API client: same-origin fetch to /api/..., the session (tokens in
// localStorage), and one refresh of the access token on a 401.

const STORAGE_KEY = 'todo-fcgi.session';
const REQUEST_TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(status, detail, message) {
    super(message || (typeof detail === 'string' ? detail : `HTTP ${status}`));
    this.name = 'ApiError';
    this.status = status;     // 0 when the server could not be reached
    this.detail = detail;     // the body's "detail", when it had one
  }
}

// ------------------------------------------------------------------ session

// {access_token, refresh_token, user: {id, email, name, role, created_at}} or null.
export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(STORAGE_KEY));
    if (s && typeof s.access_token === 'string' && s.user && typeof s.user.id === 'string') return s;
  } catch {
    // unreadable: treated as signed out
  }
  return null;
}

function saveSession(tokens) {
  const session = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token || null,
    user: tokens.user,
  };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
}

export function clearSession() {
  localStorage.removeItem(STORAGE_KEY);
}

// Calls fn(session|null) when another tab logs in or out.
export function onSessionChange(fn) {
  window.addEventListener('storage', (e) => {
    if (e.key === STORAGE_KEY || e.key === null) fn(loadSession());
  });
}

let sessionEnded = () => {};
// fn(message) runs when the session ends by itself (refresh failed).
export function onSessionEnded(fn) {
  sessionEnded = fn;
}

// ------------------------------------------------------------------ transport

async function send(path, { method = 'GET', json, form, token, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  let body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  if (token) h.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    return await fetch(path, { method, headers: h, body, signal: controller.signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    const why = e && e.name === 'AbortError' ? 'The server did not answer in time.' : 'Cannot reach the server. Check your connection and try again.';
    throw new ApiError(0, null, why);
  } finally {
    clearTimeout(timer);
  }
}

async function readBody(res) {
  if (res.status === 204 || res.status === 304) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function result(res) {
  const data = await readBody(res);
  if (!res.ok) {
    const detail = data && typeof data === 'object' ? data.detail : undefined;
    const err = new ApiError(res.status, detail);
    err.retryAfter = res.headers.get('Retry-After');
    throw err;
  }
  return { status: res.status, headers: res.headers, data };
}

// ------------------------------------------------------------------ accounts

export async function register(email, password, name) {
  const body = { email, password };
  if (name) body.name = name;
  const { data } = await result(await send('/api/auth/register', { method: 'POST', json: body }));
  return saveSession(data);
}

export async function login(email, password) {
  const { data } = await result(await send('/api/auth/login', { method: 'POST', json: { email, password } }));
  return saveSession(data);
}

// Ends the session on the server (best effort) and here.
export async function logout() {
  const s = loadSession();
  clearSession();
  if (!s) return;
  try {
    await send('/api/auth/logout', { method: 'POST', token: s.access_token });
  } catch {
    // signed out here anyway
  }
}

// Exchanges the refresh token once. Refresh tokens are single-use and reusing
// one ends the whole login, so tabs take turns (Web Locks), and a tab that
// finds a newer access token than the one that failed just uses it.
async function refreshAfter(failedToken) {
  const run = async () => {
    const s = loadSession();
    if (!s) return null;
    if (s.access_token !== failedToken) return s;
    if (!s.refresh_token) return null;
    let res;
    try {
      res = await send('/api/auth/refresh', { method: 'POST', json: { refresh_token: s.refresh_token } });
    } catch {
      return null;
    }
    if (!res.ok) return null;
    const data = await readBody(res);
    return data && data.access_token ? saveSession({ ...data, user: data.user || s.user }) : null;
  };
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request('todo-fcgi.refresh', run);
  }
  return run();
}

// An authenticated request. On a 401 the access token is refreshed once and
// the request repeated; when that fails too, the session ends.
export async function authed(path, options = {}) {
  const s = loadSession();
  if (!s) {
    sessionEnded('Please log in.');
    throw new ApiError(401, 'Not authenticated');
  }
  let res = await send(path, { ...options, token: s.access_token });
  if (res.status === 401) {
    const fresh = await refreshAfter(s.access_token);
    if (fresh) res = await send(path, { ...options, token: fresh.access_token });
    if (!fresh || res.status === 401) {
      clearSession();
      sessionEnded('Your session has ended. Please log in again.');
      throw new ApiError(401, 'Your session has ended. Please log in again.');
    }
  }
  return result(res);
}

export async function me() {
  return (await authed('/api/auth/me')).data;
}

// ------------------------------------------------------------------ tasks

function tasksPath(userId, id, suffix = '') {
  let p = `/api/${encodeURIComponent(userId)}/tasks`;
  if (id !== undefined) p += `/${encodeURIComponent(id)}`;
  return p + suffix;
}

// {tasks, total}: one page of the list; total from X-Total-Count.
export async function listTasks(userId, params) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== '' && v != null) query.set(k, String(v));
  }
  const { data, headers } = await authed(`${tasksPath(userId)}?${query}`);
  const tasks = Array.isArray(data) ? data : [];
  const total = Number.parseInt(headers.get('X-Total-Count') || '', 10);
  return { tasks, total: Number.isFinite(total) ? total : tasks.length };
}

export async function createTask(userId, fields) {
  return (await authed(tasksPath(userId), { method: 'POST', json: fields })).data;
}

export async function updateTask(userId, id, fields) {
  return (await authed(tasksPath(userId, id), { method: 'PUT', json: fields })).data;
}

export async function setCompleted(userId, id, completed) {
  return (await authed(tasksPath(userId, id, '/complete'), { method: 'PATCH', json: { completed } })).data;
}

export async function deleteTask(userId, id) {
  await authed(tasksPath(userId, id), { method: 'DELETE' });
}
