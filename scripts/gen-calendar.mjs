#!/usr/bin/env node
// gen-calendar.mjs regenerates calendar/cn.json, the official holidays and
// make-up workdays embedded by package calendar, from the npm package
// chinese-days. It also copies the package's own iCalendar feed to
// calendar/testdata/chinese-days.ics, which the tests parse with ParseICS and
// compare against cn.json.
//
// Usage (from the repository root):
//
//	node scripts/gen-calendar.mjs                       # npm-installs the newest chinese-days 1.5.x into a temp dir
//	node scripts/gen-calendar.mjs --spec chinese-days@1.6.0
//	node scripts/gen-calendar.mjs --pkg DIR             # use an unpacked chinese-days at DIR (offline)
//
// Take the newest release when the State Council publishes a new year's
// arrangement (usually in November); the package adds it within days.
//
// Output: {"source":"chinese-days@VERSION","holidays":[...],"workdays":[...]}
// with sorted "YYYY-MM-DD" dates, one per line so that updates diff well.
//   - holidays: the official rest days of every public holiday (放假), from the
//     package's "holidays" map. It includes days that fall on a weekend
//     (harmless: weekends are rest days anyway) and the weekdays taken in lieu
//     (the package lists those again under "inLieuDays", a subset of holidays).
//   - workdays: the official make-up working days (调休上班), all on weekends.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'calendar', 'cn.json')
const icsOut = join(root, 'calendar', 'testdata', 'chinese-days.ics')

let spec = 'chinese-days@1.5'
let pkg = null
let tmp = null
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--pkg' && args[i + 1]) pkg = args[i + 1]
  else if (args[i] === '--spec' && args[i + 1]) spec = args[i + 1]
  else {
    console.error('usage: node scripts/gen-calendar.mjs [--spec chinese-days@VERSION | --pkg DIR]')
    process.exit(2)
  }
}
try {
  if (pkg === null) {
    tmp = mkdtempSync(join(tmpdir(), 'gen-calendar-'))
    console.error(`installing ${spec} into ${tmp}`)
    execFileSync('npm', ['install', '--prefix', tmp, '--no-save', '--no-audit', '--no-fund',
      '--ignore-scripts', spec], { stdio: ['ignore', 'ignore', 'inherit'] })
    pkg = join(tmp, 'node_modules', 'chinese-days')
  }
  const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'))
  const data = JSON.parse(readFileSync(join(pkg, 'dist', 'chinese-days.json'), 'utf8'))

  const isDate = (s) => /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s) &&
    new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) === s
  const weekday = (s) => new Date(s + 'T00:00:00Z').getUTCDay()
  const holidays = Object.keys(data.holidays).sort()
  const workdays = Object.keys(data.workdays).sort()
  for (const d of [...holidays, ...workdays]) {
    if (!isDate(d)) throw new Error(`chinese-days: bad date ${JSON.stringify(d)}`)
  }
  for (const d of workdays) {
    if (data.holidays[d] !== undefined) throw new Error(`chinese-days: ${d} is both a holiday and a workday`)
    // A make-up workday on a weekday would be a no-op; one would mean the
    // package changed its meaning, so stop and look.
    if (weekday(d) !== 0 && weekday(d) !== 6) throw new Error(`chinese-days: workday ${d} is not on a weekend`)
  }
  for (const d of Object.keys(data.inLieuDays ?? {})) {
    if (data.holidays[d] === undefined) throw new Error(`chinese-days: in-lieu day ${d} is not a holiday`)
  }

  const source = `chinese-days@${meta.version}`
  const list = (a) => '[\n' + a.map((d) => `    "${d}"`).join(',\n') + '\n  ]'
  writeFileSync(out, `{\n  "source": "${source}",\n  "holidays": ${list(holidays)},\n  "workdays": ${list(workdays)}\n}\n`)
  copyFileSync(join(pkg, 'dist', 'holidays.ics'), icsOut)
  const years = [...holidays, ...workdays].map((d) => d.slice(0, 4)).sort()
  console.error(`wrote ${out}: ${source}, years ${years[0]}..${years[years.length - 1]}, ` +
    `${holidays.length} holidays, ${workdays.length} workdays; copied ${icsOut}`)
} finally {
  if (tmp !== null) rmSync(tmp, { recursive: true, force: true })
}
