// The todo-fcgi front end: sign up, log in, log out; list, filter, search,
// sort and page tasks; add, edit, complete/reopen and delete them.
import * as api from './api.js';
import {
  detailMessages, messageText, localInputToIso, isoToLocalInput, parseTags,
  formatDate, PRIORITY_LABELS, RECURRENCE_LABELS,
} from './format.js';

const $ = (id) => document.getElementById(id);

const DEFAULT_FILTERS = { status: 'all', q: '', sort: 'created', order: '', limit: 10, offset: 0 };
const FILTER_VALUES = {
  status: ['all', 'pending', 'completed'],
  sort: ['created', 'updated', 'title', 'due_date', 'priority'],
  order: ['', 'asc', 'desc'],
  limit: ['5', '10', '20', '50'],
};

const state = {
  session: null,
  authMode: 'login',
  filters: { ...DEFAULT_FILTERS },
  total: 0,
  tasks: [],
  editingId: null,
  listSeq: 0,
  busy: new Set(),
};

// ------------------------------------------------------------------ messages

let statusTimer = 0;
// A short message in the polite live region (and visible at the top).
function announce(text) {
  const el = $('status');
  clearTimeout(statusTimer);
  el.textContent = '';
  // A new text node so the same message twice is announced twice.
  requestAnimationFrame(() => {
    el.textContent = text;
    statusTimer = setTimeout(() => { el.textContent = ''; }, 8000);
  });
}

// Shows an API error in `box` (a role=alert element) and marks the fields of
// `form` it names. Returns the messages.
function showErrors(box, err, form, prefix) {
  clearErrors(box, form);
  let messages;
  if (err instanceof api.ApiError) {
    messages = err.status === 0 ? [{ field: null, label: null, message: err.message }] : detailMessages(err.detail, err.status);
    if (err.status === 429 && err.retryAfter && /^\d+$/.test(err.retryAfter)) {
      messages.push({ field: null, label: null, message: `Try again in ${err.retryAfter} seconds.` });
    }
  } else if (Array.isArray(err)) {
    messages = err;
  } else {
    messages = [{ field: null, label: null, message: String((err && err.message) || err) }];
  }
  const list = document.createElement('ul');
  for (const m of messages) {
    const li = document.createElement('li');
    li.textContent = messageText(m);
    list.append(li);
    const input = form && m.field ? form.querySelector(`[name="${CSS.escape(m.field)}"]`) : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const note = document.createElement('p');
      note.className = 'field-error';
      note.id = `${prefix || form.id}-${m.field}-error`;
      note.textContent = m.message;
      if (!document.getElementById(note.id)) {
        input.insertAdjacentElement('afterend', note);
        input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), note.id].filter(Boolean).join(' '));
      }
    }
  }
  const title = document.createElement('p');
  title.className = 'form-errors-title';
  title.textContent = messages.length > 1 ? 'Please fix these problems:' : 'There was a problem:';
  box.replaceChildren(title, list);
  box.hidden = false;
  return messages;
}

