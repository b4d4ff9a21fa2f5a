// Turn FHIR resources into what the page shows: one patient header and timeline items.
// Pure functions over plain JSON (no DOM), so the rules are easy to read in one place.

import { ABHA_ADDRESS_SYSTEM, ABHA_NUMBER_SYSTEM } from './abha.js';

// Both systems name the same health ID (NRCeS examples vs NHA tooling).
const NUMBER_SYSTEMS = [ABHA_NUMBER_SYSTEM, 'https://healthid.abdm.gov.in'];
const ADDRESS_SYSTEMS = [ABHA_ADDRESS_SYSTEM, 'https://healthid.abdm.gov.in/address'];
const DEVANAGARI = /[\u0900-\u097F]/;

// v3 ObservationInterpretation codes that mean "outside the reference range"
const ABNORMAL = {
  H: 'high', HU: 'high', HH: 'criticalHigh',
  L: 'low', LU: 'low', LL: 'criticalLow',
  A: 'abnormal', AA: 'abnormal',
};

// filter group of each timeline item kind
export const GROUPS = [
  'visits', 'conditions', 'medicines', 'labs', 'immunizations', 'appointments', 'bills',
];

// clinical statuses that still matter at the counter (R4 condition/allergy clinical status)
const CURRENT = new Set(['active', 'recurrence', 'relapse']);

// ---- small readers --------------------------------------------------------------

export function conceptText(concept) {
  if (!concept) return '';
  return concept.text || (concept.coding ?? []).map((c) => c.display || c.code).find(Boolean) || '';
}

