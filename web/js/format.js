// Pure helpers: error details, dates, tags. No DOM, no network.

// Names shown for the fields an API validation error can point at.
const FIELD_LABELS = {
  title: 'Title',
  description: 'Description',
  priority: 'Priority',
  tags: 'Tags',
  due_date: 'Due date',
  recurrence: 'Repeats',
  completed: 'Completed',
  email: 'Email',
  password: 'Password',
  name: 'Name',
  q: 'Search',
  status: 'Status',
  sort: 'Sort by',
  order: 'Order',
  limit: 'Per page',
  offset: 'Page',
  task_id: 'Task',
};

// The form field a validation error's loc names: ["body", "tags", 3] -> "tags".
export function fieldOfLoc(loc) {
  if (!Array.isArray(loc)) return null;
  const parts = loc.filter((p) => typeof p === 'string');
  if (parts.length > 1 && ['body', 'query', 'path', 'header'].includes(parts[0])) return parts[1];
  return parts.length === 1 && parts[0] !== 'body' ? parts[0] : null;
}

function labelOfLoc(loc) {
  const field = fieldOfLoc(loc);
  if (!field) return null;
  let label = FIELD_LABELS[field] || field;
  const index = Array.isArray(loc) ? loc.find((p) => typeof p === 'number') : undefined;
  if (index !== undefined) label += ` (item ${index + 1})`;
  return label;
}

const STATUS_TEXT = {
  400: 'The request was not understood.',
  401: 'You are not logged in.',
  403: 'You may not do that.',
  404: 'Not found.',
  409: 'That conflicts with existing data.',
  412: 'Someone changed this task meanwhile; reload and try again.',
  413: 'That is too large.',
  415: 'The server did not accept the request format.',
  422: 'Some values are not valid.',
  429: 'Too many attempts; wait a moment and try again.',
  500: 'The server had a problem. Please try again.',
  502: 'The server is not available right now.',
  503: 'The service is unavailable right now. Please try again shortly.',
  504: 'The server took too long to answer.',
};

// The messages to show for an API error: FastAPI's {"detail": "text"} or
// {"detail": [{"loc", "msg", "type"}]}. Returns [{field, label, message}];
// field/label are null for messages about the request as a whole.
export function detailMessages(detail, status) {
  if (typeof detail === 'string' && detail.trim() !== '') {
    return [{ field: null, label: null, message: detail }];
  }
  if (Array.isArray(detail) && detail.length > 0) {
    return detail.map((item) => {
      const loc = item && item.loc;
      const msg = item && typeof item.msg === 'string' ? item.msg : 'Invalid value';
      return { field: fieldOfLoc(loc), label: labelOfLoc(loc), message: msg };
    });
  }
  const text = STATUS_TEXT[status] || (status ? `The request failed (HTTP ${status}).` : 'The request failed.');
  return [{ field: null, label: null, message: text }];
}

// One line for a status region: "Title: String should have at least 1 character".
export function messageText(m) {
  return m.label ? `${m.label}: ${m.message}` : m.message;
}

// <input type="datetime-local"> value (local wall time) -> UTC RFC 3339, or
// null for an empty value. Throws on a value the browser would not produce.
export function localInputToIso(value) {
  if (value == null || value === '') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(value);
  if (!m) throw new RangeError('not a date and time');
  const [, y, mo, d, h, mi, s = '0', ms = '0'] = m;
  const date = new Date(+y, +mo - 1, +d, +h, +mi, +s, +ms.padEnd(3, '0'));
  if (Number.isNaN(date.getTime())) throw new RangeError('not a date and time');
  return date.toISOString().replace('.000Z', 'Z');
}

// UTC timestamp from the API -> datetime-local value in local time ("" for null).
export function isoToLocalInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

// "home, errands ,, home" -> ["home", "errands"]: trimmed, empty and duplicates dropped.
export function parseTags(text) {
  const seen = new Set();
  const tags = [];
  for (const raw of String(text || '').split(',')) {
    const tag = raw.trim();
    if (tag && !seen.has(tag)) {
      seen.add(tag);
      tags.push(tag);
    }
  }
  return tags;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

// A timestamp for people, in their time zone.
export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateFormat.format(date);
}

export const PRIORITY_LABELS = { low: 'Low', medium: 'Medium', high: 'High' };
export const RECURRENCE_LABELS = { daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly', yearly: 'Yearly' };
