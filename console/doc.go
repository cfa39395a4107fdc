// Package console is the analyst's console (SPEC.md section 1, "analysts";
// section 6): a JSON API that answers "who is behind on what, and since
// when", an interactive page over it, and CSV/XLSX exports of what the page
// shows.
//
// # Routes
//
// Routes returns them (method, path, handler, and the parameters that
// name regions, for the scope check); the application registers every
// route of the product in one place:
//
//	GET /api/ranking               one indicator over the children of a region, the
//	                               units of one level below it, or its departments
//	GET /api/composite             the composite score (综合指数) over the same units
//	GET /api/units/:region         one unit (region, or region + dept) across all indicators
//	GET /api/trend                 one indicator of one unit over time
//	GET /api/regions/:code         name, level, ancestors (breadcrumb) and children
//	GET /api/targets               the indicator catalog with the rules of each level
//	GET /api/indicators            live values as they are (compute's JSON), one region
//	                               (and below), paged with a cursor
//	GET /api/view                  the page's whole view (what it fetches when it navigates)
//	GET /api/export/ranking.csv    the ranking view (or the composite view with
//	GET /api/export/ranking.xlsx   indicator=composite) as a file with Chinese headers
//	GET /api/openapi.json          the OpenAPI 3.1 description of all of these
//	GET /console                   the page
//	GET /console/ranking-chart     a bare go-echarts ranking chart of live values
//	GET /console/console.js, console.css, ranking-chart.js
//
// # The server decides, the browser paints
//
// Every rule lives here, in Go: ranking (package ranking), status and
// tiers (package scoring), number and change formatting, which way a
// change is good news, the colour of a tier, the compare list's bound.
// Answers carry the texts they are shown with (value_text, status_text,
// rank_text, tone …, in the language of lang) and their charts as ECharts
// options composed with go-echarts (chart). console.js keeps the view's
// state in the URL, fetches /api/view and paints: echarts.init and
// setOption, and tables from the rows as they come.
//
// The pages hold no inline script, so Content-Security-Policy: script-src
// 'self' works: data travels in <script type="application/json">
// elements, encoded by encoding/json (which escapes <, > and &, so no
// value, say a department code "</script><script>…" from the push
// intake, can end the element), and code comes from the script URLs.
//
// # Time semantics
//
// Every value is the value "for period P as of t" of SPEC.md section 4: the
// period of kind P that contains t, from its start up to t.
//
//   - as_of absent: t is the live engine's clock, and the values are the
//     engine's live values (what the wall screens show now).
//   - as_of present (YYYY-MM-DD = the end of that day in the business time
//     zone, i.e. 23:59:59.999999999; or RFC 3339 with an offset): the values
//     are read from the history store, the last recorded point of each
//     series at or before t (store.AsOf). A point recorded in an earlier
//     period than the one containing t says nothing about the period of t,
//     so it counts as no data (null), not as the current value.
//   - 环比 (previous period) compares with the same instant of the previous
//     period: t moved back one period keeping its position in the period
//     (month-to-date on 23 November against month-to-date on 23 October at
//     the same clock time; a day that the shorter month lacks clamps to its
//     last day: 31 March → 28 February). Weeks move back 7 days, days 1 day,
//     quarters 3 months, years 1 year.
//   - 同比 (same period last year) compares with the same instant one year
//     earlier (29 February → 28 February), except weeks, which move back 52
//     weeks (364 days) so that the week and its weekday stay aligned.
//   - Both comparison values always come from the history store, whether the
//     current value is live or not. For a live view the comparison instants
//     are taken from the start of the live clock's minute, so that the
//     views of one minute share them (and the console's cache of past
//     reads); the history there has hourly resolution anyway. Each is reported with its own instant,
//     numerator and denominator, and change = value − previous value in the
//     indicator's unit (a fraction for rates: 0.012 is 1.2 percentage
//     points). A change is null when either side is null.
//   - Catalog indicators (事项目录; no period) describe the newest catalog:
//     their value at an instant is the last catalog snapshot recorded at or
//     before it, and 环比/同比 compare with the snapshots at the same two
//     instants as the periodic indicators, so every row of a unit's table
//     compares the same two moments.
//
// # Correctness
//
// Every value, every ranking and every composite score is computed from
// numerators and denominators (package ranking compares fractions exactly;
// scoring.Composite takes counts). A region's value is the engine's roll-up,
// a sum of the counts below it, never an average of its children's rates.
package console
