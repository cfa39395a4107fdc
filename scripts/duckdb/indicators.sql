-- SPEC.md section 5 indicators in DuckDB: the independent peer of `yiping compute`
-- (benchmark "compute" in docs/PERFORMANCE.md, cross-check in scripts/duckdb/check-sample).
-- Checked against the published sample: scripts/duckdb/check-sample.
--
-- Parameters (set by run.mjs with SET VARIABLE before this file runs):
--   cases_file, evaluations_file, tickets_file, calls_file, items_file   paths of the CSVs
--                         (run.mjs points a missing file to a header-only CSV)
--   calendar_file          chinese-days dist/chinese-days.json (holidays + make-up workdays)
--   as_of                  VARCHAR, a timestamp in one of the SPEC section 3 forms
--   period                 'day' | 'week' | 'month' | 'quarter' | 'year'
--   by_dept                BOOLEAN
--   rectify_days           INTEGER (default 3)
--   fixed_offset_us        BIGINT, the business zone's UTC offset when it never changes
--                          (Asia/Shanghai: 8 h); NULL: convert through ICU
-- The business time zone is the session TimeZone (run.mjs: Asia/Shanghai).
--
-- Representation: every timestamp is turned into the business zone's wall-clock
-- TIMESTAMP once, while loading. All comparisons (windows, deadlines, as_of) are
-- done on these local timestamps (exact for a zone without DST, as Asia/Shanghai).
-- The last statement returns the result rows; run.mjs writes the JSON document and
-- reports the rows of table bad_rows on stderr.

-- ---------------------------------------------------------------- value forms
-- RFC 3339 with an offset or Z (fraction optional), or "YYYY-MM-DD HH:MM:SS" in
-- the business zone; anything else (T without offset, slashes, bare date) is bad.
CREATE OR REPLACE MACRO ts_form_ok(s) AS
    regexp_full_match(s, '\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})| \d{2}:\d{2}:\d{2})');
-- local (business zone) wall-clock time; NULL when empty or unreadable
CREATE OR REPLACE MACRO lts(s) AS
    CASE WHEN ts_form_ok(s) THEN
        CASE WHEN s[11] = ' ' THEN try_cast(s AS TIMESTAMP)
             WHEN getvariable('fixed_offset_us') IS NOT NULL
                 THEN make_timestamp(epoch_us(try_cast(s AS TIMESTAMPTZ)) + getvariable('fixed_offset_us'))
             ELSE try_cast(s AS TIMESTAMPTZ)::TIMESTAMP END END;
-- booleans: 1/0, true/false, 是/否; NULL when empty (or unreadable)
CREATE OR REPLACE MACRO pbool(s) AS
    CASE lower(s) WHEN '1' THEN true WHEN 'true' THEN true WHEN '是' THEN true
                  WHEN '0' THEN false WHEN 'false' THEN false WHEN '否' THEN false END;
-- non-negative integers
CREATE OR REPLACE MACRO pint(s) AS CASE WHEN regexp_full_match(s, '\d{1,9}') THEN s::INTEGER END;
CREATE OR REPLACE MACRO region_ok(s) AS regexp_full_match(s, '\d{6}|\d{9}');
-- raw value present but parsed value missing
CREATE OR REPLACE MACRO unreadable(raw, parsed) AS raw IS NOT NULL AND parsed IS NULL;
-- in the window [start of the period containing as_of, as_of]
CREATE OR REPLACE MACRO in_win(x) AS x >= getvariable('p_start') AND x <= getvariable('t');

SET VARIABLE t = lts(getvariable('as_of'));
SET VARIABLE p_start = date_trunc(getvariable('period'), getvariable('t'));

CREATE OR REPLACE TEMP TABLE bad_rows (file VARCHAR, line BIGINT, reason VARCHAR);

