// Browser tests of the web front end (/) and the API docs (/docs/), in Debian's
// Chromium driven by playwright-core, against a running stack at TODO_URL.
// Run through tests/browser/run.sh. Each step asserts what a person would see
// (headings, texts, counts) and saves a screenshot in BROWSER_OUT.
//
// The steps share one browser page and build on each other, in order: once one
// fails, the rest are skipped (the run still fails).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const BASE = (process.env.TODO_URL || '').replace(/\/+$/, '');
const OUT = process.env.BROWSER_OUT || 'build/browser';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ORIGIN = new URL(BASE || 'http://invalid').origin;
const STEP_TIMEOUT = 20_000;

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const USER = { name: 'Browser Tester', email: `browser-${stamp}@example.com`, password: 'correct horse battery' };

let context;
let page;
let profileDir;
let failed = false;
let shot = 0;
const problems = [];        // page errors, console errors, requests leaving the site

// ------------------------------------------------------------------ helpers

async function screenshot(name, fullPage = true) {
  shot += 1;
  const file = join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

// A step of the scenario: skipped once an earlier one failed.
function step(name, fn) {
  test(name, { timeout: STEP_TIMEOUT }, async (t) => {
    if (failed) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      if (page) await screenshot(`FAILED-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}`).catch(() => {});
      throw err;
    }
  });
}

const taskItems = () => page.locator('#task-list > li');
const taskItem = (title) => taskItems().filter({ has: page.getByRole('heading', { name: title, exact: true }) });

// axe-core's WCAG 2.1 A and AA rules find nothing on the page as it is now.
async function assertAccessible(what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `accessibility problems on ${what}`);
}

async function expectCount(locator, n, what) {
  await locator.first().page().waitForFunction(
    ([sel, count]) => document.querySelectorAll(sel).length === count,
    ['#task-list > li', n], { timeout: 5000 },
  ).catch(() => {});
  assert.equal(await locator.count(), n, what);
}

async function summary() {
  return (await page.locator('#list-summary').textContent()).trim();
}

async function waitSummary(text) {
  await page.locator('#list-summary', { hasText: text }).waitFor({ timeout: 5000 }).catch(() => {});
  assert.equal(await summary(), text);
}

async function visibleTitles() {
  return page.locator('#task-list .task-title').allTextContents();
}

function session() {
  return page.evaluate(() => JSON.parse(localStorage.getItem('todo-fcgi.session')));
}

async function apiAs(token, path, init = {}) {
  const res = await fetch(BASE + path, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(init.headers || {}) },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function addTask({ title, description, priority, tags, due, recurrence }) {
  const form = page.locator('#new-task-form');
  await form.getByLabel('Title').fill(title);
  if (description) await form.getByLabel('Description').fill(description);
  if (priority) await form.getByLabel('Priority').selectOption(priority);
  if (tags) await form.getByLabel('Tags').fill(tags);
  if (due) await form.getByLabel('Due date').fill(due);
  if (recurrence) await form.getByLabel('Repeats').selectOption(recurrence);
  await form.getByRole('button', { name: 'Add task' }).click();
  await taskItem(title).waitFor();
  await page.getByRole('status').filter({ hasText: `Added “${title}”` }).waitFor();
}

// ------------------------------------------------------------------ setup

before(async () => {
  assert.ok(BASE, 'TODO_URL must be set to the stack URL');
  mkdirSync(OUT, { recursive: true });
  // A new, empty profile for each run, deleted afterwards.
  profileDir = mkdtempSync(join(tmpdir(), 'todo-browser-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
    timeout: 30_000,
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'Europe/Berlin',
    colorScheme: 'light',
  });
  context.setDefaultTimeout(8000);
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A 4xx the page asked for on purpose (wrong password...) is logged by
    // Chromium as "Failed to load resource"; anything else is a problem.
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== ORIGIN) {
      problems.push(`request outside the site: ${url}`);
    }
  });
});

