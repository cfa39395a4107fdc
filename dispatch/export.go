package dispatch

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/region"
)

// MaxExport bounds the orders one export writes.
const MaxExport = 100_000

// exportHeader is the CSV header, in Chinese as the console's exports are.
var exportHeader = []string{"编号", "状态", "时限", "责任单位代码", "责任单位", "部门", "标题", "督办事由", "来源", "来源编号",
	"指标", "指标值", "目标值", "分子", "分母", "周期", "数据截至", "下发人", "下发时间", "时限（工作日）", "截止时间",
	"申请延期", "签收人", "签收时间", "反馈人", "反馈时间", "反馈内容", "逾期反馈", "退回次数", "延期次数", "办结人", "办结时间"}

var timingName = map[Timing]string{
	TimingOnTrack: "正常", TimingDueSoon: "临期", TimingOverdue: "逾期", TimingWaiting: "待核验", TimingClosed: "已结束",
}

// Export writes the orders in p's scope that f selects as CSV (UTF-8 with
// a byte order mark, so Excel reads the Chinese; CRLF lines), in the list
// order, at most MaxExport of them, and says how many it wrote. f's
// Limit and After are ignored. Every text cell is defused against formula
// injection (Defuse). The app's route audits the export.
func (s *Service) Export(ctx context.Context, p *access.Principal, f Filter, w io.Writer) (int, error) {
	f, err := scoped(p, f)
	if err != nil {
		return 0, err
	}
	now := s.Now()
	loc := s.terms.cal.Location()
	names := region.Default()
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return 0, fmt.Errorf("dispatch: export: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(exportHeader); err != nil {
		return 0, fmt.Errorf("dispatch: export: %w", err)
	}
	tm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	count := func(v *int64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	yes := func(b bool) string {
		if b {
			return "是"
		}
		return "否"
	}
	n := 0
	f.Limit, f.After = MaxLimit, ""
	for n < MaxExport {
		pg, err := s.store.List(ctx, f, now)
		if err != nil {
			return n, fmt.Errorf("dispatch: export: %w", err)
		}
		for _, o := range pg.Orders {
			if n == MaxExport {
				break
			}
			name, _ := names.Name(o.Unit.Region)
			ext := ""
			if o.Extension != nil {
				ext = fmt.Sprintf("%d 个工作日：%s", o.Extension.Days, o.Extension.Reason)
			}
			ev := o.Evidence
			row := []string{o.ID, o.State.Name(), timingName[o.TimingAt(now)], string(o.Unit.Region), name, o.Unit.Dept,
				o.Title, o.Reason, string(o.Source.Kind), o.Source.Ref, ev.Name + " " + ev.Indicator, num(ev.Value),
				num(ev.Target), count(ev.Numerator), count(ev.Denominator), ev.Period, tm(ev.AsOf), o.Issuer, tm(o.IssuedAt),
				strconv.Itoa(o.Days), tm(o.Deadline), ext, o.SignedBy, tm(o.SignedAt), o.RepliedBy, tm(o.RepliedAt), o.Reply,
				yes(o.Late), strconv.Itoa(o.Returns), strconv.Itoa(o.Extensions), o.ClosedBy, tm(o.ClosedAt)}
			for i := range row {
				row[i] = Defuse(strings.TrimSpace(row[i]))
			}
			if err := cw.Write(row); err != nil {
				return n, fmt.Errorf("dispatch: export: %w", err)
			}
			n++
		}
		if pg.Next == "" {
			break
		}
		f.After = pg.Next
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("dispatch: export: %w", err)
	}
	return n, nil
}

// Defuse keeps a CSV cell from being read as a formula by a spreadsheet
// (CSV injection, OWASP), as the console's exports do: a cell whose first
// character that is not a space starts a formula (= + - @, their
// full-width forms, a tab or a carriage return) gets a leading single
// quote, which Excel and WPS show as text. Titles, reasons and replies
// are typed by people, so any of them may start so; a number the
// package writes (a negative value) is quoted too, which only costs the
// cell being text.
func Defuse(s string) string {
	t := strings.TrimLeft(s, " \u3000\u00a0")
	if t == "" {
		return s
	}
	if r, _ := utf8.DecodeRuneInString(t); strings.ContainsRune("=+-@＝＋－＠", r) || unicode.IsControl(r) {
		return "'" + s
	}
	return s
}
