/**
 * Times: the API speaks UTC ISO 8601; people read Asia/Shanghai (UTC+8, no daylight saving), whatever
 * time zone the phone is set to.
 */
const OFFSET_MS = 8 * 3600 * 1000;
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

function pad(n) {
  return n < 10 ? `0${n}` : `${n}`;
}

function parse(value) {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  if (!value) return null;
  // A bare date or a datetime without offset from the API is UTC.
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) || value.length <= 10 ? value : `${value}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** Wall-clock parts in Shanghai. */
function parts(value) {
  const date = parse(value);
  if (!date) return null;
  const s = new Date(date.getTime() + OFFSET_MS);
  return {
    year: s.getUTCFullYear(), month: s.getUTCMonth() + 1, day: s.getUTCDate(),
    hour: s.getUTCHours(), minute: s.getUTCMinutes(), weekday: s.getUTCDay(),
  };
}

function date(value) {
  const p = parts(value);
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)}` : '';
}

function hm(value) {
  const p = parts(value);
  return p ? `${pad(p.hour)}:${pad(p.minute)}` : '';
}

function dateTime(value) {
  const p = parts(value);
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}` : '';
}

/** "11月22日 周日" */
function dayLabel(isoDate) {
  const p = parts(`${isoDate}T00:00:00+08:00`);
  return p ? `${p.month}月${p.day}日 ${WEEKDAYS[p.weekday]}` : '';
}

/** Today's date in Shanghai, YYYY-MM-DD. */
function today(now) {
  return date(now || Date.now());
}

function shiftDay(isoDate, days) {
  const base = parse(`${isoDate}T00:00:00+08:00`);
  return date(base.getTime() + days * 86400000);
}

/** A Shanghai wall-clock date and time ("2026-11-22", "11:30") as a UTC ISO string for the API. */
function toIso(isoDate, hhmm) {
  const ms = Date.parse(`${isoDate}T${hhmm}:00+08:00`);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function hoursBetween(from, to) {
  return (parse(to).getTime() - parse(from).getTime()) / 3600000;
}

module.exports = { parse, parts, date, hm, dateTime, dayLabel, today, shiftDay, toIso, hoursBetween, pad };
