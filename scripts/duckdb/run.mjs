#!/usr/bin/env node
// DuckDB peer of `yiping compute` (SPEC.md section 7).
//
//   node scripts/duckdb/run.mjs --data DIR --as-of TIME --period P [--by dept]
//        [--threads N] [--tz Asia/Shanghai] [--rectify-days 3] [--encoding auto|utf-8|gbk]
//        [--sql FILE (another SQL file, for experiments)]
//
// Opens an in-memory DuckDB with one thread per core, runs indicators.sql on the
// CSV files of DIR (a missing file counts as an empty one) and prints the SPEC
// section 7 JSON document on stdout. Unreadable rows are reported on stderr as
// "file:line: reason"; exit status 0 when every row was read, 3 when some were
// skipped, 2 on bad arguments.
//
// Needs `npm ci` (or `npm install`) in scripts/duckdb: @duckdb/node-api, chinese-days.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const FILES = {
  cases: 'case_id,region_code,dept_code,item_code,channel,full_online,submitted_at,accepted_at,promised_days,closed_at,status',
  evaluations: 'eval_id,case_id,region_code,dept_code,channel,score,evaluated_at,rectified_at',
  tickets: 'ticket_id,region_code,unit_code,category,kind,channel,received_at,direct,assigned_at,deadline_days,closed_at,callback',
  calls: 'call_id,region_code,offered_at,answered,wait_seconds',
  items: 'item_code,region_code,dept_code,online_available,full_online,mobile_available,in_hall,visits,legal_days,promised_days',
};
const PERIODS = ['day', 'week', 'month', 'quarter', 'year'];

