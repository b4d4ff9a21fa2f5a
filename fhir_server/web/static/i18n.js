// Every UI label in both languages. Data from the record (names, drug names, codes)
// is shown as recorded; only the page's own words are translated.

const LABELS = {
  en: {
    title: 'Health record by ABHA',
    subtitle: 'Every visit, medicine, test and bill, from every facility',
    abhaLabel: 'ABHA number or ABHA address',
    abhaPlaceholder: '22-7225-4829-5255 or name@abdm',
    show: 'Show record',
    language: 'हिन्दी',
    languageName: 'Switch to Hindi',
    loading: 'Loading the record…',
    loadingPages: 'Loading the record… {n} entries so far',
    invalid: 'Enter a 14-digit ABHA number (like 22-7225-4829-5255) or an ABHA address (like name@abdm).',
    notFound: 'No patient found for this ABHA.',
    error: 'Could not load the record.',
    networkError: 'The server could not be reached. Check the connection and try again.',
    needsToken: 'This server needs an access token: paste one from your hospital system into the Access token field.',
    tokenTitle: 'Access token',
    tokenLabel: 'Access token',
    tokenPlaceholder: 'Bearer token from your hospital system',
    tokenSave: 'Use token',
    capped: 'Showing the first {n} entries only: this record is longer.',
    withheld: 'Not the whole record: some entries were not shown to this facility.',
    patient: 'Patient',
    age: 'Age',
    years: '{n} years',
    months: '{n} months',
    born: 'born {date}',
    gender: 'Gender',
    male: 'Male',
    female: 'Female',
    other: 'Other',
    unknown: 'Unknown',
    abhaNumber: 'ABHA number',
    abhaAddress: 'ABHA address',
    facilities: 'Records at',
    timeline: 'Timeline',
    filters: 'Filters',
    from: 'From',
    to: 'To',
    clear: 'Clear filters',
    noMatches: 'No entries match these filters.',
    noEntries: 'No visits, conditions, medicines, tests, vaccinations, appointments or bills recorded yet.',
    shown: '{shown} of {total} entries',
    visits: 'Visits',
    medicines: 'Medicines',
    labs: 'Lab results',
    appointments: 'Appointments',
    bills: 'Bills & claims',
    conditions: 'Conditions & allergies',
    immunizations: 'Vaccinations',
    condition: 'Condition',
    allergy: 'Allergy',
    immunization: 'Vaccination',
    procedure: 'Procedure',
    clinicalStatus: 'Clinical status',
    severity: 'Severity',
    criticality: 'Criticality',
    reaction: 'Reaction',
    dose: 'Dose',
    allergies: 'Allergies',
    activeConditions: 'Known conditions',
    visit: 'Visit',
    medicine: 'Medicine',
    lab: 'Lab result',
    report: 'Lab report',
    appointment: 'Appointment',
    bill: 'Bill',
    claim: 'Claim',
    dispensed: 'Dispensed',
    facility: 'Facility',
    doctor: 'Doctor',
    dosage: 'Dosage',
    quantity: 'Quantity',
    result: 'Result',
    range: 'Reference range',
    status: 'Status',
    total: 'Total',
    reason: 'Reason',
    kindOfVisit: 'Type',
    abnormal: 'Abnormal',
    high: 'High',
    low: 'Low',
    criticalHigh: 'Critically high',
    criticalLow: 'Critically low',
    results: 'Results',
    conclusion: 'Conclusion',
    items: 'Items',
  },
  hi: {
    title: 'आभा से स्वास्थ्य रिकॉर्ड',
    subtitle: 'हर स्वास्थ्य केंद्र की हर विज़िट, दवा, जाँच और बिल',
    abhaLabel: 'आभा नंबर या आभा पता',
    abhaPlaceholder: '22-7225-4829-5255 या name@abdm',
    show: 'रिकॉर्ड देखें',
    language: 'English',
    languageName: 'अंग्रेज़ी में देखें',
    loading: 'रिकॉर्ड लोड हो रहा है…',
    loadingPages: 'रिकॉर्ड लोड हो रहा है… अब तक {n} प्रविष्टियाँ',
    invalid: '14 अंकों का आभा नंबर (जैसे 22-7225-4829-5255) या आभा पता (जैसे name@abdm) दर्ज करें।',
    notFound: 'इस आभा के लिए कोई मरीज़ नहीं मिला।',
    error: 'रिकॉर्ड लोड नहीं हो सका।',
    networkError: 'सर्वर से संपर्क नहीं हो सका। कनेक्शन जाँचें और फिर से कोशिश करें।',
    needsToken: 'इस सर्वर के लिए एक्सेस टोकन ज़रूरी है: अपने अस्पताल सिस्टम से मिला टोकन एक्सेस टोकन वाले खाने में डालें।',
    tokenTitle: 'एक्सेस टोकन',
    tokenLabel: 'एक्सेस टोकन',
    tokenPlaceholder: 'अस्पताल सिस्टम से मिला बेयरर टोकन',
    tokenSave: 'टोकन लगाएँ',
    capped: 'केवल पहली {n} प्रविष्टियाँ दिखाई जा रही हैं: यह रिकॉर्ड इससे लंबा है।',
    withheld: 'यह पूरा रिकॉर्ड नहीं है: कुछ प्रविष्टियाँ इस स्वास्थ्य केंद्र को नहीं दिखाई गईं।',
    patient: 'मरीज़',
    age: 'आयु',
    years: '{n} वर्ष',
    months: '{n} महीने',
    born: 'जन्म {date}',
    gender: 'लिंग',
    male: 'पुरुष',
    female: 'महिला',
    other: 'अन्य',
    unknown: 'अज्ञात',
    abhaNumber: 'आभा नंबर',
    abhaAddress: 'आभा पता',
    facilities: 'रिकॉर्ड यहाँ हैं',
    timeline: 'समयरेखा',
    filters: 'फ़िल्टर',
    from: 'से',
    to: 'तक',
    clear: 'फ़िल्टर हटाएँ',
    noMatches: 'इन फ़िल्टर से कोई प्रविष्टि मेल नहीं खाती।',
    noEntries: 'अभी तक कोई विज़िट, बीमारी, दवा, जाँच, टीका, अपॉइंटमेंट या बिल दर्ज नहीं है।',
    shown: '{total} में से {shown} प्रविष्टियाँ',
    visits: 'विज़िट',
    medicines: 'दवाइयाँ',
    labs: 'जाँच रिपोर्ट',
    appointments: 'अपॉइंटमेंट',
    bills: 'बिल और दावे',
    conditions: 'बीमारियाँ और एलर्जी',
    immunizations: 'टीकाकरण',
    condition: 'बीमारी',
    allergy: 'एलर्जी',
    immunization: 'टीका',
    procedure: 'प्रक्रिया',
    clinicalStatus: 'नैदानिक स्थिति',
    severity: 'गंभीरता',
    criticality: 'जोखिम',
    reaction: 'प्रतिक्रिया',
    dose: 'खुराक संख्या',
    allergies: 'एलर्जी',
    activeConditions: 'ज्ञात बीमारियाँ',
    visit: 'विज़िट',
    medicine: 'दवा',
    lab: 'जाँच',
    report: 'जाँच रिपोर्ट',
    appointment: 'अपॉइंटमेंट',
    bill: 'बिल',
    claim: 'दावा',
    dispensed: 'दवा दी गई',
    facility: 'स्वास्थ्य केंद्र',
    doctor: 'डॉक्टर',
    dosage: 'खुराक',
    quantity: 'मात्रा',
    result: 'परिणाम',
    range: 'सामान्य सीमा',
    status: 'स्थिति',
    total: 'कुल',
    reason: 'कारण',
    kindOfVisit: 'प्रकार',
    abnormal: 'असामान्य',
    high: 'अधिक',
    low: 'कम',
    criticalHigh: 'अत्यधिक',
    criticalLow: 'अत्यंत कम',
    results: 'परिणाम',
    conclusion: 'निष्कर्ष',
    items: 'मदें',
  },
};

export const LANGUAGES = Object.keys(LABELS);
const STORAGE_KEY = 'record.lang';

let current = 'en';

/** Restore the saved choice; storage can be unavailable (private mode), so never throw. */
export function loadLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) current = saved;
  } catch {
    /* keep the default */
  }
  return current;
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : 'en';
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    /* the choice just won't survive a reload */
  }
}

export function language() {
  return current;
}

/** The label for key in the current language, with {name} placeholders filled in. */
export function t(key, values = {}) {
  const text = LABELS[current][key] ?? LABELS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** Locale for dates and numbers, e.g. Indian digit grouping in both languages. */
export function locale() {
  return current === 'hi' ? 'hi-IN' : 'en-IN';
}