function clearErrors(box, form) {
  box.hidden = true;
  box.replaceChildren();
  if (!form) return;
  for (const note of form.querySelectorAll('.field-error')) {
    const input = note.previousElementSibling;
    if (input) {
      const rest = (input.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== note.id);
      if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
      else input.removeAttribute('aria-describedby');
    }
    note.remove();
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// Runs fn once at a time per key (no double submits); keeps focus where it is.
async function once(key, fn) {
  if (state.busy.has(key)) return;
  state.busy.add(key);
  document.body.classList.add('is-busy');
  try {
    await fn();
  } finally {
    state.busy.delete(key);
    if (state.busy.size === 0) document.body.classList.remove('is-busy');
  }
}

// ------------------------------------------------------------------ views

function showAuth(mode, notice) {
  state.session = null;
  state.tasks = [];
  state.editingId = null;
  $('task-list').replaceChildren();
  $('list-summary').textContent = '';
  $('tasks-view').hidden = true;
  $('loading').hidden = true;
  $('logout-button').hidden = true;
  $('whoami').hidden = true;
  $('whoami').textContent = '';
  $('auth-view').hidden = false;
  setAuthMode(mode || 'login');
  const form = $('auth-form');
  $('auth-password').value = '';
  if (notice) showErrors($('auth-errors'), [{ field: null, label: null, message: notice }], form);
  document.title = state.authMode === 'signup' ? 'Sign up · Todo' : 'Log in · Todo';
}

function setAuthMode(mode) {
  state.authMode = mode;
  const signup = mode === 'signup';
  clearErrors($('auth-errors'), $('auth-form'));
  $('auth-heading').textContent = signup ? 'Sign up' : 'Log in';
  $('auth-intro').textContent = signup ? 'Create an account to keep your tasks.' : 'Log in to see your tasks.';
  $('auth-submit').textContent = signup ? 'Sign up' : 'Log in';
  $('auth-name-field').hidden = !signup;
  $('auth-password-hint').hidden = !signup;
  $('auth-password').autocomplete = signup ? 'new-password' : 'current-password';
  $('auth-switch-text').textContent = signup ? 'Already have an account?' : 'No account yet?';
  $('auth-switch').textContent = signup ? 'Log in' : 'Sign up';
  document.title = signup ? 'Sign up · Todo' : 'Log in · Todo';
}

function showTasks(session) {
  state.session = session;
  $('auth-view').hidden = true;
  $('loading').hidden = true;
  $('tasks-view').hidden = false;
  $('logout-button').hidden = false;
  const who = session.user.name || session.user.email;
  $('whoami').textContent = `Signed in as ${who}`;
  $('whoami').hidden = false;
  document.title = 'Your tasks · Todo';
  syncFilterControls();
}

// ------------------------------------------------------------------ auth

async function onAuthSubmit(event) {
  event.preventDefault();
  await once('auth', async () => {
    const form = $('auth-form');
    const email = $('auth-email').value.trim();
    const password = $('auth-password').value;
    const name = $('auth-name').value.trim();
    const problems = [];
    if (!email) problems.push({ field: 'email', label: 'Email', message: 'Enter your email address.' });
    if (!password) problems.push({ field: 'password', label: 'Password', message: 'Enter your password.' });
    if (problems.length) {
      showErrors($('auth-errors'), problems, form);
      form.querySelector('[aria-invalid="true"]').focus();
      return;
    }
    try {
      const signup = state.authMode === 'signup';
      const session = signup ? await api.register(email, password, name) : await api.login(email, password);
      clearErrors($('auth-errors'), form);
      form.reset();
      showTasks(session);
      announce(signup ? `Welcome, ${session.user.name || session.user.email}! Your account is ready.` : `Logged in as ${session.user.email}.`);
      $('tasks-heading').focus();
      await loadList();
    } catch (err) {
      showErrors($('auth-errors'), err, form);
      const bad = form.querySelector('[aria-invalid="true"]');
      (bad || $('auth-email')).focus();
    }
  });
}

async function onLogout() {
  await once('logout', async () => {
    await api.logout();
    // The next person at this browser starts from the default view.
    state.filters = { ...DEFAULT_FILTERS };
    window.history.replaceState(null, '', window.location.pathname);
    showAuth('login');
    announce('You have logged out.');
    $('auth-heading').focus();
  });
}

function onSessionEnded(message) {
  if (!state.session) return;
  showAuth('login', message);
  $('auth-heading').focus();
}

// ------------------------------------------------------------------ task forms

// Fills `form` with the task fields from the template; ids get `prefix`.
function buildTaskForm(form, prefix, task) {
  const frag = $('task-fields').content.cloneNode(true);
  for (const label of frag.querySelectorAll('label[data-for]')) {
    label.htmlFor = `${prefix}-${label.dataset.for}`;
  }
  for (const input of frag.querySelectorAll('[data-name]')) {
    input.id = `${prefix}-${input.dataset.name}`;
    input.name = input.dataset.name;
  }
  frag.querySelector('[data-role="errors"]').id = `${prefix}-errors`;
  form.replaceChildren(frag);
  if (task) {
    form.elements.title.value = task.title;
    form.elements.description.value = task.description || '';
    form.elements.priority.value = task.priority;
    form.elements.tags.value = (task.tags || []).join(', ');
    form.elements.due_date.value = isoToLocalInput(task.due_date);
    form.elements.recurrence.value = task.recurrence || '';
  }
  return form.querySelector('[data-role="actions"]');
}

// The task fields of a form as the API takes them. For a new task, empty
// optional fields are left out; for an edit they are sent as null / [].
function readTaskForm(form, isNew) {
  const f = form.elements;
  let due;
  try {
    due = localInputToIso(f.due_date.value);
  } catch {
    throw [{ field: 'due_date', label: 'Due date', message: 'Enter a valid date and time.' }];
  }
  const fields = {
    title: f.title.value,
    description: f.description.value.trim() === '' ? null : f.description.value,
    priority: f.priority.value,
    tags: parseTags(f.tags.value),
    due_date: due,
    recurrence: f.recurrence.value || null,
  };
  if (isNew) {
    for (const k of ['description', 'due_date', 'recurrence']) if (fields[k] === null) delete fields[k];
  }
  return fields;
}

function setupNewTaskForm() {
  const form = $('new-task-form');
  const actions = buildTaskForm(form, 'new');
  const add = document.createElement('button');
  add.type = 'submit';
  add.textContent = 'Add task';
  actions.append(add);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    once('create', async () => {
      const box = $('new-errors');
      try {
        const fields = readTaskForm(form, true);
        const task = await api.createTask(state.session.user.id, fields);
        clearErrors(box, form);
        buildTaskForm(form, 'new').append(add);
        announce(`Added “${task.title}”.`);
        form.elements.title.focus();
        await loadList();
      } catch (err) {
        if (isSessionEnd(err)) return;
        showErrors(box, err, form, 'new');
        (form.querySelector('[aria-invalid="true"]') || form.elements.title).focus();
      }
    });
  });
}