-- ---------------------------------------------------------------- working days
-- A working day: Monday-Friday that is not an official holiday, or an official
-- make-up workday. widx = cumulative number of working days up to and including d,
-- so "the N-th working day strictly after d" is the working day with widx(d) + N.
CREATE OR REPLACE TEMP TABLE cal AS
WITH j AS (SELECT content::JSON AS j FROM read_text(getvariable('calendar_file'))),
     hol AS (SELECT unnest(json_keys(j -> 'holidays'))::DATE AS d FROM j),
     mkw AS (SELECT unnest(json_keys(j -> 'workdays'))::DATE AS d FROM j),
     days AS (SELECT range::DATE AS d FROM range(TIMESTAMP '1990-01-01', TIMESTAMP '2101-01-01', INTERVAL 1 DAY)),
     w AS (SELECT d, (d IN (SELECT d FROM mkw)) OR (isodow(d) <= 5 AND d NOT IN (SELECT d FROM hol)) AS work FROM days)
SELECT d, work, sum(work::INTEGER) OVER (ORDER BY d) AS widx FROM w;
CREATE OR REPLACE TEMP TABLE workday AS SELECT widx, d FROM cal WHERE work;

-- The deadline of n working days from a local time x (SPEC section 4) depends on
-- (x::DATE, n) only: dl(d, n) = start of the day after the n-th working day strictly
-- after d; n = 0: start of d + 1. It is computed once per distinct (d, n) of the data
-- (table deadlines, below) and joined back.

-- ---------------------------------------------------------------- regions
-- parent: township (9 digits) -> first 6 digits; county xxyyzz -> xxyy00;
-- city xxyy00 -> xx0000; province xx0000 -> none.
CREATE OR REPLACE MACRO region_parent(c) AS
    CASE WHEN length(c) = 9 THEN c[1:6]
         WHEN c[5:6] <> '00' THEN c[1:4] || '00'
         WHEN c[3:4] <> '00' THEN c[1:2] || '0000' END;
-- region_anc(code, anc): anc = the code itself and each of its ancestors, for
-- every code of src (a table with a region column).
CREATE OR REPLACE MACRO region_anc(src) AS TABLE
    WITH RECURSIVE a(code, anc) AS (
        SELECT DISTINCT region, region FROM query_table(src)
        UNION
        SELECT code, region_parent(anc) FROM a WHERE region_parent(anc) IS NOT NULL)
    SELECT code, anc FROM a;

-- ---------------------------------------------------------------- loading pattern
-- For every file: X_p = one row per CSV row, in file order (rowid = position in
-- the file: a CREATE TABLE AS over read_csv keeps insertion order as long as the
-- query only projects; it must hold no join, and DuckDB turns an IN list of
-- constants into a join that scrambles the order, so the checks use list_contains;
-- row_number() OVER () would also be ordered but runs on one thread), with the
-- parsed values and `bad`, the reason the row cannot be read (SPEC section 4: a
-- missing or unreadable required field; here also an unreadable optional value,
-- never guessed). Bad rows go to bad_rows (file line = rowid + 2, after the
-- header). X_u = the readable rows after the upsert: the last row of an id in
-- file order wins.

-- ================================================================ cases
CREATE OR REPLACE TEMP TABLE cases_p AS
SELECT id, region, dept, channel, fo, sub, acc, pd, clo, status,
       CASE WHEN id IS NULL THEN 'case_id missing'
            WHEN region IS NULL OR NOT region_ok(region) THEN 'bad region_code ' || coalesce(region, '(empty)')
            WHEN submitted_at IS NULL THEN 'submitted_at missing'
            WHEN sub IS NULL THEN 'bad submitted_at ' || submitted_at
            WHEN channel IS NULL OR NOT list_contains(['online', 'mobile', 'window', 'self_service'], channel) THEN 'bad channel ' || coalesce(channel, '(empty)')
            WHEN status IS NULL OR NOT list_contains(['submitted', 'accepted', 'closed', 'rejected', 'withdrawn'], status) THEN 'bad status ' || coalesce(status, '(empty)')
            WHEN pd IS NULL THEN 'bad promised_days ' || coalesce(promised_days, '(empty)')
            WHEN unreadable(full_online, fo) THEN 'bad full_online ' || full_online
            WHEN unreadable(accepted_at, acc) THEN 'bad accepted_at ' || accepted_at
            WHEN unreadable(closed_at, clo) THEN 'bad closed_at ' || closed_at
       END AS bad