function humanName(name) {
  if (!name) return '';
  if (name.text) return name.text;
  return [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

export function quantityText(q) {
  if (!q || q.value === undefined) return '';
  return [q.comparator, q.value, q.unit || q.code].filter((p) => p !== undefined && p !== '').join(' ');
}

function moneyOf(money) {
  return money && money.value !== undefined ? { value: money.value, currency: money.currency } : null;
}

/** Name of whoever a reference points at, from the Bundle, else its display text. */
function nameOf(reference, index) {
  if (!reference) return '';
  const target = index.resolve(reference);
  if (target?.resourceType === 'PractitionerRole') {
    // the role's Practitioner may not be in the Bundle: fall back to the role itself
    return nameOf(target.practitioner, index) || reference.display || conceptText(target.code?.[0]);
  }
  if (target?.name) {
    return typeof target.name === 'string' ? target.name : humanName(target.name[0]);
  }
  return reference.display || '';
}

function joined(values) {
  return [...new Set(values.filter(Boolean))].join(', ');
}

// ---- patient header ---------------------------------------------------------------

export function buildHeader(patients, index) {
  const names = patients.flatMap((p) => p.name ?? []);
  // prefer the official name; usual/other names follow in recorded order
  names.sort((a, b) => (b.use === 'official') - (a.use === 'official'));
  const texts = names.map(humanName).filter(Boolean);
  const identifiers = patients.flatMap((p) => p.identifier ?? []);
  return {
    latinName: texts.find((n) => !DEVANAGARI.test(n)) || '',
    devanagariName: texts.find((n) => DEVANAGARI.test(n)) || '',
    birthDate: patients.map((p) => p.birthDate).find(Boolean) || '',
    gender: patients.map((p) => p.gender).find(Boolean) || '',
    abhaNumbers: [...new Set(identifiers
      .filter((i) => NUMBER_SYSTEMS.includes(i.system)).map((i) => i.value))],
    abhaAddresses: [...new Set(identifiers
      .filter((i) => ADDRESS_SYSTEMS.includes(i.system)).map((i) => i.value?.toLowerCase()))],
    facilities: [...new Set(patients.map((p) => nameOf(p.managingOrganization, index))
      .filter(Boolean))],
    // safety first: what the doctor must see before prescribing, from every facility
    allergies: joinedList(index.ofType('AllergyIntolerance').filter(stillTrue)
      .map((a) => [conceptText(a.code), a.criticality === 'high' ? '⚠' : ''].join(' ').trim())),
    conditions: joinedList(index.ofType('Condition').filter(stillTrue)
      .map((c) => conceptText(c.code))),
  };
}

/** A current, not refuted, not mistaken entry (no clinical status counts as current). */
function stillTrue(resource) {
  const verification = resource.verificationStatus?.coding?.[0]?.code;
  if (verification === 'refuted' || verification === 'entered-in-error') return false;
  const clinical = resource.clinicalStatus?.coding?.[0]?.code;
  return !clinical || CURRENT.has(clinical);
}

function joinedList(values) {
  return [...new Set(values.filter(Boolean))];
}

// ---- timeline items -----------------------------------------------------------------

/**
 * Items newest first. Each: {key, group, label, date, title, facility, fields, flag,
 * results}; fields are [labelKey, text] pairs and flag is {level, labelKey, code}.
 */
export function buildTimeline(resources, index) {
  const inReports = new Set();
  for (const report of index.ofType('DiagnosticReport')) {
    for (const ref of report.result ?? []) {
      const obs = index.resolve(ref);
      if (obs) inReports.add(obs.id);
    }
  }
  const items = [];
  for (const r of resources) {
    const build = BUILDERS[r.resourceType];
    // an Observation inside a report is shown under that report, not twice
    if (!build || (r.resourceType === 'Observation' && inReports.has(r.id))) continue;
    const item = build(r, index);
    item.key = `${r.resourceType}/${r.id}`;
    item.facility ||= facilityOf(r, index);
    item.fields = item.fields.filter(([, text]) => text);
    item.sortKey = sortKey(sortDate(r, item.date, index));
    items.push(item);
  }
  return items.sort((a, b) => b.sortKey - a.sortKey);
}

// A day-only entry (a prescription's authoredOn) sorts at its visit's start time when the
// visit is that same day, so it stays next to the visit that produced it.
function sortDate(resource, date, index) {
  if (!date || date.includes('T')) return date;
  const start = index.resolve(resource.encounter ?? resource.context)?.period?.start ?? '';
  return start.startsWith(date) ? start : date;
}

// Newest first; undated entries sink to the end.
function sortKey(date) {
  if (!date) return -Infinity;
  // a date without a time is read as that day's start, in the viewer's zone
  const full = date.length === 4 ? `${date}-01-01` : date.length === 7 ? `${date}-01` : date;
  const time = Date.parse(full.includes('T') ? full : `${full}T00:00:00`);
  return Number.isNaN(time) ? -Infinity : time;
}

// Where a resource was recorded: its own organisation, else its visit's, else the
// facility that keeps the Patient record it belongs to.
function facilityOf(resource, index) {
  const encounter = index.resolve(resource.encounter ?? resource.context);
  const subject = index.resolve(resource.subject ?? resource.patient);
  return nameOf(encounter?.serviceProvider, index)
    || nameOf(subject?.managingOrganization, index);
}

const BUILDERS = {
  Encounter(r, index) {
    const doctors = (r.participant ?? []).map((p) => nameOf(p.individual, index));
    return {
      group: 'visits',
      label: 'visit',
      date: r.period?.start || '',
      title: conceptText(r.type?.[0]) || conceptText(r.serviceType) || r.class?.display
        || r.class?.code || '',
      facility: nameOf(r.serviceProvider, index) || nameOf(r.location?.[0]?.location, index),
      until: r.period?.end || '',
      fields: [
        ['kindOfVisit', r.class?.display || r.class?.code],
        ['doctor', joined(doctors)],
        ['reason', joined((r.reasonCode ?? []).map(conceptText))],
        ['status', r.status],
      ],
    };
  },

  MedicationRequest(r, index) {
    return {
      group: 'medicines',
      label: 'medicine',
      date: r.authoredOn || '',
      title: medicationName(r, index),
      fields: [
        ['dosage', dosageText(r.dosageInstruction)],
        ['quantity', quantityText(r.dispenseRequest?.quantity)],
        ['doctor', nameOf(r.requester, index)],
        ['status', r.status],
      ],
    };
  },

  MedicationDispense(r, index) {
    return {
      group: 'medicines',
      label: 'dispensed',
      date: r.whenHandedOver || r.whenPrepared || '',
      title: medicationName(r, index),
      facility: nameOf(r.location, index)
        || (r.performer ?? []).map((p) => nameOf(p.actor, index)).find(Boolean) || '',
      fields: [
        ['dosage', dosageText(r.dosageInstruction)],
        ['quantity', quantityText(r.quantity)],
        ['status', r.status],
      ],
    };
  },

  Observation(r, index) {
    return {
      group: 'labs',
      label: 'lab',
      date: r.effectiveDateTime || r.effectivePeriod?.start || r.effectiveInstant || r.issued || '',
      title: conceptText(r.code),
      facility: organisationAmong(r.performer, index),
      fields: [
        ['result', observationValue(r)],
        ['range', rangeText(r.referenceRange)],
        ['doctor', practitionerAmong(r.performer, index)],
      ],
      flag: interpretation(r),
    };
  },

  DiagnosticReport(r, index) {
    const results = (r.result ?? []).map((ref) => index.resolve(ref)).filter(Boolean)
      .map((obs) => ({
        title: conceptText(obs.code),
        value: observationValue(obs),
        range: rangeText(obs.referenceRange),
        flag: interpretation(obs),
      }));
    return {
      group: 'labs',
      label: 'report',
      date: r.effectiveDateTime || r.effectivePeriod?.start || r.issued || '',
      title: conceptText(r.code),
      facility: organisationAmong(r.performer, index),
      fields: [
        ['conclusion', r.conclusion],
        ['doctor', practitionerAmong(r.performer, index)],
        ['status', r.status],
      ],
      flag: results.map((x) => x.flag).find((f) => f?.level === 'abnormal'),
      results,
    };
  },

  Appointment(r, index) {
    const actors = (r.participant ?? []).map((p) => p.actor);
    const byType = (type) => actors.filter((a) => index.resolve(a)?.resourceType === type
      || a?.reference?.startsWith(`${type}/`)).map((a) => nameOf(a, index));
    return {
      group: 'appointments',
      label: 'appointment',
      date: r.start || r.requestedPeriod?.[0]?.start || r.created || '',
      until: r.end || '',
      title: conceptText(r.serviceType?.[0]) || conceptText(r.appointmentType) || r.description
        || conceptText(r.specialty?.[0]) || '',
      facility: joined([...byType('Location'), ...byType('Organization')]),
      fields: [
        ['doctor', joined([...byType('Practitioner'), ...byType('PractitionerRole')])],
        ['reason', joined((r.reasonCode ?? []).map(conceptText))],
        ['status', r.status],
      ],
    };
  },

  Condition(r, index) {
    return {
      group: 'conditions',
      label: 'condition',
      date: r.onsetDateTime || r.onsetPeriod?.start || r.recordedDate || '',
      title: conceptText(r.code),
      fields: [
        ['clinicalStatus', conceptText(r.clinicalStatus)],
        ['severity', conceptText(r.severity)],
        ['doctor', nameOf(r.asserter, index) || nameOf(r.recorder, index)],
      ],
    };
  },

  AllergyIntolerance(r, index) {
    const reactions = (r.reaction ?? []).flatMap((x) => (x.manifestation ?? []).map(conceptText));
    return {
      group: 'conditions',
      label: 'allergy',
      date: r.recordedDate || r.onsetDateTime || '',
      title: conceptText(r.code),
      fields: [
        ['reaction', joined(reactions)],
        ['criticality', r.criticality],
        ['clinicalStatus', conceptText(r.clinicalStatus)],
        ['doctor', nameOf(r.recorder, index) || nameOf(r.asserter, index)],
      ],
      flag: r.criticality === 'high' ? { level: 'abnormal', labelKey: 'criticality', code: 'high' }
        : null,
    };
  },

  Immunization(r, index) {
    const doses = (r.protocolApplied ?? []).map((p) => p.doseNumberPositiveInt ?? p.doseNumberString);
    return {
      group: 'immunizations',
      label: 'immunization',
      date: r.occurrenceDateTime || r.recorded || '',
      title: conceptText(r.vaccineCode),
      facility: nameOf(r.location, index),
      fields: [
        ['dose', joined(doses.map((d) => (d === undefined ? '' : String(d))))],
        ['doctor', joined((r.performer ?? []).map((p) => nameOf(p.actor, index)))],
        ['status', r.status],
      ],
    };
  },

  Procedure(r, index) {
    return {
      group: 'visits',
      label: 'procedure',
      date: r.performedDateTime || r.performedPeriod?.start || '',
      title: conceptText(r.code),
      fields: [
        ['doctor', joined((r.performer ?? []).map((p) => nameOf(p.actor, index)))],
        ['reason', joined((r.reasonCode ?? []).map(conceptText))],
        ['status', r.status],
      ],
    };
  },

  Claim(r, index) {
    return {
      group: 'bills',
      label: 'claim',
      date: r.created || r.billablePeriod?.start || '',
      title: conceptText(r.type),
      facility: nameOf(r.provider, index) || nameOf(r.facility, index),
      money: moneyOf(r.total),
      fields: [
        ['items', joined((r.item ?? []).map((line) => conceptText(line.productOrService)))],
        ['status', r.status],
      ],
    };
  },

  Invoice(r, index) {
    return {
      group: 'bills',
      label: 'bill',
      date: r.date || '',
      title: conceptText(r.type),
      facility: nameOf(r.issuer, index),
      money: moneyOf(r.totalGross) || moneyOf(r.totalNet),
      fields: [
        ['items', joined((r.lineItem ?? []).map((line) => lineItemName(line, index)))],
        ['status', r.status],
      ],
    };
  },
};

function medicationName(r, index) {
  if (r.medicationCodeableConcept) return conceptText(r.medicationCodeableConcept);
  const medication = index.resolve(r.medicationReference);
  return conceptText(medication?.code) || r.medicationReference?.display || '';
}

function lineItemName(line, index) {
  if (line.chargeItemCodeableConcept) return conceptText(line.chargeItemCodeableConcept);
  const charge = index.resolve(line.chargeItemReference);
  return conceptText(charge?.code) || line.chargeItemReference?.display || '';
}

function dosageText(dosages) {
  return (dosages ?? []).map((d) => d.text || d.patientInstruction).filter(Boolean).join('; ');
}

function organisationAmong(refs, index) {
  return joined((refs ?? []).filter((ref) => {
    const type = index.resolve(ref)?.resourceType;
    return type === 'Organization' || ref.reference?.startsWith('Organization/');
  }).map((ref) => nameOf(ref, index)));
}

function practitionerAmong(refs, index) {
  return joined((refs ?? []).filter((ref) => {
    const type = index.resolve(ref)?.resourceType;
    return type === 'Practitioner' || type === 'PractitionerRole'
      || /^Practitioner(Role)?\//.test(ref.reference ?? '');
  }).map((ref) => nameOf(ref, index)));
}

function valueText(holder) {
  if (holder.valueQuantity) return quantityText(holder.valueQuantity);
  if (holder.valueCodeableConcept) return conceptText(holder.valueCodeableConcept);
  if (holder.valueRange) {
    return [quantityText(holder.valueRange.low), quantityText(holder.valueRange.high)]
      .filter(Boolean).join(' – ');
  }
  if (holder.valueRatio) {
    return `${quantityText(holder.valueRatio.numerator)} / ${quantityText(holder.valueRatio.denominator)}`;
  }
  for (const key of ['valueString', 'valueInteger', 'valueBoolean', 'valueDateTime', 'valueTime']) {
    if (holder[key] !== undefined) return String(holder[key]);
  }
  return '';
}

function observationValue(obs) {
  const own = valueText(obs);
  if (own) return own;
  // e.g. blood pressure: systolic and diastolic live in components
  return (obs.component ?? [])
    .map((c) => `${conceptText(c.code)} ${valueText(c)}`.trim())
    .filter(Boolean)
    .join('; ');
}

function rangeText(ranges) {
  return (ranges ?? []).map((range) => {
    if (range.text) return range.text;
    const low = quantityText(range.low);
    const high = quantityText(range.high);
    if (low && high) return `${low} – ${high}`;
    if (high) return `≤ ${high}`;
    return low ? `≥ ${low}` : '';
  }).filter(Boolean).join('; ');
}

/** The interpretation flag; abnormal codes get a label key so the page can highlight them. */
function interpretation(obs) {
  for (const concept of obs.interpretation ?? []) {
    for (const coding of concept.coding ?? []) {
      const labelKey = ABNORMAL[coding.code];
      if (labelKey) return { level: 'abnormal', labelKey, code: coding.code };
    }
  }
  const text = conceptText(obs.interpretation?.[0]);
  return text ? { level: 'info', text } : null;
}