function isSessionEnd(err) {
  return err instanceof api.ApiError && err.status === 401 && !state.session;
}

// ------------------------------------------------------------------ the list

function readFiltersFromUrl() {
  const q = new URLSearchParams(window.location.search);
  const f = { ...DEFAULT_FILTERS };
  for (const key of ['status', 'sort', 'order', 'limit']) {
    const v = q.get(key);
    if (v !== null && FILTER_VALUES[key].includes(v)) f[key] = key === 'limit' ? Number(v) : v;
  }
  const text = q.get('q');
  if (text) f.q = text.slice(0, 200);
  const page = Number.parseInt(q.get('page') || '1', 10);
  if (Number.isFinite(page) && page > 1 && page < 1e6) f.offset = (page - 1) * f.limit;
  return f;
}

function writeFiltersToUrl() {
  const f = state.filters;
  const q = new URLSearchParams();
  for (const key of ['status', 'q', 'sort', 'order', 'limit']) {
    if (String(f[key]) !== String(DEFAULT_FILTERS[key])) q.set(key, f[key]);
  }
  const page = Math.floor(f.offset / f.limit) + 1;
  if (page > 1) q.set('page', page);
  const search = q.toString();
  const url = window.location.pathname + (search ? `?${search}` : '') + window.location.hash;
  window.history.replaceState(null, '', url);
}

function syncFilterControls() {
  const f = state.filters;
  $('filter-status').value = f.status;
  $('filter-q').value = f.q;
  $('filter-sort').value = f.sort;
  $('filter-order').value = f.order;
  $('filter-limit').value = String(f.limit);
}

function readFilterControls() {
  state.filters.status = $('filter-status').value;
  state.filters.q = $('filter-q').value.trim();
  state.filters.sort = $('filter-sort').value;
  state.filters.order = $('filter-order').value;
  state.filters.limit = Number($('filter-limit').value);
  state.filters.offset = 0;
}

// Loads the current page; `focus` says where focus goes afterwards:
// {id, action} for a button of a task, or an element id.
async function loadList(focus) {
  if (!state.session) return;
  const seq = ++state.listSeq;
  const f = state.filters;
  const list = $('task-list');
  list.setAttribute('aria-busy', 'true');
  writeFiltersToUrl();
  try {
    const params = { status: f.status, q: f.q, sort: f.sort, order: f.order, limit: f.limit, offset: f.offset };
    const { tasks, total } = await api.listTasks(state.session.user.id, params);
    if (seq !== state.listSeq) return;
    // The page ran past the end (after a delete, or an old bookmark): step back.
    if (tasks.length === 0 && total > 0 && f.offset > 0) {
      f.offset = Math.max(0, Math.floor((total - 1) / f.limit) * f.limit);
      await loadList(focus);
      return;
    }
    state.tasks = tasks;
    state.total = total;
    clearErrors($('list-errors'));
    renderList();
    restoreFocus(focus);
  } catch (err) {
    if (seq !== state.listSeq || isSessionEnd(err)) return;
    showErrors($('list-errors'), err);
  } finally {
    if (seq === state.listSeq) list.removeAttribute('aria-busy');
  }
}

