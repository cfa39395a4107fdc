#!/usr/bin/env node
// Compare two SPEC.md section 7 documents the way the sample's README asks:
// the same set of (indicator, region, dept), equal numerators and denominators,
// values within 1e-9 (null only against null).
//
//   node scripts/duckdb/compare.mjs EXPECTED.json ACTUAL.json [--max 20] [--quiet]
//
// Exit 0 when equal, 1 when they differ (the first --max differences are printed,
// with a count per indicator), 2 on unreadable input.
import fs from 'node:fs';

const args = process.argv.slice(2);
let max = 20;
let quiet = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max') max = Number(args[++i]);
  else if (args[i] === '--quiet') quiet = true;
  else files.push(args[i]);
}
if (files.length !== 2) {
  process.stderr.write('usage: compare.mjs EXPECTED.json ACTUAL.json [--max N] [--quiet]\n');
  process.exit(2);
}

function load(f) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch (e) {
    process.stderr.write(`compare: ${f}: ${e.message}\n`);
    process.exit(2);
  }
  if (!doc || !Array.isArray(doc.results)) {
    process.stderr.write(`compare: ${f}: no "results" array\n`);
    process.exit(2);
  }
  const m = new Map();
  let dup = 0;
  for (const r of doc.results) {
    const k = `${r.indicator}\t${r.region}\t${r.dept ?? ''}`;
    if (m.has(k)) dup++;
    m.set(k, r);
  }
  return { doc, m, dup };
}

const A = load(files[0]);
const B = load(files[1]);
const diffs = [];
const perInd = new Map();
const note = (k, msg) => {
  diffs.push(`${k.replaceAll('\t', ' / ')}: ${msg}`);
  const ind = k.split('\t')[0];
  perInd.set(ind, (perInd.get(ind) || 0) + 1);
};
const show = (r) => (r ? `${r.numerator}/${r.denominator} = ${r.value}` : 'absent');

if (A.doc.as_of !== B.doc.as_of) diffs.push(`as_of: ${A.doc.as_of} vs ${B.doc.as_of}`);
if (A.doc.period !== B.doc.period) diffs.push(`period: ${A.doc.period} vs ${B.doc.period}`);
if (A.dup) diffs.push(`${files[0]}: ${A.dup} duplicate keys`);
if (B.dup) diffs.push(`${files[1]}: ${B.dup} duplicate keys`);
for (const [k, a] of A.m) {
  const b = B.m.get(k);
  if (!b) { note(k, `missing (expected ${show(a)})`); continue; }
  const valOk = (a.value === null && b.value === null) ||
    (a.value !== null && b.value !== null && Math.abs(a.value - b.value) <= 1e-9);
  if (a.numerator !== b.numerator || a.denominator !== b.denominator || !valOk) {
    note(k, `expected ${show(a)}, got ${show(b)}`);
  }
}
for (const [k, b] of B.m) if (!A.m.has(k)) note(k, `unexpected ${show(b)}`);

if (diffs.length === 0) {
  if (!quiet) process.stdout.write(`equal: ${A.m.size} results\n`);
  process.exit(0);
}
process.stdout.write(`DIFFERENT: ${diffs.length} differences (${A.m.size} vs ${B.m.size} results)\n`);
for (const [ind, n] of [...perInd].sort()) process.stdout.write(`  ${ind}: ${n}\n`);
for (const d of diffs.slice(0, max)) process.stdout.write(`  ${d}\n`);
process.exit(1);
