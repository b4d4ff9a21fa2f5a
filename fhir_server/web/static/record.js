// The record page: look up a health ID, then show and filter its timeline.

import { parseAbha } from './abha.js';
import {
  accessToken, fetchRecord, indexResources, MAX_RESOURCES, RecordError, setAccessToken,
} from './fhir.js';
import { language, loadLanguage, locale, setLanguage, t } from './i18n.js';
import {
  applyStaticLabels, el, renderChips, renderPatient, renderStatus, renderTimeline,
} from './render.js';
import { buildHeader, buildTimeline, GROUPS } from './timeline.js';

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('lookup'), input: $('abha'), status: $('status'), patient: $('patient'),
  record: $('record'), capped: $('capped'), withheld: $('withheld'), chips: $('chips'),
  from: $('from'), to: $('to'),
  clear: $('clear'), count: $('count'), timeline: $('timeline'), lang: $('lang'),
  access: $('access'), tokenForm: $('token-form'), token: $('token'),
};

const state = {
  status: { kind: 'idle' },
  record: null, // {header, items, capped}
  groups: new Set(GROUPS),
  lookup: null, // AbortController of the lookup in flight
};

function show(status) {
  state.status = status;
  renderStatus(ui.status, status);
}

async function lookUp(event) {
  event.preventDefault();
  const abha = parseAbha(ui.input.value);
  state.lookup?.abort(); // a new scan replaces a lookup still loading
  state.record = null;
  renderRecord();
  if (!abha) {
    ui.input.setAttribute('aria-invalid', 'true');
    show({ kind: 'invalid' });
    ui.input.focus();
    return;
  }
  ui.input.removeAttribute('aria-invalid');
  const controller = new AbortController();
  state.lookup = controller;
  show({ kind: 'loading' });
  try {
    const { resources, capped, withheld } = await fetchRecord(abha.identifier, {
      signal: controller.signal,
      onProgress: (count) => show({ kind: 'loading', count }),
    });
    const index = indexResources(resources);
    const patients = index.ofType('Patient');
    if (!patients.length) {
      show({ kind: 'not-found' });
      return;
    }
    state.record = {
      header: buildHeader(patients, index),
      items: buildTimeline(resources, index),
      capped,
      withheld,
    };
    state.groups = new Set(GROUPS);
    show({ kind: 'idle' });
    renderRecord();
    // ready for the next scan: a scanner types into the focused field and sends Enter
    ui.input.select();
  } catch (error) {
    if (error.name === 'AbortError') return;
    if (error instanceof RecordError && error.kind === 'not-found') {
      show({ kind: 'not-found' });
    } else if (error instanceof RecordError && error.kind === 'auth') {
      ui.access.open = true; // the server wants a token: offer the field
      show({ kind: 'error', error });
      ui.token.focus();
    } else {
      const known = error instanceof RecordError;
      show({ kind: 'error', error: known ? error : { kind: 'server', diagnostics: [String(error)] } });
    }
  } finally {
    if (state.lookup === controller) state.lookup = null;
  }
}

function renderRecord() {
  const { record } = state;
  ui.patient.hidden = !record;
  ui.record.hidden = !record;
  if (!record) return;
  renderPatient(ui.patient, record.header);
  ui.capped.hidden = !record.capped;
  ui.capped.textContent = t('capped', { n: MAX_RESOURCES.toLocaleString(locale()) });
  // a partial record must say so: the doctor should not take it for the whole history
  ui.withheld.hidden = !record.withheld.length;
  ui.withheld.replaceChildren(el('strong', '', t('withheld')));
  for (const text of record.withheld) ui.withheld.append(el('span', 'withheld-detail', text));
  const counts = GROUPS.map((g) => [g, record.items.filter((i) => i.group === g).length])
    .filter(([, n]) => n > 0);
  renderChips(ui.chips, counts, state.groups, (group, on) => {
    if (on) state.groups.add(group);
    else state.groups.delete(group);
    renderItems();
  });
  renderItems();
}

// Filters apply client-side to what was loaded: no new request per click.
function renderItems() {
  const { items } = state.record;
  const from = ui.from.value; // yyyy-mm-dd or ''
  const to = ui.to.value;
  // compare the recorded calendar day (first 10 characters of a FHIR date/dateTime), so
  // a visit at 23:30 IST counts on that day whatever the viewer's zone
  const shown = items.filter((item) => {
    if (!state.groups.has(item.group)) return false;
    const day = item.date.slice(0, 10);
    if (from && (!day || day < from)) return false;
    if (to && (!day || day > to)) return false;
    return true;
  });
  renderTimeline(ui.timeline, shown);
  ui.count.textContent = items.length === 0 ? t('noEntries')
    : shown.length === 0 ? t('noMatches')
      : t('shown', { shown: shown.length, total: items.length });
}

function clearFilters() {
  ui.from.value = '';
  ui.to.value = '';
  state.groups = new Set(GROUPS);
  renderRecord();
}

function switchLanguage() {
  setLanguage(language() === 'en' ? 'hi' : 'en');
  applyStaticLabels(document);
  renderStatus(ui.status, state.status);
  renderRecord();
}

loadLanguage();
applyStaticLabels(document);
ui.form.addEventListener('submit', lookUp);
ui.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  setAccessToken(ui.token.value.trim());
  ui.token.value = '';
  ui.access.open = false;
  ui.input.focus();
  ui.access.dataset.set = String(Boolean(accessToken()));
  if (ui.input.value.trim()) ui.form.requestSubmit(); // retry the lookup that needed it
});
if (accessToken()) ui.access.dataset.set = 'true';
ui.from.addEventListener('change', () => state.record && renderItems());
ui.to.addEventListener('change', () => state.record && renderItems());
ui.clear.addEventListener('click', clearFilters);
ui.lang.addEventListener('click', switchLanguage);
ui.input.addEventListener('input', () => ui.input.removeAttribute('aria-invalid'));
document.body.dataset.ready = 'true'; // lets the browser test know the module has run
