package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/region"
)

// Retries of a notification the Sender refused: the dispatcher behind it
// has its own retries, so a refusal means it is down or full.
const (
	maxAttempts  = 10
	firstBackoff = 30 * time.Second
	maxBackoff   = 10 * time.Minute
)

func backoff(attempt int) time.Duration {
	d := firstBackoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// schedule creates the notifications due now: the first one of a report
// that fired, the next escalation step when nobody acknowledged in time,
// and the repeat of a report still firing. A report with a notification
// still due, held or being sent gets nothing new until it goes; an
// acknowledged or silenced one gets nothing.
func (m *Manager) schedule(now time.Time, b *batch) {
	if m.cfg.Sender == nil {
		return
	}
	for _, a := range m.sortedOpen() {
		if a.state != StateFiring || a.silencedBy != "" || a.rule == nil || m.unsent(a) {
			continue
		}
		if a.stepAt.IsZero() {
			if lvl := m.initialLevel(a); lvl != "" {
				m.enqueue(b, a, KindFiring, lvl, now)
			}
			continue
		}
		if m.escalate(a, now, b) {
			continue
		}
		if r := a.rule; r.Repeat > 0 && a.level != "" && !now.Before(a.notifiedAt.Add(r.Repeat)) {
			m.enqueue(b, a, KindRepeat, a.level, now)
		}
	}
}

// sortedOpen lists the open alerts in a fixed order, so that grouping and
// the order of messages do not depend on map order.
func (m *Manager) sortedOpen() []*alert {
	out := make([]*alert, 0, len(m.open))
	for _, a := range m.open {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *alert) int {
		return cmp.Or(x.since.Compare(y.since), cmp.Compare(x.id, y.id))
	})
	return out
}

// initialLevel is the level first told of a report: its region's own, or
// the nearest level above with receivers (a township's report goes to its
// county when townships have none); "" when no level has any.
func (m *Manager) initialLevel(a *alert) string {
	for l := region.Code(a.key.region).Level(); l >= region.Province; l-- {
		if len(a.rule.Receivers[l.String()]) > 0 && regionAt(a.key.region, l) != "" {
			return l.String()
		}
	}
	return ""
}

// escalate schedules the next step of the ladder once its wait has passed
// since the last step (or the first notification). The ladder runs
// 1+EscalateRepeat times. A step that does not reach above the level first
// told (a city's report escalating "to: city"), or whose level has no
// receivers, passes silently at its time, keeping the ladder's timing.
func (m *Manager) escalate(a *alert, now time.Time, b *batch) bool {
	r := a.rule
	n := len(r.Escalate)
	if n == 0 {
		return false
	}
	first, _ := levelByName(m.initialLevel(a))
	for total := n * (1 + r.EscalateRepeat); a.escalation < total; {
		i := a.escalation % n
		gap := r.Escalate[i].After
		if i > 0 {
			gap -= r.Escalate[i-1].After
		}
		due := a.stepAt.Add(gap)
		if now.Before(due) {
			return false
		}
		to := r.Escalate[i].To
		a.escalation++
		if first == 0 || to >= first || len(r.Receivers[to.String()]) == 0 || regionAt(a.key.region, to) == "" {
			a.stepAt = due
			m.db.saveAlert(b, a, now)
			continue
		}
		m.enqueue(b, a, KindEscalation, to.String(), now)
		m.db.saveAlert(b, a, now)
		m.touch(a)
		return true
	}
	return false
}

// regionAt is code or its ancestor at level l, "" when it has none.
func regionAt(code string, l region.Level) string {
	c := region.Code(code)
	if c.Level() == l {
		return code
	}
	var buf [4]region.Code
	for _, anc := range c.Ancestors(buf[:0]) {
		if anc.Level() == l {
			return string(anc)
		}
	}
	return ""
}