function restoreFocus(focus) {
  if (!focus) return;
  let el = null;
  if (typeof focus === 'string') el = $(focus);
  else el = document.querySelector(`[data-task-id="${focus.id}"] [data-action="${focus.action}"]`);
  if (!el || el.disabled || el.closest('[hidden]')) el = $('list-heading');
  el.focus();
}

function renderList() {
  const f = state.filters;
  const { tasks, total } = state;
  const list = $('task-list');
  list.replaceChildren(...tasks.map(renderTask));

  const filtered = f.status !== 'all' || f.q !== '';
  let summary;
  if (total === 0) {
    summary = filtered ? 'No tasks match these filters.' : 'No tasks yet. Add one above.';
  } else if (tasks.length === total) {
    summary = `${total} ${filtered ? 'matching ' : ''}${total === 1 ? 'task' : 'tasks'}`;
  } else {
    summary = `Showing ${f.offset + 1}–${f.offset + tasks.length} of ${total} tasks`;
  }
  $('list-summary').textContent = summary;

  const pages = Math.max(1, Math.ceil(total / f.limit));
  const page = Math.min(pages, Math.floor(f.offset / f.limit) + 1);
  $('page-info').textContent = `Page ${page} of ${pages}`;
  $('prev-page').disabled = f.offset === 0;
  $('next-page').disabled = f.offset + f.limit >= total;
  $('prev-page').closest('.pager').hidden = pages <= 1;
}

function hidden(text) {
  const span = document.createElement('span');
  span.className = 'visually-hidden';
  span.textContent = text;
  return span;
}

function button(label, action, task, className) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = action;
  if (className) b.className = className;
  b.append(label, hidden(` “${task.title}”`));
  return b;
}

function badge(text, className) {
  const li = document.createElement('li');
  li.className = `badge ${className || ''}`.trim();
  li.textContent = text;
  return li;
}

function renderTask(task) {
  const li = document.createElement('li');
  li.className = `task${task.completed ? ' is-completed' : ''}`;
  li.dataset.taskId = task.id;
  if (state.editingId === task.id) {
    li.append(renderEditForm(task));
    return li;
  }
  const article = document.createElement('article');
  article.setAttribute('aria-labelledby', `task-${task.id}-title`);

  const main = document.createElement('div');
  main.className = 'task-main';
  const title = document.createElement('h3');
  title.className = 'task-title';
  title.id = `task-${task.id}-title`;
  title.textContent = task.title;
  main.append(title);
  if (task.description) {
    const desc = document.createElement('p');
    desc.className = 'task-description';
    desc.textContent = task.description;
    main.append(desc);
  }
  const meta = document.createElement('ul');
  meta.className = 'task-meta';
  meta.setAttribute('aria-label', 'Details');
  meta.append(badge(task.completed ? 'Completed' : 'Pending', task.completed ? 'state-done' : 'state-pending'));
  meta.append(badge(`${PRIORITY_LABELS[task.priority] || task.priority} priority`, `priority-${task.priority}`));
  if (task.due_date) {
    const overdue = !task.completed && new Date(task.due_date).getTime() < Date.now();
    const due = badge(`${overdue ? 'Overdue: was due' : 'Due'} ${formatDate(task.due_date)}`, overdue ? 'overdue' : 'due');
    main.dataset.due = task.due_date;
    meta.append(due);
  }
  if (task.recurrence) meta.append(badge(`Repeats ${(RECURRENCE_LABELS[task.recurrence] || task.recurrence).toLowerCase()}`, 'recurrence'));
  for (const tag of task.tags || []) meta.append(badge(`#${tag}`, 'tag'));
  main.append(meta);

  const actions = document.createElement('div');
  actions.className = 'task-actions';
  actions.append(
    button(task.completed ? 'Reopen' : 'Complete', 'toggle', task),
    button('Edit', 'edit', task, 'button-secondary'),
    button('Delete', 'delete', task, 'button-danger'),
  );
  article.append(main, actions);
  li.append(article);
  return li;
}