FROM (SELECT case_id AS id, region_code AS region, coalesce(dept_code, '') AS dept, channel, status,
             full_online, pbool(full_online) AS fo,
             submitted_at, lts(submitted_at) AS sub,
             accepted_at, lts(accepted_at) AS acc,
             promised_days, pint(promised_days) AS pd,
             closed_at, lts(closed_at) AS clo
      FROM read_csv(getvariable('cases_file'), header = true, all_varchar = true, delim = ',', quote = '"', escape = '"'));
INSERT INTO bad_rows SELECT 'cases.csv', rowid + 2, bad FROM cases_p WHERE bad IS NOT NULL;
CREATE OR REPLACE TEMP TABLE cases_u AS
SELECT * EXCLUDE (id, bad) FROM cases_p
WHERE bad IS NULL AND rowid IN (SELECT max(rowid) FROM cases_p WHERE bad IS NULL GROUP BY id);
DROP TABLE cases_p;

-- the cases that exist at t and count (withdrawn left out everywhere);
-- on_time_rate / overdue_open subjects (dl_d set): accepted at or before t and
-- not rejected, deadline = promised_days working days from accepted_at.
CREATE OR REPLACE TEMP TABLE cases_c AS
SELECT region, dept, sub, channel, fo, clo,
       CASE WHEN acc <= getvariable('t') AND status <> 'rejected' THEN acc::DATE END AS dl_d,
       pd AS dl_n
FROM cases_u
WHERE status <> 'withdrawn' AND sub <= getvariable('t');

-- ================================================================ evaluations
CREATE OR REPLACE TEMP TABLE evals_p AS
SELECT id, region, dept, score, ev, rect,
       CASE WHEN id IS NULL THEN 'eval_id missing'
            WHEN region IS NULL OR NOT region_ok(region) THEN 'bad region_code ' || coalesce(region, '(empty)')
            WHEN evaluated_at IS NULL THEN 'evaluated_at missing'
            WHEN ev IS NULL THEN 'bad evaluated_at ' || evaluated_at
            WHEN score IS NULL OR score NOT BETWEEN 1 AND 5 THEN 'bad score ' || coalesce(score_raw, '(empty)')
            WHEN channel IS NOT NULL AND NOT list_contains(['online', 'mobile', 'window', 'self_service'], channel) THEN 'bad channel ' || channel
            WHEN unreadable(rectified_at, rect) THEN 'bad rectified_at ' || rectified_at
       END AS bad
FROM (SELECT eval_id AS id, region_code AS region, coalesce(dept_code, '') AS dept, channel,
             score AS score_raw, pint(score) AS score,
             evaluated_at, lts(evaluated_at) AS ev,
             rectified_at, lts(rectified_at) AS rect
      FROM read_csv(getvariable('evaluations_file'), header = true, all_varchar = true, delim = ',', quote = '"', escape = '"'));
INSERT INTO bad_rows SELECT 'evaluations.csv', rowid + 2, bad FROM evals_p WHERE bad IS NOT NULL;
CREATE OR REPLACE TEMP TABLE evals_u AS
SELECT * EXCLUDE (id, bad) FROM evals_p
WHERE bad IS NULL AND rowid IN (SELECT max(rowid) FROM evals_p WHERE bad IS NULL GROUP BY id);
DROP TABLE evals_p;

-- rectify_on_time_rate subjects: 差评 (score <= 2), deadline = rectify_days
-- working days from evaluated_at, closed by rectified_at.
CREATE OR REPLACE TEMP TABLE evals_e AS
SELECT region, dept, ev, score, rect AS clo,
       CASE WHEN score <= 2 THEN ev::DATE END AS dl_d,
       getvariable('rectify_days')::INTEGER AS dl_n
FROM evals_u
WHERE ev <= getvariable('t');