function usage(msg) {
  process.stderr.write(`run.mjs: ${msg}\nusage: node run.mjs --data DIR --as-of TIME --period day|week|month|quarter|year [--by dept] [--threads N] [--tz ZONE] [--rectify-days N] [--encoding auto|utf-8|gbk]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { byDept: false, threads: os.availableParallelism(), tz: 'Asia/Shanghai', rectifyDays: 3, encoding: 'auto' };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    const val = () => { if (v !== undefined) return v; if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--data': o.data = val(); break;
      case '--as-of': o.asOf = val(); break;
      case '--period': o.period = val(); break;
      case '--by': { const b = val(); if (b !== 'dept') usage(`--by ${b}: only "dept" is known`); o.byDept = true; break; }
      case '--threads': o.threads = Number(val()); break;
      case '--tz': o.tz = val(); break;
      case '--rectify-days': o.rectifyDays = Number(val()); break;
      case '--encoding': o.encoding = val(); break;
      case '--sql': o.sql = val(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!o.data) usage('--data is required');
  if (!o.asOf) usage('--as-of is required');
  if (!PERIODS.includes(o.period)) usage(`--period must be one of ${PERIODS.join(', ')}`);
  if (!fs.existsSync(o.data) || !fs.statSync(o.data).isDirectory()) usage(`--data ${o.data}: not a directory`);
  if (!Number.isInteger(o.threads) || o.threads < 1) usage('--threads must be a positive integer');
  if (!Number.isInteger(o.rectifyDays) || o.rectifyDays < 0) usage('--rectify-days must be a non-negative integer');
  if (!['auto', 'utf-8', 'gbk'].includes(o.encoding)) usage('--encoding must be auto, utf-8 or gbk');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})| \d{2}:\d{2}:\d{2})$/.test(o.asOf)) usage(`--as-of ${o.asOf}: not RFC 3339 with an offset nor "YYYY-MM-DD HH:MM:SS"`);
  return o;
}

// Is the start of the file UTF-8? (BOM or not; DuckDB skips a UTF-8 BOM.)
function looksUtf8(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    try { new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n), { stream: true }); return true; } catch { return false; }
  } finally { fs.closeSync(fd); }
}

// GBK (as Excel writes CSV in China) -> a UTF-8 temp copy that DuckDB can read.
function transcodeGbk(file, tmp) {
  const out = path.join(tmp, path.basename(file));
  const dec = new TextDecoder('gbk');
  const fdIn = fs.openSync(file, 'r');
  const fdOut = fs.openSync(out, 'w');
  const buf = Buffer.alloc(8 << 20);
  for (;;) {
    const n = fs.readSync(fdIn, buf, 0, buf.length, null);
    if (n === 0) break;
    fs.writeSync(fdOut, dec.decode(buf.subarray(0, n), { stream: true }));
  }
  fs.writeSync(fdOut, dec.decode());
  fs.closeSync(fdIn);
  fs.closeSync(fdOut);
  return out;
}

// The UTC offset of a zone that never changes it over the years the data can
// hold (1992-2100), in microseconds; null for a zone with DST or changes.
function fixedOffsetUs(tz) {
  let fmt;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
  } catch {
    usage(`--tz ${tz}: unknown time zone`);
  }
  const offsets = new Set();
  for (let y = 1992; y <= 2100; y++) {
    for (const m of [0, 3, 6, 9]) {
      offsets.add(fmt.formatToParts(new Date(Date.UTC(y, m, 15))).find((p) => p.type === 'timeZoneName').value);
    }
  }
  if (offsets.size !== 1) return null;
  const v = [...offsets][0]; // GMT, GMT+08:00, GMT-03:30
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(v);
  if (!m) return null;
  const minutes = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return minutes * 60 * 1_000_000;
}

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yiping-duckdb-'));
  try {
    const files = {};
    for (const [name, header] of Object.entries(FILES)) {
      let f = path.join(o.data, `${name}.csv`);
      if (!fs.existsSync(f)) {
        f = path.join(tmp, `${name}.csv`);
        fs.writeFileSync(f, header + '\n');
      } else if (o.encoding === 'gbk' || (o.encoding === 'auto' && !looksUtf8(f))) {
        f = transcodeGbk(f, tmp);
      }
      files[name] = f;
    }
    const calendar = require.resolve('chinese-days/dist/chinese-days.json');

    const db = await DuckDBInstance.create(':memory:', { threads: String(o.threads) });
    const con = await db.connect();
    const set = [
      `SET TimeZone = ${sqlString(o.tz)}`,
      `SET temp_directory = ${sqlString(path.join(tmp, 'spill'))}`,
      ...Object.entries(files).map(([k, f]) => `SET VARIABLE ${k}_file = ${sqlString(f)}`),
      `SET VARIABLE calendar_file = ${sqlString(calendar)}`,
      `SET VARIABLE as_of = ${sqlString(o.asOf)}`,
      `SET VARIABLE period = ${sqlString(o.period)}`,
      `SET VARIABLE by_dept = ${o.byDept}`,
      `SET VARIABLE rectify_days = ${o.rectifyDays}`,
      `SET VARIABLE fixed_offset_us = ${fixedOffsetUs(o.tz) ?? 'NULL'}::BIGINT`,
    ];
    for (const s of set) await con.run(s);
    const sql = fs.readFileSync(o.sql || path.join(here, 'indicators.sql'), 'utf8');
    const reader = await con.runAndReadAll(sql);
    const rows = reader.getRows();

    const parts = [];
    for (const [ind, region, dept, num, den, val] of rows) {
      parts.push(JSON.stringify({
        indicator: ind, region, dept,
        numerator: Number(num),
        denominator: den === null ? null : Number(den),
        value: val === null ? null : Number(val),
      }));
    }
    process.stdout.write(`{"as_of": ${JSON.stringify(o.asOf)}, "period": ${JSON.stringify(o.period)}, "results": [`);
    for (let i = 0; i < parts.length; i += 10000) {
      process.stdout.write((i ? ', ' : '') + parts.slice(i, i + 10000).join(', '));
    }
    process.stdout.write(']}\n');

    // rows that could not be read: file, line (header = line 1), reason
    const bad = (await con.runAndReadAll('SELECT file, line, reason FROM bad_rows ORDER BY file, line')).getRows();
    const shown = new Map();
    for (const [file, line, why] of bad) {
      const n = (shown.get(file) || 0) + 1;
      shown.set(file, n);
      if (n <= 1000) process.stderr.write(`${path.join(o.data, file)}:${line}: ${why}\n`);
    }
    for (const [file, n] of shown) if (n > 1000) process.stderr.write(`${path.join(o.data, file)}: ... ${n - 1000} more unreadable rows\n`);
    if (bad.length > 0) {
      process.stderr.write(`${bad.length} rows skipped\n`);
      process.exitCode = 3;
    }
    con.closeSync?.();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`run.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
