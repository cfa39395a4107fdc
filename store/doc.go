// Package store is the storage contract for indicator history: every
// indicator value Yiping computes becomes a point of a time series, so
// leaders can compare with yesterday and last year (环比, 同比), analysts can
// rank units as of any day and screens can replay what they showed.
//
// # Contract
//
// A Point is (indicator, region, dept, period, time, numerator,
// denominator); its value is derived (Point.Value): the numerator for a
// count, numerator/denominator for a rate, and null — never 0 or NaN — for a
// rate whose denominator is 0. A series is identified by SeriesKey; a point
// by its series and time, and writing the same series and time again
// replaces the point (so replays are idempotent in every store).
//
// Store has four operations besides Flush and Close:
//
//   - Write: batches of points, all or nothing; never waits for a network.
//   - Latest(Selector): the newest point of one indicator for a list of
//     regions (× departments): rankings. The store does not know the region
//     hierarchy; the caller passes the children of a region, which keeps the
//     hierarchy (GB/T 2260, with its yearly changes) in one place and lets a
//     ranking span any set of units.
//   - Series(key, from, to, rollup): a trend; a rollup to hour, day or
//     month (in the business time zone) keeps the last point of each bucket,
//     because an indicator value is a level, not a flow.
//   - AsOf(Selector, t): the newest point at or before t: replay.
//
// The suite in store/storetest is the contract's executable form; both
// implementations pass it.
//
// # Implementations
//
// store/embedded is the default: Pebble (CockroachDB's LSM key-value
// engine) in a data directory, no server. Why Pebble: indicator history is
// append-mostly writes of small values, range scans by (series, time) and
// deletions by age — the workload an LSM tree is built for. Pebble gives a
// write-ahead log with group commit and crash recovery that tolerates a torn
// tail, atomic batches, sorted iteration, block compression (zstd, with a
// columnar block format whose prefix compression takes the shared
// series-id-and-time bytes of consecutive keys away), and background
// compaction that drops deleted points; it is pure Go apart from optional
// zstd, and has years of production use under CockroachDB. bbolt (a B+tree)
// was the alternative: simpler, but no compression (about 4x the bytes per
// point), copy-on-write pages that rewrite a page per series touched per
// commit, and a single writer that must fsync every transaction. SQLite
// (modernc.org/sqlite) adds a SQL layer the queries do not need and stores
// 30+ bytes per row. Prometheus' tsdb package compresses best but stores
// float samples of label sets, not (numerator, denominator) pairs with a
// null, and brings a large dependency tree.
//
// Layout: p<series id uint32><time uint64> → flag byte, zigzag varint
// numerator (or 8-byte float when not integral), uvarint denominator: 2 to
// 6 bytes of value for a count or a rate; 8 to 12 bytes per point on disk
// after compaction. A dictionary s<series key> → id, and in memory, the
// latest point of every series indexed by (indicator, dept, period) and
// region, so Latest over the 1,403 townships of Gansu is 1,403 map
// look-ups, independent of history. A day index r<id><day> → the last point
// of each past day, written when a series moves into a new day (one entry
// per series per day, in the same batch), so a one-year daily or monthly
// trend reads about 366 entries however dense the points are; the newest
// day's last point is the in-memory latest. Durability: every batch goes to the
// write-ahead log without waiting for fsync, and a background fsync runs
// every second, so a process crash (kill -9) loses only what Pebble had not
// yet handed to the kernel (a few milliseconds), a power cut at most the
// last second; both recover without corruption (TestCrashKill9). Retention:
// points older than RawRetention (30 days) are thinned to the last of each
// hour, older than HourlyRetention (400 days, so "the same day last year"
// replays hourly) to the last of each day, older than DailyRetention (5
// years) to the last of each month, kept for ever. A rollup is the last
// point of a bucket, so the points that remain are exactly the rollups and
// every query works unchanged on thinned history, at the resolution kept.
//
// A full disk: Pebble does not survive a write that finds no space (a
// failed log write panics and locks its commit pipeline; a failed flush is
// retried without end), so the embedded store refuses writes, wrapping
// ErrUnavailable, while less than MinFreeBytes (64 MiB) is free, takes them
// again once space is freed, and fails Open at once below it.
//
// store/influx writes to InfluxDB (2.x, or 1.8 with Flux enabled) through
// influxdb-client-go/v2, with an on-disk spool for outages; see its package
// documentation for how nothing is lost and nothing is written twice.
// store/backend opens the one that YIPING_STORE names.
//
// Departments are any string a record carried: the embedded store keeps
// them as they are, store/influx writes the ones a tag cannot hold
// verbatim in an escaped form (see deptTag). Health (Healthy) tells a
// readiness check whether a write would be stored now; both
// implementations have it.
//
// # Write policy
//
// Writer wraps a Store for the collectors: a collection cycle computes
// every value, and Writer forwards only the points whose numerator or
// denominator changed since the last point written for the series, plus an
// unchanged point whenever the series has not been written for
// SnapshotEvery (1 h): a rolling full snapshot. History then holds every
// change and nothing else, and the newest point of every live series is at
// most SnapshotEvery old, so Latest and AsOf can look back a bounded window
// (InfluxDB's LatestLookback) instead of all history.
package store