-- ================================================================ tickets
CREATE OR REPLACE TEMP TABLE tickets_p AS
SELECT id, region, dept, kind, rec, direct, asg, dd, clo, callback,
       CASE WHEN id IS NULL THEN 'ticket_id missing'
            WHEN region IS NULL OR NOT region_ok(region) THEN 'bad region_code ' || coalesce(region, '(empty)')
            WHEN received_at IS NULL THEN 'received_at missing'
            WHEN rec IS NULL THEN 'bad received_at ' || received_at
            WHEN kind IS NULL OR NOT list_contains(['consult', 'help', 'complaint', 'report', 'suggestion', 'praise'], kind) THEN 'bad kind ' || coalesce(kind, '(empty)')
            WHEN channel IS NULL OR NOT list_contains(['phone', 'web', 'wechat', 'app', 'message_board', 'other'], channel) THEN 'bad channel ' || coalesce(channel, '(empty)')
            WHEN callback IS NOT NULL AND NOT list_contains(['satisfied', 'basic', 'unsatisfied', 'unreachable'], callback) THEN 'bad callback ' || callback
            WHEN unreadable(direct_raw, direct) THEN 'bad direct ' || direct_raw
            WHEN unreadable(assigned_at, asg) THEN 'bad assigned_at ' || assigned_at
            WHEN unreadable(deadline_days, dd) THEN 'bad deadline_days ' || deadline_days
            WHEN unreadable(closed_at, clo) THEN 'bad closed_at ' || closed_at
       END AS bad
FROM (SELECT ticket_id AS id, region_code AS region, coalesce(unit_code, '') AS dept, kind, channel, callback,
             received_at, lts(received_at) AS rec,
             direct AS direct_raw, pbool(direct) AS direct,
             assigned_at, lts(assigned_at) AS asg,
             deadline_days, pint(deadline_days) AS dd,
             closed_at, lts(closed_at) AS clo
      FROM read_csv(getvariable('tickets_file'), header = true, all_varchar = true, delim = ',', quote = '"', escape = '"'));
INSERT INTO bad_rows SELECT 'tickets.csv', rowid + 2, bad FROM tickets_p WHERE bad IS NOT NULL;
CREATE OR REPLACE TEMP TABLE tickets_u AS
SELECT * EXCLUDE (id, bad) FROM tickets_p
WHERE bad IS NULL AND rowid IN (SELECT max(rowid) FROM tickets_p WHERE bad IS NULL GROUP BY id);
DROP TABLE tickets_p;

-- ticket_on_time_rate subjects: not direct, assigned at or before t; deadline =
-- deadline_days (empty: the default of the kind) working days from assigned_at.
CREATE OR REPLACE TEMP TABLE tickets_tk AS
WITH k(kind, days) AS (VALUES ('consult', 1), ('help', 3), ('complaint', 5), ('report', 5), ('suggestion', 10), ('praise', 1))
SELECT t.region, t.dept, t.rec, t.direct, t.clo, t.callback,
       CASE WHEN NOT coalesce(t.direct, false) AND t.asg <= getvariable('t') THEN t.asg::DATE END AS dl_d,
       coalesce(t.dd, k.days) AS dl_n
FROM tickets_u t JOIN k USING (kind)
WHERE t.rec <= getvariable('t');

-- ================================================================ calls
CREATE OR REPLACE TEMP TABLE calls_p AS
SELECT id, region, '' AS dept, off, answered, wait,
       CASE WHEN id IS NULL THEN 'call_id missing'
            WHEN region IS NULL OR NOT region_ok(region) THEN 'bad region_code ' || coalesce(region, '(empty)')
            WHEN offered_at IS NULL THEN 'offered_at missing'
            WHEN off IS NULL THEN 'bad offered_at ' || offered_at
            WHEN unreadable(answered_raw, answered) THEN 'bad answered ' || answered_raw
            WHEN unreadable(wait_seconds, wait) THEN 'bad wait_seconds ' || wait_seconds
       END AS bad
FROM (SELECT call_id AS id, region_code AS region,
             offered_at, lts(offered_at) AS off,
             answered AS answered_raw, pbool(answered) AS answered,
             wait_seconds, pint(wait_seconds) AS wait
      FROM read_csv(getvariable('calls_file'), header = true, all_varchar = true, delim = ',', quote = '"', escape = '"'));
INSERT INTO bad_rows SELECT 'calls.csv', rowid + 2, bad FROM calls_p WHERE bad IS NOT NULL;
CREATE OR REPLACE TEMP TABLE calls_u AS
SELECT * EXCLUDE (id, bad) FROM calls_p
WHERE bad IS NULL AND rowid IN (SELECT max(rowid) FROM calls_p WHERE bad IS NULL GROUP BY id);
DROP TABLE calls_p;

