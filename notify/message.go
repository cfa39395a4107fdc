package notify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Severity says how urgent a report is.
type Severity string

// The severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// rank orders severities; an unknown one counts as info.
func (s Severity) rank() int {
	switch s {
	case SeverityCritical:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

// Label is the severity as a reader of a robot group sees it.
func (s Severity) Label() string {
	switch s {
	case SeverityCritical:
		return "紧急"
	case SeverityWarning:
		return "预警"
	}
	return "提示"
}

// Message is one notification of a special report (特别呈报).
type Message struct {
	// ID is the idempotency key: the same notification sent twice has the
	// same ID (the report id and the notification's sequence, say
	// "rpt-20261203-0007#2"). Required.
	ID string
	// Title is one line; Markdown the body (zh-CN first), in the subset
	// both robots render (headings, bold, links, quotes, lists); Text the
	// same body for plain-text readers (e-mail, webhook consumers).
	Title    string
	Markdown string
	Text     string
	// URL is the report's page.
	URL      string
	Severity Severity
	// RegionCode is the GB/T 2260 code of the region the report is about,
	// RegionName its name.
	RegionCode string
	RegionName string
	// Time is when the report was raised.
	Time   time.Time
	Labels map[string]string
	// Attachments are files only e-mail carries (a bulletin's PDF); the
	// robots and webhooks get URL instead. See Email.MaxAttachments.
	Attachments []Attachment
	// Parts are the messages a digest stands for (nil for a single
	// message): the Dispatcher folds what a channel's rate cannot carry
	// one by one into a digest.
	Parts []Message
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	// Name is the file name as the reader sees it (Chinese allowed).
	Name string
	// ContentType is its MIME type; "" is application/octet-stream.
	ContentType string
	Data        []byte
}

// IDs returns the ids of the messages m carries: its parts' for a
// digest, else its own.
func (m Message) IDs() []string {
	if len(m.Parts) == 0 {
		return []string{m.ID}
	}
	ids := make([]string, len(m.Parts))
	for i, p := range m.Parts {
		ids[i] = p.ID
	}
	return ids
}

// businessZone is Asia/Shanghai, which has kept UTC+8 without daylight
// saving since 1991: a fixed zone needs no tz database in the image.
var businessZone = time.FixedZone("CST", 8*3600)

// maxTitleRunes bounds a title: a robot shows it in a one-line preview.
const maxTitleRunes = 120

// shortTitle is the title cut to maxTitleRunes runes.
func shortTitle(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if utf8.RuneCountInString(s) <= maxTitleRunes {
		return s
	}
	return string([]rune(s)[:maxTitleRunes-1]) + "…"
}

// renderMarkdown is the message as the robots show it: a heading with
// the severity, where and when, the body and the link.
func renderMarkdown(m Message, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### 【%s】%s\n\n", m.Severity.Label(), shortTitle(m.Title))
	if len(m.Parts) > 0 {
		// A digest's body is its list; its parts carry their own places.
		b.WriteString(strings.ToValidUTF8(m.Markdown, "\uFFFD"))
		return b.String()
	}
	if where := region(m); where != "" {
		fmt.Fprintf(&b, "**地区**：%s  \n", where)
	}
	if !m.Time.IsZero() {
		fmt.Fprintf(&b, "**时间**：%s\n\n", m.Time.In(loc).Format("2006-01-02 15:04"))
	}
	b.WriteString(strings.ToValidUTF8(m.Markdown, "\uFFFD"))
	if m.URL != "" {
		fmt.Fprintf(&b, "\n\n[查看详情](%s)", m.URL)
	}
	return b.String()
}

// renderText is the plain-text form of renderMarkdown, for e-mail.
func renderText(m Message, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "【%s】%s\n\n", m.Severity.Label(), shortTitle(m.Title))
	if where := region(m); where != "" && len(m.Parts) == 0 {
		fmt.Fprintf(&b, "地区：%s\n", where)
	}
	if !m.Time.IsZero() && len(m.Parts) == 0 {
		fmt.Fprintf(&b, "时间：%s\n\n", m.Time.In(loc).Format("2006-01-02 15:04"))
	}
	text := m.Text
	if text == "" {
		text = m.Markdown
	}
	b.WriteString(strings.ToValidUTF8(text, "\uFFFD"))
	if m.URL != "" {
		fmt.Fprintf(&b, "\n\n查看详情：%s", m.URL)
	}
	b.WriteString("\n")
	return b.String()
}

func region(m Message) string {
	switch {
	case m.RegionName != "" && m.RegionCode != "":
		return m.RegionName + "（" + m.RegionCode + "）"
	case m.RegionName != "":
		return m.RegionName
	}
	return m.RegionCode
}

// moreLine is the last line of a digest that could not carry every
// waiting message: the rest follow in the next one.
func moreLine(n int) string {
	return fmt.Sprintf("…… 另有 %d 条（%d more），稍后发送", n, n)
}

// digest folds parts into one message; more is how many waiting
// messages it leaves for later (0: none), said in its last line.
func digest(parts []Message, more int, loc *time.Location) Message {
	ids := make([]string, len(parts))
	d := Message{Parts: slices.Clone(parts)}
	var md, text strings.Builder
	for i, p := range parts {
		ids[i] = p.ID
		if p.Severity.rank() > d.Severity.rank() || d.Severity == "" {
			d.Severity = p.Severity
		}
		if p.Time.After(d.Time) {
			d.Time = p.Time
		}
		title := shortTitle(p.Title)
		line := fmt.Sprintf("【%s】%s", p.Severity.Label(), title)
		mdLine := line
		if p.URL != "" {
			mdLine = fmt.Sprintf("【%s】[%s](%s)", p.Severity.Label(), title, p.URL)
		}
		var tail []string
		if p.RegionName != "" || p.RegionCode != "" {
			tail = append(tail, cmp.Or(p.RegionName, p.RegionCode))
		}
		if !p.Time.IsZero() {
			tail = append(tail, p.Time.In(loc).Format("01-02 15:04"))
		}
		if len(tail) > 0 {
			mdLine += " · " + strings.Join(tail, " · ")
			line += " · " + strings.Join(tail, " · ")
		}
		fmt.Fprintf(&md, "%d. %s\n", i+1, mdLine)
		fmt.Fprintf(&text, "%d. %s\n", i+1, line)
		if p.URL != "" {
			fmt.Fprintf(&text, "   %s\n", p.URL)
		}
	}
	if more > 0 {
		fmt.Fprintf(&md, "\n%s\n", moreLine(more))
		fmt.Fprintf(&text, "\n%s\n", moreLine(more))
	}
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	d.ID = "digest-" + hex.EncodeToString(sum[:8])
	d.Title = fmt.Sprintf("特别呈报汇总 %d 条", len(parts))
	d.Markdown, d.Text = md.String(), text.String()
	if r := parts[0].RegionCode; !slices.ContainsFunc(parts, func(p Message) bool { return p.RegionCode != r }) {
		d.RegionCode, d.RegionName = r, parts[0].RegionName
	}
	return d
}

// truncatedNote ends a body cut short to fit a channel.
const truncatedNote = "\n\n……（内容过长，已截断，全文见链接）"

// fit returns m cut to at most max as size measures it: its Markdown and
// Text are cut at the longest prefix that fits (never inside a UTF-8
// character, at a line break when one is near) and end in truncatedNote.
// A message that fits comes back as it is; max ≤ 0 is no limit. ok is
// false when even an empty body does not fit.
func fit(m Message, size func(Message) int, max int) (Message, bool) {
	if max <= 0 || size(m) <= max {
		return m, true
	}
	cut := func(n int) Message {
		c := m
		c.Markdown = prefix(m.Markdown, n) + truncatedNote
		c.Text = prefix(m.Text, n) + truncatedNote
		return c
	}
	if size(cut(0)) > max {
		return m, false
	}
	// The largest n whose cut fits: sizes only grow with n.
	lo, hi := 0, len(m.Markdown)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if size(cut(mid)) <= max {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	p := prefix(m.Markdown, lo)
	// A cut inside a line can leave half a link: end at a line break
	// unless that throws away more than a quarter of what fits.
	if i := strings.LastIndexByte(p, '\n'); i >= 0 && i >= len(p)*3/4 {
		lo = i
	}
	return cut(lo), true
}

// prefix is the longest prefix of s of at most n bytes that ends on a
// character boundary.
func prefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