// enqueue adds a to the notification of its group (rule, kind, level,
// region told) not yet being sent, or writes a new one: due now, or held
// until the rule's quiet hours end.
func (m *Manager) enqueue(b *batch, a *alert, kind, level string, now time.Time) {
	r := a.rule
	if r == nil || m.cfg.Sender == nil {
		return
	}
	l, _ := levelByName(level)
	recv := r.Receivers[level]
	target := regionAt(a.key.region, l)
	if len(recv) == 0 || target == "" {
		return
	}
	group := strings.Join([]string{r.Name, kind, level, target}, "|")
	for _, w := range m.rows {
		if w.group == group && (w.state == rowDue || w.state == rowHeld) {
			if !slices.Contains(w.alerts, a.id) {
				w.alerts = append(w.alerts, a.id)
				m.db.saveRow(b, w)
			}
			m.touch(a)
			return
		}
	}
	w := &row{id: newID(), group: group, rule: r.Name, kind: kind, level: level, region: target,
		receivers: slices.Clone(recv), alerts: []string{a.id}, state: rowDue, created: now, due: now}
	if until, quiet := quietUntil(m.cfg.Calendar, m.cfg.Rules.Quiet, r.Quiet, now); quiet {
		w.state, w.due = rowHeld, until
	}
	m.rows[w.id] = w
	m.db.saveRow(b, w)
	m.touch(a)
}

// flush sends the notifications that are due: each is marked "sending"
// (committed) before Send and "sent" after, so that a crash in between
// sends it again with the same ID rather than never. Sends run outside
// the manager's lock: an acknowledgement does not wait for a webhook.
func (m *Manager) flush(ctx context.Context, now time.Time) error {
	if m.cfg.Sender == nil {
		return nil
	}
	m.mu.Lock()
	var claimed []*row
	var b batch
	for _, w := range m.rows {
		if (w.state == rowDue || w.state == rowHeld) && !now.Before(w.due) {
			claimed = append(claimed, w)
		}
	}
	// In the order they arose; of one instant, the report's own level
	// before those above it, then by region.
	slices.SortFunc(claimed, func(x, y *row) int {
		lx, _ := levelByName(x.level)
		ly, _ := levelByName(y.level)
		return cmp.Or(x.created.Compare(y.created), cmp.Compare(ly, lx), cmp.Compare(x.region, y.region), cmp.Compare(x.id, y.id))
	})
	for _, w := range claimed {
		w.state = rowSending
		w.attempts++
		m.db.saveRow(&b, w)
	}
	if err := m.commit(ctx, &b); err != nil || len(claimed) == 0 {
		m.mu.Unlock()
		return err
	}
	msgs := make([]Notification, len(claimed))
	for i, w := range claimed {
		msgs[i] = m.notification(w, now)
	}
	m.mu.Unlock()

	errs := make([]error, len(claimed))
	for i := range msgs {
		sctx, cancel := context.WithTimeout(ctx, m.cfg.SendTimeout)
		errs[i] = m.cfg.Sender.Send(sctx, msgs[i])
		cancel()
	}

	m.mu.Lock()
	for i, w := range claimed {
		if m.rows[w.id] != w {
			continue // reloaded after a failed write: the database's version rules
		}
		if errs[i] == nil {
			m.sent(w, msgs[i], now, &b)
			continue
		}
		w.lastErr = errs[i].Error()
		m.log.Warn("report: send", "notification", w.id, "attempt", w.attempts, "err", errs[i])
		if w.attempts < maxAttempts {
			w.state, w.due = rowDue, now.Add(backoff(w.attempts))
			m.db.saveRow(&b, w)
			continue
		}
		w.state = rowFailed
		delete(m.rows, w.id)
		m.db.saveRow(&b, w)
		// Nobody heard it, but the clocks move on: escalation reaches
		// someone else rather than waiting for ever.
		m.told(w, now, false, &b)
	}
	// Recorded even when ctx ended during the sends (a graceful stop):
	// otherwise the next start would send them again.
	err := m.commit(context.WithoutCancel(ctx), &b)
	m.mu.Unlock()
	m.publish(now)
	return err
}