-- ================================================================ items (the catalog, no period)
CREATE OR REPLACE TEMP TABLE items_p AS
SELECT id, region, dept, oa, fo, ma, ih, visits, legal, promised,
       CASE WHEN id IS NULL THEN 'item_code missing'
            WHEN region IS NULL OR NOT region_ok(region) THEN 'bad region_code ' || coalesce(region, '(empty)')
            WHEN visits IS NULL THEN 'bad visits ' || coalesce(visits_raw, '(empty)')
            WHEN unreadable(online_available, oa) THEN 'bad online_available ' || online_available
            WHEN unreadable(full_online, fo) THEN 'bad full_online ' || full_online
            WHEN unreadable(mobile_available, ma) THEN 'bad mobile_available ' || mobile_available
            WHEN unreadable(in_hall, ih) THEN 'bad in_hall ' || in_hall
            WHEN unreadable(legal_days, legal) THEN 'bad legal_days ' || legal_days
            WHEN unreadable(promised_days, promised) THEN 'bad promised_days ' || promised_days
       END AS bad
FROM (SELECT item_code AS id, region_code AS region, coalesce(dept_code, '') AS dept,
             online_available, pbool(online_available) AS oa,
             full_online, pbool(full_online) AS fo,
             mobile_available, pbool(mobile_available) AS ma,
             in_hall, pbool(in_hall) AS ih,
             visits AS visits_raw, pint(visits) AS visits,
             legal_days, pint(legal_days) AS legal,
             promised_days, pint(promised_days) AS promised
      FROM read_csv(getvariable('items_file'), header = true, all_varchar = true, delim = ',', quote = '"', escape = '"'));
INSERT INTO bad_rows SELECT 'items.csv', rowid + 2, bad FROM items_p WHERE bad IS NOT NULL;
CREATE OR REPLACE TEMP TABLE items_u AS
SELECT * EXCLUDE (id, bad) FROM items_p
WHERE bad IS NULL AND rowid IN (SELECT max(rowid) FROM items_p WHERE bad IS NULL GROUP BY id);
DROP TABLE items_p;

-- ================================================================ deadlines and settling
CREATE OR REPLACE TEMP TABLE deadlines AS
WITH k AS (SELECT DISTINCT dl_d AS d, dl_n AS n FROM cases_c WHERE dl_d IS NOT NULL
           UNION SELECT DISTINCT dl_d, dl_n FROM evals_e WHERE dl_d IS NOT NULL
           UNION SELECT DISTINCT dl_d, dl_n FROM tickets_tk WHERE dl_d IS NOT NULL)
SELECT k.d, k.n, (CASE WHEN k.n = 0 THEN k.d + 1 ELSE w.d + 1 END)::TIMESTAMP AS deadline
FROM k JOIN cal c ON c.d = k.d LEFT JOIN workday w ON w.widx = c.widx + k.n;

-- settle (SPEC section 5, on_time_rate): a subject (dl_d set) settles at its close
-- if it closed at or before t, else at its deadline if the deadline <= t, else not
-- yet. On time: closed_at < deadline.
CREATE OR REPLACE MACRO settled(src) AS TABLE
    SELECT s.*, d.deadline,
           (s.clo IS NOT NULL AND s.clo <= getvariable('t')) AS closed,
           CASE WHEN s.dl_d IS NULL THEN NULL
                WHEN s.clo <= getvariable('t') THEN s.clo
                WHEN d.deadline <= getvariable('t') THEN d.deadline END AS settle
    FROM query_table(src) s LEFT JOIN deadlines d ON d.d = s.dl_d AND d.n = s.dl_n;

-- per (leaf region, dept) sums
CREATE OR REPLACE TEMP TABLE cases_f AS
SELECT region, dept,
       count(*) FILTER (WHERE in_win(sub)) AS case_volume,
       count(*) FILTER (WHERE in_win(sub) AND channel IN ('online', 'mobile')) AS online_n,
       count(*) FILTER (WHERE in_win(sub) AND fo) AS full_online_n,
       count(*) FILTER (WHERE in_win(sub) AND channel = 'mobile') AS mobile_n,
       count(*) FILTER (WHERE in_win(settle)) AS settled,
       count(*) FILTER (WHERE in_win(settle) AND closed AND clo < deadline) AS settled_on_time,
       -- open at t (no closed_at <= t, whatever the status) with deadline <= t, any submit time
       count(*) FILTER (WHERE dl_d IS NOT NULL AND NOT closed AND deadline <= getvariable('t')) AS overdue_open