after(async () => {
  if (context) await context.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

beforeEach(() => {
  problems.length = 0;
});

function assertNoProblems() {
  assert.deepEqual(problems, [], 'no page errors, console errors or requests to other sites');
}

// ------------------------------------------------------------------ the app

step('the front page asks to log in', async () => {
  const res = await page.goto(`${BASE}/`);
  assert.equal(res.status(), 200);
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  assert.equal(await page.title(), 'Log in · Todo');
  assert.ok(await page.getByLabel('Email').isVisible());
  assert.ok(await page.getByLabel('Password').isVisible());
  await screenshot('login');
  await assertAccessible('the login page');
  assertNoProblems();
});

step('a wrong password and a short one show the API message next to the form', async () => {
  await page.getByLabel('Email').fill(USER.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  const alert = page.locator('#auth-errors');
  await alert.getByText('Invalid email or password').waitFor();

  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign up' }).waitFor();
  await page.getByLabel('Name').fill(USER.name);
  await page.getByLabel('Email').fill(USER.email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await alert.getByText(/^Password: /).waitFor();
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  await screenshot('signup-error');
  await assertAccessible('the sign-up form with an error');
});

step('a new user signs up and sees an empty list', async () => {
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Your tasks' }).waitFor();
  assert.equal(await page.locator('#whoami').textContent(), `Signed in as ${USER.name}`);
  await waitSummary('No tasks yet. Add one above.');
  assert.ok(await page.getByRole('button', { name: 'Log out' }).isVisible());
  assertNoProblems();
});

step('an empty title is refused with the API validation message', async () => {
  await page.locator('#new-task-form').getByRole('button', { name: 'Add task' }).click();
  const alert = page.locator('#new-errors');
  await alert.getByText(/^Title: /).waitFor();
  assert.equal(await page.locator('#new-title').getAttribute('aria-invalid'), 'true');
  await screenshot('add-validation-error');
});

step('the user adds three tasks', async () => {
  await addTask({ title: 'Buy milk', priority: 'high', tags: 'home, errands', due: '2030-06-15T09:30' });
  assert.equal(await page.locator('#new-errors').isVisible(), false, 'the error went away');
  await addTask({ title: 'Write report', description: 'Quarterly numbers for the team' });
  await addTask({ title: 'Call the plumber' });
  await expectCount(taskItems(), 3, 'three tasks listed');
  await waitSummary('3 tasks');
  const milk = taskItem('Buy milk');
  await milk.getByText('High priority').waitFor();
  await milk.getByText('#errands').waitFor();
  await milk.getByText('Due Jun 15, 2030, 9:30 AM').waitFor();
  // The due date went to the API in UTC: 09:30 in Berlin (summer) is 07:30Z.
  const s = await session();
  const { body } = await apiAs(s.access_token, `/api/${encodeURIComponent(s.user.id)}/tasks?q=milk`);
  assert.equal(body[0].due_date, '2030-06-15T07:30:00Z');
  assert.deepEqual(body[0].tags, ['home', 'errands']);
  await screenshot('three-tasks');
  await assertAccessible('the task list');
  assertNoProblems();
});

step('the user completes one', async () => {
  await page.getByRole('button', { name: 'Complete “Write report”' }).click();
  const report = taskItem('Write report');
  await report.getByRole('button', { name: 'Reopen “Write report”' }).waitFor();
  await report.getByText('Completed', { exact: true }).waitFor();
  assert.equal(await taskItem('Buy milk').getByText('Pending', { exact: true }).count(), 1);
  await screenshot('one-completed');
});

step('the pending filter hides the completed task', async () => {
  await page.getByLabel('Status').selectOption('pending');
  await waitSummary('2 matching tasks');
  await expectCount(taskItems(), 2, 'two pending tasks');
  assert.deepEqual((await visibleTitles()).sort(), ['Buy milk', 'Call the plumber']);
  assert.match(page.url(), /[?&]status=pending/);
  await screenshot('filter-pending');
});

step('the user edits one', async () => {
  await page.getByRole('button', { name: 'Edit “Call the plumber”' }).click();
  const form = page.getByRole('form', { name: 'Edit “Call the plumber”' });
  await form.waitFor();
  assert.equal(await form.getByLabel('Title').inputValue(), 'Call the plumber');
  await form.getByLabel('Title').fill('Call the plumber about the sink');
  await form.getByLabel('Priority').selectOption('high');
  await form.getByLabel('Tags').fill('house, urgent');
  await form.getByLabel('Due date').fill('2030-01-10T08:00');
  await form.getByLabel('Repeats').selectOption('weekly');
  await screenshot('edit-form');
  await assertAccessible('the edit form');
  await form.getByRole('button', { name: 'Save' }).click();
  const item = taskItem('Call the plumber about the sink');
  await item.waitFor();
  await item.getByText('Repeats weekly').waitFor();
  await item.getByText('#urgent').waitFor();
  await item.getByText('Due Jan 10, 2030, 8:00 AM').waitFor();
  await expectCount(taskItems(), 2, 'still two pending tasks');
  await screenshot('edited');
});

step('the user deletes one', async () => {
  await page.getByRole('button', { name: 'Delete “Buy milk”' }).click();
  await page.getByRole('status').filter({ hasText: 'Deleted “Buy milk”' }).waitFor();
  await waitSummary('1 matching task');
  await expectCount(taskItems(), 1, 'one pending task left');
  assert.deepEqual(await visibleTitles(), ['Call the plumber about the sink']);
  await screenshot('deleted');
  assertNoProblems();
});

step('after a reload the same state is shown', async () => {
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Your tasks' }).waitFor();
  assert.equal(await page.getByLabel('Status').inputValue(), 'pending', 'the filter is kept');
  await waitSummary('1 matching task');
  assert.deepEqual(await visibleTitles(), ['Call the plumber about the sink']);
  await page.getByLabel('Status').selectOption('all');
  await waitSummary('2 tasks');
  assert.deepEqual((await visibleTitles()).sort(), ['Call the plumber about the sink', 'Write report']);
  await taskItem('Write report').getByText('Completed', { exact: true }).waitFor();
  await screenshot('after-reload');
  assertNoProblems();
});

step('search, sort and paging', async () => {
  // Six more tasks straight through the API, then the page is reloaded.
  const s = await session();
  for (const title of ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot']) {
    const r = await apiAs(s.access_token, `/api/${encodeURIComponent(s.user.id)}/tasks`, {
      method: 'POST', body: JSON.stringify({ title }),
    });
    assert.equal(r.status, 201);
  }
  await page.reload();
  await waitSummary('8 tasks');
  await page.getByLabel('Per page').selectOption('5');
  await waitSummary('Showing 1–5 of 8 tasks');
  assert.equal(await page.locator('#page-info').textContent(), 'Page 1 of 2');
  assert.equal(await page.getByRole('button', { name: 'Previous' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Next' }).click();
  await waitSummary('Showing 6–8 of 8 tasks');
  assert.equal(await page.locator('#page-info').textContent(), 'Page 2 of 2');
  await expectCount(taskItems(), 3, 'three tasks on page 2');
  assert.equal(await page.getByRole('button', { name: 'Next' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Previous' }).click();
  await waitSummary('Showing 1–5 of 8 tasks');

  await page.getByLabel('Sort by').selectOption('title');
  await page.getByLabel('Order').selectOption('asc');
  await waitSummary('Showing 1–5 of 8 tasks');
  await page.waitForFunction(() => document.querySelector('#task-list .task-title')?.textContent === 'Alpha');
  assert.deepEqual(await visibleTitles(), ['Alpha', 'Bravo', 'Call the plumber about the sink', 'Charlie', 'Delta']);

  await page.getByLabel('Search').fill('PLUMBER');
  await page.getByLabel('Search').press('Enter');
  await waitSummary('1 matching task');
  assert.deepEqual(await visibleTitles(), ['Call the plumber about the sink']);
  await page.getByLabel('Search').fill('no such thing');
  await page.getByLabel('Search').press('Enter');
  await waitSummary('No tasks match these filters.');
  await page.getByLabel('Search').fill('');
  await page.getByLabel('Search').press('Enter');
  await waitSummary('Showing 1–5 of 8 tasks');
  await screenshot('sorted-paged');
  assertNoProblems();
});

step('keyboard only: add a task and complete it', async () => {
  await page.goto(`${BASE}/`);      // the default view: newest first
  await page.getByRole('heading', { level: 1, name: 'Your tasks' }).waitFor();
  await taskItems().first().waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.locator('#new-title').focus();
  await page.keyboard.type('Typed with the keyboard');
  await page.keyboard.press('Enter');
  await taskItem('Typed with the keyboard').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'new-title', 'focus stays in the form');
  // Tab onto the new task's Complete button and press Space.
  const complete = page.getByRole('button', { name: 'Complete “Typed with the keyboard”' });
  await complete.focus();
  const ring = await complete.evaluate((el) => getComputedStyle(el).outlineStyle);
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Reopen “Typed with the keyboard”' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'toggle', 'focus stays on the button');
  assert.notEqual(ring, 'none', 'a focused button shows a focus ring');
  await screenshot('keyboard');
});

step('readable on a 375 px wide phone screen', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Your tasks' }).waitFor();
  await taskItems().first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  const font = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.task-title')).fontSize));
  assert.ok(font >= 16, 'task titles are at least 16 px');
  await screenshot('phone');
  await assertAccessible('the phone-sized page');
  await page.setViewportSize({ width: 1280, height: 900 });
});

step('after logging out the tasks are gone and stay gone', async () => {
  const old = await session();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'You have logged out.' }).waitFor();
  assert.equal(await page.getByText('Call the plumber about the sink').count(), 0);
  assert.equal(await page.locator('#task-list > li').count(), 0);
  assert.equal(await session(), null, 'no tokens kept');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  assert.equal(await page.getByText('Write report').count(), 0);
  // The old access token was revoked by the logout.
  const r = await apiAs(old.access_token, `/api/${encodeURIComponent(old.user.id)}/tasks`);
  assert.equal(r.status, 401);
  await screenshot('logged-out');
  assertNoProblems();
});

step('logging in again shows the same tasks', async () => {
  await page.getByLabel('Email').fill(USER.email.toUpperCase());
  await page.getByLabel('Password').fill(USER.password);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Your tasks' }).waitFor();
  // Logging out reset the filters: the default view, ten a page.
  await waitSummary('9 tasks');
  assert.equal(page.url(), `${BASE}/`);
});

step('an expired access token is refreshed once, a dead session logs out', async () => {
  // Spoil the access token: the next call gets 401, the page refreshes and retries.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('todo-fcgi.session'));
    s.access_token = 'x.y.z';
    localStorage.setItem('todo-fcgi.session', JSON.stringify(s));
  });
  await page.getByLabel('Status').selectOption('completed');
  await waitSummary('2 matching tasks');
  assert.notEqual((await session()).access_token, 'x.y.z', 'a new access token was stored');
  // Now spoil both: the page logs out and says why.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('todo-fcgi.session'));
    s.access_token = 'x.y.z';
    s.refresh_token = 'spoiled';
    localStorage.setItem('todo-fcgi.session', JSON.stringify(s));
  });
  await page.getByLabel('Status').selectOption('all');
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await page.locator('#auth-errors').getByText('Your session has ended. Please log in again.').waitFor();
  assert.equal(await page.locator('#task-list > li').count(), 0);
  assert.equal(await session(), null);
});

// ------------------------------------------------------------------ the docs

step('the docs page lists the task endpoints', async () => {
  const res = await page.goto(`${BASE}/docs/`);
  assert.equal(res.status(), 200);
  await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
  const ops = await page.locator('.opblock-summary').evaluateAll((els) => els.map((el) => {
    const method = el.querySelector('.opblock-summary-method')?.textContent.trim();
    const path = el.querySelector('.opblock-summary-path')?.getAttribute('data-path')
      || el.querySelector('.opblock-summary-path')?.textContent.trim();
    return `${method} ${path}`.replace(/\u200b/g, '');
  }));
  for (const op of [
    'GET /api/{user_id}/tasks', 'POST /api/{user_id}/tasks',
    'GET /api/{user_id}/tasks/{task_id}', 'PUT /api/{user_id}/tasks/{task_id}',
    'PATCH /api/{user_id}/tasks/{task_id}', 'DELETE /api/{user_id}/tasks/{task_id}',
    'PATCH /api/{user_id}/tasks/{task_id}/complete',
    'POST /api/auth/token', 'GET /api/auth/me',
  ]) {
    assert.ok(ops.includes(op), `the docs list ${op} (found: ${ops.join(', ')})`);
  }
  await page.getByRole('button', { name: /Authorize/ }).first().waitFor();
  await page.locator('.opblock-tag-section').first().evaluate((el) => el.scrollIntoView());
  await screenshot('docs', false);
  assertNoProblems();
});

step('"Authorize" signs in through the OAuth2 password flow and "Try it out" works', async () => {
  await page.locator('.auth-wrapper .authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  const oauth = dialog.locator('.auth-container').filter({ hasText: 'Flow: password' });
  await oauth.getByText('Token URL: /api/auth/token').waitFor();
  await oauth.getByLabel('username:').fill(USER.email);
  await oauth.getByLabel('password:', { exact: true }).fill(USER.password);
  await screenshot('docs-authorize', false);
  await oauth.locator('button.authorize').click();
  await oauth.locator('button', { hasText: 'Logout' }).waitFor();
  await oauth.getByText('Authorized', { exact: true }).waitFor();
  assert.equal(await oauth.locator('.errors').count(), 0, 'no authorization error');
  await dialog.locator('button.close-modal').click();

  // GET /api/auth/me with the token Swagger UI obtained.
  const me = page.locator('.opblock').filter({ has: page.locator('[data-path="/api/auth/me"]') }).first();
  await me.locator('.opblock-summary').first().click();
  await me.getByRole('button', { name: 'Try it out' }).click();
  await me.getByRole('button', { name: 'Execute' }).click();
  const live = me.locator('.live-responses-table .response .response-col_status').first();
  await live.waitFor();
  assert.equal((await live.textContent()).trim(), '200');
  await me.locator('.live-responses-table').getByText(USER.email.toLowerCase()).first().waitFor();
  await me.locator('.live-responses-table').scrollIntoViewIfNeeded();
  await screenshot('docs-try-it-out', false);
  assertNoProblems();
});