// sent records a delivered notification and moves its reports' clocks.
func (m *Manager) sent(w *row, n Notification, now time.Time, b *batch) {
	w.state, w.sent, w.lastErr, w.payload = rowSent, now, "", jsonText(n)
	delete(m.rows, w.id)
	m.db.saveRow(b, w)
	m.told(w, now, true, b)
}

// told moves the clocks of the reports of a notification that went (or
// failed for good): the repeat clock, the escalation clock and the level
// reached; heard adds the level to those "resolved" goes to.
func (m *Manager) told(w *row, now time.Time, heard bool, b *batch) {
	for _, id := range w.alerts {
		a := m.alerts[id]
		if a == nil {
			continue
		}
		if w.kind != KindResolved {
			a.notifiedAt = now
			if w.kind != KindRepeat {
				a.stepAt, a.level = now, w.level
			}
			if heard && !slices.Contains(a.levels, w.level) {
				a.levels = append(a.levels, w.level)
				if a.state == StateResolved {
					// It resolved while this was on its way: they
					// hear of that too.
					m.enqueue(b, a, KindResolved, w.level, now)
				}
			}
			m.db.saveAlert(b, a, now)
			m.touch(a)
		}
		m.prune(a)
	}
}

var kindWords = map[string][2]string{
	KindFiring:     {"特别呈报", "Special report"},
	KindRepeat:     {"再次提醒", "Reminder"},
	KindEscalation: {"升级呈报", "Escalated"},
	KindResolved:   {"已恢复", "Resolved"},
}

// notification builds the message of a row from its reports as they are
// now.
func (m *Manager) notification(w *row, now time.Time) Notification {
	n := Notification{ID: w.id, Kind: w.kind, Rule: w.rule, Level: w.level, Region: w.region,
		RegionName: m.eval.name(w.region), Receivers: slices.Clone(w.receivers), At: now, Attempt: w.attempts}
	for _, id := range w.alerts {
		if a := m.alerts[id]; a != nil {
			n.Reports = append(n.Reports, m.report(a))
			n.Severity = max(n.Severity, a.severity)
		}
	}
	slices.SortFunc(n.Reports, func(x, y Report) int {
		return cmp.Or(cmp.Compare(x.Region, y.Region), cmp.Compare(x.Subject, y.Subject))
	})
	title := Text{ZH: w.rule, EN: w.rule}
	if r := m.rules[w.rule]; r != nil {
		title = r.Title
	}
	words := kindWords[w.kind]
	n.Title = fmt.Sprintf("【%s】%s · %s", words[0], title.ZH, n.RegionName)
	n.TitleEN = fmt.Sprintf("[%s] %s · %s", words[1], title.EN, n.RegionName)
	if len(n.Reports) > 1 {
		n.Title += fmt.Sprintf("（%d 项）", len(n.Reports))
		n.TitleEN += fmt.Sprintf(" (%d)", len(n.Reports))
	}
	var zh, en []string
	for _, r := range n.Reports {
		lineZH, lineEN := fmt.Sprintf("%s：%s", r.RegionName, r.Text), fmt.Sprintf("%s: %s", r.RegionName, r.TextEN)
		switch w.kind {
		case KindRepeat, KindEscalation:
			since := fmtClock(m.alerts[r.ID].fired, now, m.loc)
			lineZH += fmt.Sprintf("（%s 起未确认）", since)
			lineEN += fmt.Sprintf(" (unacknowledged since %s)", since)
		case KindResolved:
			at := fmtClock(m.alerts[r.ID].resolved, now, m.loc)
			lineZH += fmt.Sprintf("（%s 恢复）", at)
			lineEN += fmt.Sprintf(" (resolved at %s)", at)
		}
		zh, en = append(zh, lineZH), append(en, lineEN)
	}
	n.Text, n.TextEN = strings.Join(zh, "\n"), strings.Join(en, "\n")
	return n
}