FROM settled('cases_c') GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE evals_f AS
SELECT region, dept,
       count(*) FILTER (WHERE in_win(ev)) AS eval_count,
       count(*) FILTER (WHERE in_win(ev) AND score >= 3) AS satisfied_n,
       count(*) FILTER (WHERE in_win(ev) AND score <= 2) AS bad_review_count,
       count(*) FILTER (WHERE in_win(settle)) AS settled,
       count(*) FILTER (WHERE in_win(settle) AND closed AND clo < deadline) AS settled_on_time
FROM settled('evals_e') GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE tickets_f AS
SELECT region, dept,
       count(*) FILTER (WHERE in_win(rec)) AS ticket_volume,
       count(*) FILTER (WHERE in_win(rec) AND direct) AS direct_n,
       count(*) FILTER (WHERE in_win(settle)) AS settled,
       count(*) FILTER (WHERE in_win(settle) AND closed AND clo < deadline) AS settled_on_time,
       count(*) FILTER (WHERE closed AND in_win(clo) AND callback IN ('satisfied', 'basic')) AS cb_good,
       count(*) FILTER (WHERE closed AND in_win(clo) AND callback IN ('satisfied', 'basic', 'unsatisfied')) AS cb_rated
FROM settled('tickets_tk') GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE calls_f AS
SELECT region, dept,
       count(*) FILTER (WHERE in_win(off)) AS call_volume,
       count(*) FILTER (WHERE in_win(off) AND answered) AS answered_n,
       count(*) FILTER (WHERE in_win(off) AND answered AND wait <= 15) AS answered_15_n
FROM calls_u GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE items_f AS
SELECT region, dept,
       count(*) AS items,
       count(*) FILTER (WHERE oa) AS oa_n,
       count(*) FILTER (WHERE fo) AS fo_n,
       count(*) FILTER (WHERE ma) AS ma_n,
       count(*) FILTER (WHERE visits = 0) AS zero_n,
       count(*) FILTER (WHERE visits <= 1) AS one_n,
       count(*) FILTER (WHERE ih) AS ih_n,
       coalesce(sum(legal - promised) FILTER (WHERE legal > 0 AND promised IS NOT NULL), 0) AS tc_num,
       coalesce(sum(legal) FILTER (WHERE legal > 0 AND promised IS NOT NULL), 0) AS tc_den
FROM items_u GROUP BY ALL;

-- ================================================================ roll-up
-- Keys that appear: every region of the file (itself or as an ancestor; all the
-- readable rows after the upsert, also withdrawn cases and records after as_of),
-- dept ''; with by_dept also every (region, dept) pair with a non-empty dept.
-- Facts are summed per (leaf region, dept) first, then once per ancestor.
CREATE OR REPLACE MACRO rollup(src, keys_src) AS TABLE
    WITH f AS (FROM query_table(src)),
    anc AS (FROM region_anc(keys_src)),
    keys AS (
        SELECT DISTINCT a.anc AS region, '' AS dept FROM anc a
        UNION ALL
        SELECT DISTINCT a.anc, k.dept
        FROM (SELECT DISTINCT region, dept FROM query_table(keys_src)) k JOIN anc a ON a.code = k.region
        WHERE getvariable('by_dept') AND k.dept <> ''),
    per_anc AS (
        SELECT a.anc AS region, f.dept, f.* EXCLUDE (region, dept)
        FROM f JOIN anc a ON a.code = f.region),
    sums AS (
        SELECT region, '' AS dept, sum(COLUMNS(* EXCLUDE (region, dept)))
        FROM per_anc GROUP BY region
        UNION ALL BY NAME
        SELECT region, dept, sum(COLUMNS(* EXCLUDE (region, dept)))
        FROM per_anc WHERE getvariable('by_dept') AND dept <> '' GROUP BY region, dept)
    SELECT k.region, k.dept, s.* EXCLUDE (region, dept)
    FROM keys k LEFT JOIN sums s ON s.region = k.region AND s.dept = k.dept;

