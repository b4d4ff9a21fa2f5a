// DOM building. Every piece of record data goes in through textContent (via el());
// nothing is parsed as HTML, so a hostile name or drug text cannot become markup or script.

import { language, locale, t } from './i18n.js';

export function el(tag, className = '', text = '') {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

// ---- dates and amounts ------------------------------------------------------------------

const DATE_TIME = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2}))?/;

/**
 * A FHIR date or dateTime in the chosen language; partial dates stay partial. Times are
 * shown as the facility recorded them (the wall-clock part before the offset), not
 * converted to the viewer's device zone: "10:10" on an IST lab report stays 10:10.
 */
export function formatDate(value, { timeOnly = false } = {}) {
  const parts = DATE_TIME.exec(value ?? '');
  if (!parts) return value ?? '';
  const [, y, m, d, hh, mm] = parts;
  // a UTC Date formatted in UTC: the calendar fields come out exactly as written
  const date = new Date(Date.UTC(Number(y), Number(m ?? 1) - 1, Number(d ?? 1),
    Number(hh ?? 0), Number(mm ?? 0)));
  const options = { timeZone: 'UTC' };
  if (!timeOnly) {
    options.year = 'numeric';
    if (m) options.month = 'short';
    if (d) options.day = 'numeric';
  }
  if (hh) Object.assign(options, { hour: 'numeric', minute: '2-digit' });
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

/** "5 Oct 2026, 10:00 am – 10:20 am": the end date is left out when it is the same day. */
function formatPeriod(start, end) {
  if (!end) return formatDate(start);
  const sameDay = start && end.slice(0, 10) === start.slice(0, 10) && end.includes('T');
  return `${formatDate(start)} – ${formatDate(end, { timeOnly: sameDay })}`;
}

function formatMoney({ value, currency }) {
  try {
    if (currency) {
      return new Intl.NumberFormat(locale(), { style: 'currency', currency }).format(value);
    }
  } catch {
    /* an unknown currency code: fall through to the plain number */
  }
  return [new Intl.NumberFormat(locale()).format(value), currency].filter(Boolean).join(' ');
}

/** Age in whole years; months for infants, where years say too little. */
export function ageText(birthDate, today = new Date()) {
  const parts = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(birthDate ?? '');
  if (!parts) return '';
  const [, y, m = '07', d = '01'] = parts; // a year alone: assume mid-year
  let months = (today.getFullYear() - Number(y)) * 12 + (today.getMonth() + 1 - Number(m));
  if (today.getDate() < Number(d)) months -= 1;
  if (months < 0) return '';
  return months < 24 ? t('months', { n: months }) : t('years', { n: Math.floor(months / 12) });
}

// ---- patient header -------------------------------------------------------------------

export function renderPatient(section, header) {
  section.replaceChildren();
  const names = el('div', 'names');
  if (header.devanagariName) names.append(el('h2', 'name-devanagari', header.devanagariName));
  if (header.latinName) names.append(el(header.devanagariName ? 'p' : 'h2', 'name-latin', header.latinName));
  if (!names.childElementCount) names.append(el('h2', 'name-latin', t('patient')));
  if (header.devanagariName) names.querySelector('.name-devanagari').lang = 'hi';

  const facts = el('dl', 'facts');
  const age = ageText(header.birthDate);
  addFact(facts, 'age', age && `${age} (${t('born', { date: formatDate(header.birthDate) })})`);
  addFact(facts, 'gender', header.gender && t(['male', 'female', 'other'].includes(header.gender)
    ? header.gender : 'unknown'));
  addFact(facts, 'abhaNumber', header.abhaNumbers.join(', '), 'abha');
  addFact(facts, 'abhaAddress', header.abhaAddresses.join(', '), 'abha');

  section.append(names, facts);
  for (const [key, values] of [['allergies', header.allergies], ['activeConditions', header.conditions]]) {
    if (!values?.length) continue;
    const box = el('div', `alerts ${key}`);
    box.append(el('h3', '', t(key)));
    const list = el('ul');
    for (const text of values) list.append(el('li', 'alert-chip', text));
    box.append(list);
    section.append(box);
  }
  if (header.facilities.length) {
    const facilities = el('div', 'facilities');
    facilities.append(el('h3', '', t('facilities')));
    const list = el('ul');
    for (const name of header.facilities) list.append(el('li', 'facility-chip', name));
    facilities.append(list);
    section.append(facilities);
  }
}

function addFact(dl, labelKey, text, className = '') {
  if (!text) return;
  const wrap = el('div', `fact ${className}`.trim());
  wrap.append(el('dt', '', t(labelKey)), el('dd', '', text));
  dl.append(wrap);
}

// ---- filters ----------------------------------------------------------------------------

/** One checkbox chip per group that has entries, with its count. */
export function renderChips(container, counts, selected, onToggle) {
  container.replaceChildren();
  for (const [group, count] of counts) {
    const label = el('label', `chip group-${group}`);
    const box = el('input');
    box.type = 'checkbox';
    box.checked = selected.has(group);
    box.value = group;
    box.addEventListener('change', () => onToggle(group, box.checked));
    label.append(box, el('span', '', t(group)), el('span', 'count', String(count)));
    container.append(label);
  }
}

// ---- timeline ---------------------------------------------------------------------------

export function renderTimeline(list, items) {
  list.replaceChildren(...items.map(renderItem));
}

function renderItem(item) {
  const li = el('li', `item group-${item.group}`);
  li.dataset.key = item.key;
  const head = el('div', 'item-head');
  const when = el('time', 'when', formatPeriod(item.date, item.until) || '—');
  if (item.date) when.dateTime = item.date;
  head.append(el('span', `badge group-${item.group}`, t(item.label)), when);
  li.append(head);

  const title = el('h3', 'item-title', item.title || t(item.label));
  if (item.flag) title.append(' ', flagPill(item.flag));
  li.append(title);
  if (item.facility) li.append(el('p', 'item-facility', item.facility));

  const fields = [...item.fields];
  if (item.money) fields.unshift(['total', formatMoney(item.money)]);
  if (fields.length) {
    const dl = el('dl', 'fields');
    for (const [labelKey, text] of fields) {
      const wrap = el('div', `field field-${labelKey}`);
      wrap.append(el('dt', '', t(labelKey)), el('dd', '', text));
      dl.append(wrap);
    }
    li.append(dl);
  }
  if (item.results?.length) li.append(renderResults(item.results));
  return li;
}

function renderResults(results) {
  const table = el('table', 'results');
  table.append(el('caption', '', t('results')));
  const body = el('tbody');
  for (const row of results) {
    const tr = el('tr');
    const value = el('td', 'value', row.value);
    if (row.flag) value.append(' ', flagPill(row.flag));
    tr.append(el('th', '', row.title), value, el('td', 'range', row.range));
    body.append(tr);
  }
  table.append(body);
  return table;
}

function flagPill(flag) {
  if (flag.level !== 'abnormal') return el('span', 'flag', flag.text);
  const pill = el('span', 'flag abnormal', `${t(flag.labelKey)} (${flag.code})`);
  pill.title = t('abnormal');
  return pill;
}

// ---- status line ------------------------------------------------------------------------

/** state: {kind: 'idle'|'loading'|'invalid'|'not-found'|'error', count?, error?} */
export function renderStatus(box, state) {
  box.replaceChildren();
  box.dataset.state = state.kind;
  box.hidden = state.kind === 'idle';
  if (state.kind === 'loading') {
    box.append(el('span', 'spinner'), el('span', '', state.count
      ? t('loadingPages', { n: state.count.toLocaleString(locale()) }) : t('loading')));
  } else if (state.kind === 'invalid') {
    box.append(el('p', '', t('invalid')));
  } else if (state.kind === 'not-found') {
    box.append(el('p', '', t('notFound')));
  } else if (state.kind === 'error') {
    const { error } = state;
    const titles = { network: t('networkError'), auth: t('needsToken') };
    const title = titles[error.kind] ?? t('error');
    box.append(el('p', 'error-title', error.status ? `${title} (HTTP ${error.status})` : title));
    if (error.diagnostics?.length) {
      const list = el('ul', 'diagnostics');
      for (const text of error.diagnostics) list.append(el('li', '', text));
      box.append(list);
    }
  }
}

/** Labels written in the HTML itself: data-i18n (text) and data-i18n-placeholder. */
export function applyStaticLabels(root) {
  document.documentElement.lang = language();
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of root.querySelectorAll('[data-i18n-title]')) {
    node.title = t(node.dataset.i18nTitle);
    node.setAttribute('aria-label', node.title);
  }
}