function renderEditForm(task) {
  const form = document.createElement('form');
  form.className = 'task-form edit-form';
  form.noValidate = true;
  form.id = `edit-${task.id}`;
  form.setAttribute('aria-label', `Edit “${task.title}”`);
  const heading = document.createElement('h3');
  heading.className = 'edit-heading';
  heading.textContent = 'Edit task';
  const actions = buildTaskForm(form, `edit-${task.id}`, task);
  form.prepend(heading);
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = 'Save';
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'button-secondary';
  cancel.textContent = 'Cancel';
  actions.append(save, cancel);

  const close = (announcement) => {
    state.editingId = null;
    if (announcement) announce(announcement);
  };
  cancel.addEventListener('click', () => {
    close('Edit cancelled.');
    renderList();
    restoreFocus({ id: task.id, action: 'edit' });
  });
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      cancel.click();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    once(`task-${task.id}`, async () => {
      const box = form.querySelector('[data-role="errors"]');
      try {
        const updated = await api.updateTask(state.session.user.id, task.id, readTaskForm(form, false));
        close(`Saved “${updated.title}”.`);
        await loadList({ id: task.id, action: 'edit' });
      } catch (err) {
        if (isSessionEnd(err)) return;
        if (err instanceof api.ApiError && err.status === 404) {
          close('That task no longer exists.');
          await loadList('list-heading');
          return;
        }
        showErrors(box, err, form, `edit-${task.id}`);
        (form.querySelector('[aria-invalid="true"]') || form.elements.title).focus();
      }
    });
  });
  return form;
}

async function onListClick(event) {
  const b = event.target.closest('button[data-action]');
  if (!b) return;
  const li = b.closest('[data-task-id]');
  const task = state.tasks.find((t) => String(t.id) === li.dataset.taskId);
  if (!task) return;
  const action = b.dataset.action;
  if (action === 'edit') {
    state.editingId = task.id;
    renderList();
    const form = $(`edit-${task.id}`);
    if (form) form.elements.title.focus();
    return;
  }
  await once(`task-${task.id}`, async () => {
    try {
      if (action === 'toggle') {
        const updated = await api.setCompleted(state.session.user.id, task.id, !task.completed);
        announce(updated.completed ? `Completed “${updated.title}”.` : `Reopened “${updated.title}”.`);
        await loadList({ id: task.id, action: 'toggle' });
      } else if (action === 'delete') {
        await api.deleteTask(state.session.user.id, task.id);
        announce(`Deleted “${task.title}”.`);
        const index = state.tasks.indexOf(task);
        const next = state.tasks[index + 1] || state.tasks[index - 1];
        await loadList(next ? { id: next.id, action: 'delete' } : 'list-heading');
      }
    } catch (err) {
      if (isSessionEnd(err)) return;
      if (err instanceof api.ApiError && err.status === 404) {
        announce('That task no longer exists.');
        await loadList('list-heading');
        return;
      }
      showErrors($('list-errors'), err);
    }
  });
}

function setupFilters() {
  const form = $('filters');
  let timer = 0;
  const apply = () => {
    clearTimeout(timer);
    readFilterControls();
    loadList();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  for (const id of ['filter-status', 'filter-sort', 'filter-order', 'filter-limit']) {
    $(id).addEventListener('change', apply);
  }
  $('filter-q').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 350);
  });
  $('prev-page').addEventListener('click', () => {
    state.filters.offset = Math.max(0, state.filters.offset - state.filters.limit);
    loadList('prev-page');
  });
  $('next-page').addEventListener('click', () => {
    state.filters.offset += state.filters.limit;
    loadList('next-page');
  });
}

// ------------------------------------------------------------------ start

function start() {
  state.filters = readFiltersFromUrl();
  $('auth-form').addEventListener('submit', onAuthSubmit);
  $('auth-switch').addEventListener('click', () => {
    setAuthMode(state.authMode === 'signup' ? 'login' : 'signup');
    $('auth-heading').focus();
  });
  $('logout-button').addEventListener('click', onLogout);
  $('task-list').addEventListener('click', onListClick);
  setupNewTaskForm();
  setupFilters();
  api.onSessionEnded(onSessionEnded);
  api.onSessionChange((session) => {
    if (!session && state.session) {
      showAuth('login', 'You logged out in another window.');
    } else if (session && (!state.session || session.user.id !== state.session.user.id)) {
      showTasks(session);
      loadList();
    }
  });

  const session = api.loadSession();
  if (session) {
    showTasks(session);
    loadList();
  } else {
    showAuth(window.location.hash === '#signup' ? 'signup' : 'login');
  }
}

start();