CREATE OR REPLACE TEMP TABLE r_cases AS FROM rollup('cases_f', 'cases_u');
CREATE OR REPLACE TEMP TABLE r_evals AS FROM rollup('evals_f', 'evals_u');
CREATE OR REPLACE TEMP TABLE r_tickets AS FROM rollup('tickets_f', 'tickets_u');
CREATE OR REPLACE TEMP TABLE r_calls AS FROM rollup('calls_f', 'calls_u');
CREATE OR REPLACE TEMP TABLE r_items AS FROM rollup('items_f', 'items_u');

-- ================================================================ result
-- (indicator, region, dept, numerator, denominator); denominator NULL = a count.
CREATE OR REPLACE TEMP TABLE results AS
WITH u(indicator, region, dept, num, den) AS (
    SELECT 'case_volume', region, dept, case_volume, NULL FROM r_cases
    UNION ALL SELECT 'online_case_rate', region, dept, online_n, case_volume FROM r_cases
    UNION ALL SELECT 'full_online_case_rate', region, dept, full_online_n, case_volume FROM r_cases
    UNION ALL SELECT 'mobile_case_rate', region, dept, mobile_n, case_volume FROM r_cases
    UNION ALL SELECT 'on_time_rate', region, dept, settled_on_time, settled FROM r_cases
    UNION ALL SELECT 'overdue_open', region, dept, overdue_open, NULL FROM r_cases
    UNION ALL SELECT 'eval_count', region, dept, eval_count, NULL FROM r_evals
    UNION ALL SELECT 'satisfaction_rate', region, dept, satisfied_n, eval_count FROM r_evals
    UNION ALL SELECT 'bad_review_count', region, dept, bad_review_count, NULL FROM r_evals
    UNION ALL SELECT 'rectify_on_time_rate', region, dept, settled_on_time, settled FROM r_evals
    UNION ALL SELECT 'ticket_volume', region, dept, ticket_volume, NULL FROM r_tickets
    UNION ALL SELECT 'direct_rate', region, dept, direct_n, ticket_volume FROM r_tickets
    UNION ALL SELECT 'ticket_on_time_rate', region, dept, settled_on_time, settled FROM r_tickets
    UNION ALL SELECT 'ticket_satisfaction_rate', region, dept, cb_good, cb_rated FROM r_tickets
    UNION ALL SELECT 'call_volume', region, dept, call_volume, NULL FROM r_calls
    UNION ALL SELECT 'answer_rate', region, dept, answered_n, call_volume FROM r_calls
    UNION ALL SELECT 'answer_15s_rate', region, dept, answered_15_n, call_volume FROM r_calls
    UNION ALL SELECT 'online_available_rate', region, dept, oa_n, items FROM r_items
    UNION ALL SELECT 'full_online_item_rate', region, dept, fo_n, items FROM r_items
    UNION ALL SELECT 'mobile_available_rate', region, dept, ma_n, items FROM r_items
    UNION ALL SELECT 'zero_visit_rate', region, dept, zero_n, items FROM r_items
    UNION ALL SELECT 'max_one_visit_rate', region, dept, one_n, items FROM r_items
    UNION ALL SELECT 'in_hall_rate', region, dept, ih_n, items FROM r_items
    UNION ALL SELECT 'time_compression_ratio', region, dept, tc_num, tc_den FROM r_items)
SELECT indicator, region, dept,
       coalesce(num, 0)::BIGINT AS numerator,
       CASE WHEN indicator IN ('case_volume', 'overdue_open', 'eval_count', 'bad_review_count', 'ticket_volume', 'call_volume')
            THEN NULL ELSE coalesce(den, 0)::BIGINT END AS denominator
FROM u;

SELECT indicator, region, dept, numerator, denominator,
       CASE WHEN denominator IS NULL THEN numerator::DOUBLE
            WHEN denominator = 0 THEN NULL
            ELSE numerator::DOUBLE / denominator END AS value
FROM results
ORDER BY indicator, region, dept;
