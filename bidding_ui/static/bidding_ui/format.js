// The platform's one money and time formatter in the browser (docs/ui.md, "Money and times"); the
// same rules as bidding_ui/templatetags/ui.py (`format_money`, `format_when`), checked against the
// same cases (tests/bidding_ui/js/format_cases.json) by tests/bidding_ui/test_format_cases.py.
//
// Money is formatted from the decimal string, never through a float: rounded half up (away from
// zero) to two decimals with BigInt arithmetic, grouped by thousands with ",".
// Times are shown in the platform's time zone (the server's settings.TIME_ZONE, body[data-time-zone],
// China Standard Time by default), whatever the browser's zone.

export const PLATFORM_TIME_ZONE = "Asia/Shanghai";
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function isChinese(lang) {
  return String(lang || "").toLowerCase().startsWith("zh");
}

function pageLanguage() {
  const doc = globalThis.document;
  return (doc && (doc.documentElement.lang || (doc.body && doc.body.dataset.language))) || "zh-hans";
}

export function platformTimeZone() {
  const doc = globalThis.document;
  return (doc && doc.body && doc.body.dataset.timeZone) || PLATFORM_TIME_ZONE;
}

// "1234567.891" -> {negative, whole: "1234567", cents: "89"} rounded half up; null if not a plain decimal.
export function roundDecimal(value) {
  if (value === null || value === undefined || typeof value === "boolean") return null;
  const m = DECIMAL.exec(String(value).trim());
  if (!m || (!m[2] && !m[3])) return null;
  const fraction = m[3] || "";
  let cents = BigInt((m[2] || "0") + (fraction + "00").slice(0, 2));
  if (fraction.length > 2 && fraction.charCodeAt(2) >= 53) cents += 1n; // third decimal >= 5: half up
  const digits = cents.toString().padStart(3, "0");
  return { negative: m[1] === "-" && cents !== 0n, whole: digits.slice(0, -2), cents: digits.slice(-2) };
}

// "1,234,567.89 元" (Chinese) / "¥1,234,567.89" (English); other currencies "USD 1,234.00"; "" if invalid.
export function formatMoney(value, { currency = "CNY", lang = pageLanguage() } = {}) {
  const r = roundDecimal(value);
  if (!r) return "";
  const digits = `${r.whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${r.cents}`;
  const sign = r.negative ? "-" : "";
  const code = String(currency || "CNY").toUpperCase();
  if (code !== "CNY") return `${sign}${code} ${digits}`;
  return isChinese(lang) ? `${sign}${digits} 元` : `${sign}¥${digits}`;
}

const wallClocks = new Map();

// The wall clock of `date` in `timeZone`: {year, month, day, hour, minute, second} as numbers.
function wallClock(date, timeZone) {
  let format = wallClocks.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    wallClocks.set(timeZone, format);
  }
  const out = {};
  for (const part of format.formatToParts(date)) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  return out;
}

const pad = (n) => String(n).padStart(2, "0");

// An ISO 8601 instant ("2026-05-01T01:30:00Z", "...+08:00") in the platform's zone:
//   minutes  2026年5月1日 09:30     / 1 May 2026, 09:30
//   seconds  2026年5月1日 09:30:05  / 1 May 2026, 09:30:05
//   date     2026年5月1日           / 1 May 2026
//   time     09:30:05 (both)
// "" for anything that is not an instant with a zone (a bare local time would mean the browser's zone).
export function formatWhen(iso, { precision = "minutes", lang = pageLanguage(), timeZone = platformTimeZone() } = {}) {
  if (typeof iso !== "string" || !/(Z|[+-]\d\d:?\d\d)$/i.test(iso.trim())) return "";
  const date = new Date(iso.trim());
  if (Number.isNaN(date.getTime())) return "";
  const t = wallClock(date, timeZone);
  const hm = `${pad(t.hour)}:${pad(t.minute)}`;
  const hms = `${hm}:${pad(t.second)}`;
  if (precision === "time") return hms;
  const zh = isChinese(lang);
  const day = zh ? `${t.year}年${t.month}月${t.day}日` : `${t.day} ${MONTHS[t.month - 1]} ${t.year}`;
  if (precision === "date") return day;
  const clock = precision === "seconds" ? hms : hm;
  return zh ? `${day} ${clock}` : `${day}, ${clock}`;
}
