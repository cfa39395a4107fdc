// Package report raises special reports (特别呈报, SPEC.md §8): rules read
// from a YAML file judge the engine's values, the collectors' health and
// the hotline surge detector; a condition that holds long enough becomes a
// report that screens and phones list and that receivers are notified of,
// and it lives the lifecycle of Alertmanager plus what it lacks:
//
//	          condition holds             "for" passed
//	(none) ───────────────────▶ pending ─────────────▶ firing ──ack──▶ acknowledged
//	            condition ends ▲   │                      │                  │
//	            (forgotten) ◀──────┘                      └── condition ends ─┴──▶ resolved
//
// firing: notified to the receivers of its region's level, again every
// repeat interval, and up the escalation ladder (county → city →
// province, by region ancestry) while nobody acknowledges; acknowledged
// (by a named person, with a comment): no more repeats or escalation;
// resolved: every level that was told hears "resolved" once. Silences
// (matchers on rule, region and below, severity; start, end, creator,
// comment) mute notifications and hide reports from the lists; quiet
// hours (named ranges in the business time zone, working-day aware) hold
// notifications until they end, unless the report resolved meanwhile,
// while screens still show the report. docs/SPECIAL-REPORTS.md
// describes the rules file and the lifecycle for administrators.
//
// # Edges
//
// The package imports neither the hub, the history store, the collectors'
// runner nor the notify and trend packages: the app backs small
// interfaces (edges.go): Values and Sources and Surges make the Input of
// an evaluation, Past serves drop rules, Sender delivers a Notification,
// Publisher pushes a Board to live.ReportTopic(region).
//
// # Evaluation
//
// The app calls Manager.Evaluate after each feed cycle and on a slow tick.
// Rules are indexed by indicator and period and the values last judged are
// kept, so a cycle judges again only what changed (a bottom rule ranks a
// parent's units again when one of them changed); health and surges are
// judged whole, they are few. Findings are keyed by rule, region and
// subject (a surge's category, a silent source): one alert per key.
//
// # Persistence
//
// Alerts, their transitions, acknowledgements, silences and the
// notification log live in the access database (SQLite or PostgreSQL,
// component "report" of access.SQLStore.Migrate). Every change is
// committed in one transaction before anything depends on it: a
// notification is written as due (or held), marked sending before Send and
// sent after, so a restart neither sends a sent notification again nor
// forgets a due one or an acknowledgement, and escalation goes on from the
// times stored. A crash inside Send sends that notification again with the
// same ID (at least once); receivers may drop an ID they have seen.
package report
