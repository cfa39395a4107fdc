package console

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/numtext"
)

// cellKind says how a cell is written: its text in CSV, and its number
// and number format in XLSX.
type cellKind int

const (
	cellText  cellKind = iota
	cellInt            // an integer count
	cellPct            // a fraction shown as a percentage (0.955 → 95.50%)
	cellPP             // a change of a rate in percentage points (0.012 → +1.20)
	cellNum            // a plain number (a count's change, a score)
	cellDelta          // a signed plain number (a count's change, a score change)
)

type cell struct {
	kind cellKind
	text string
	num  float64
	null bool // shown "—" (SPEC.md section 5), an empty cell in XLSX
}

func textCell(s string) cell { return cell{kind: cellText, text: s} }

func numCell(kind cellKind, v *float64) cell {
	if v == nil {
		return cell{kind: kind, null: true}
	}
	return cell{kind: kind, num: *v}
}

func intCell(v *int64) cell {
	if v == nil {
		return cell{kind: cellInt, null: true}
	}
	return cell{kind: cellInt, num: float64(*v)}
}

// csvText renders a cell for CSV: what the page shows, so that a CSV
// opened in Excel reads like the screen (Excel parses "95.50%" as 0.955).
// Text is neutralised against formula injection.
func (c cell) csvText() string {
	if c.kind == cellText {
		return defuse(c.text)
	}
	if c.null {
		return dash
	}
	switch c.kind {
	case cellInt:
		return strconv.FormatInt(int64(c.num), 10)
	case cellPct:
		return numtext.Percent(c.num)
	case cellPP:
		return numtext.Signed(c.num*100, 2)
	case cellDelta:
		return numtext.Signed(c.num, 2)
	}
	return strconv.FormatFloat(c.num, 'f', 2, 64)
}

// defuse keeps a text cell from being read as a formula by a spreadsheet
// (CSV injection, OWASP): a cell that starts with = + - @, a tab or a
// carriage return gets a leading single quote, which Excel and LibreOffice
// show as text. Names and department codes come from the platforms and
// the push intake, so any of them may start so. Number cells are the
// console's own and stay numbers.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// table is a view ready to be written as CSV or XLSX.
type table struct {
	sheet   string
	headers []string
	rows    [][]cell
	// name is the file name without extension: ASCII for the plain
	// filename parameter, zh for filename* (RFC 5987).
	name, nameZH string
}

var periodZH = map[string]string{"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年"}

func (c *Console) fileDate(asOf string) string {
	t, err := time.Parse(time.RFC3339Nano, asOf)
	if err != nil {
		return "now"
	}
	return t.In(c.loc).Format("2006-01-02")
}

// rankingTable turns a ranking into the export table.
func (c *Console) rankingTable(r *rankingJSON) table {
	rate := r.Indicator.Rate
	unitCode, unitName := "地区代码", "地区"
	if r.By == "dept" {
		unitCode, unitName = "部门代码", "部门"
	}
	chg := "变化"
	valKind, chgKind := cellInt, cellDelta
	if rate {
		chg = "变化（百分点）"
		valKind, chgKind = cellPct, cellPP
	}
	t := table{
		sheet: "排名",
		headers: []string{"排名", unitCode, unitName, "指标", "周期", "截至", "值", "分子", "分母", "状态", "目标值",
			"环比上期值", "环比" + chg, "同比上年值", "同比" + chg},
		name:   fmt.Sprintf("ranking-%s-%s-%s-%s", r.Indicator.ID, r.Region.Code, r.Period, c.fileDate(r.AsOf)),
		nameZH: fmt.Sprintf("%s排名_%s_%s_%s", r.Indicator.Name, r.Region.Name, periodZH[r.Period], c.fileDate(r.AsOf)),
	}
	target := cell{kind: valKind, null: true}
	if r.Rule != nil {
		target = cell{kind: valKind, num: r.Rule.Target}
	}
	line := func(rank string, x row) []cell {
		return []cell{
			textCell(rank), textCell(x.Unit), textCell(x.Name), textCell(r.Indicator.Name), textCell(periodZH[r.Period]), textCell(r.AsOf),
			numCell(valKind, x.Value), intCell(x.Numerator), intCell(x.Denominator), textCell(statusText(x.Status, "zh")), target,
			numCell(valKind, x.MoM.Value), numCell(chgKind, x.MoM.Change), numCell(valKind, x.YoY.Value), numCell(chgKind, x.YoY.Change),
		}
	}
	for _, x := range r.Rows {
		t.rows = append(t.rows, line(x.RankText, x))
	}
	total := line("本级合计", r.Total)
	total[10] = cell{kind: valKind, null: true} // the units' target is not the region's
	t.rows = append(t.rows, total)
	return t
}

// compositeTable turns a composite ranking into the export table: the
// score, tier and comparisons, then the score of each weighted indicator.
func (c *Console) compositeTable(r *compositeJSON) table {
	unitCode, unitName := "地区代码", "地区"
	if r.By == "dept" {
		unitCode, unitName = "部门代码", "部门"
	}
	t := table{
		sheet:   "综合指数",
		headers: []string{"排名", unitCode, unitName, "周期", "截至", "综合指数", "等次", "环比上期", "环比变化", "同比上年", "同比变化"},
		name:    fmt.Sprintf("composite-%s-%s-%s", r.Region.Code, r.Period, c.fileDate(r.AsOf)),
		nameZH:  fmt.Sprintf("综合指数排名_%s_%s_%s", r.Region.Name, periodZH[r.Period], c.fileDate(r.AsOf)),
	}
	var parts []string
	for _, d := range indicator.All() {
		if _, ok := r.Weights[d.ID]; ok {
			parts = append(parts, d.ID)
			t.headers = append(t.headers, d.Name+"得分")
		}
	}
	line := func(rank string, x compositeRow) []cell {
		cs := []cell{textCell(rank), textCell(x.Unit), textCell(x.Name), textCell(periodZH[r.Period]), textCell(r.AsOf),
			numCell(cellNum, x.Score), textCell(tierText(x.Composite, "zh")), numCell(cellNum, x.MoM.Score), numCell(cellDelta, x.MoM.Change),
			numCell(cellNum, x.YoY.Score), numCell(cellDelta, x.YoY.Change)}
		scores := map[string]*float64{}
		for _, p := range x.Parts {
			scores[p.Indicator] = p.Score
		}
		for _, id := range parts {
			cs = append(cs, numCell(cellNum, scores[id]))
		}
		return cs
	}
	for _, x := range r.Rows {
		t.rows = append(t.rows, line(x.RankText, x))
	}
	t.rows = append(t.rows, line("本级合计", r.Total))
	return t
}

// exportTable computes the view of an export request.
func (c *Console) exportTable(ctx *fiber.Ctx) (table, error) {
	if err := checkParams(ctx, "indicator", "period", "region", "level", "by", "as_of"); err != nil {
		return table{}, err
	}
	v, err := c.parseView(ctx, true)
	if err != nil {
		return table{}, err
	}
	if v.composite {
		r, err := c.composite(ctx.UserContext(), v)
		if err != nil {
			return table{}, err
		}
		return c.compositeTable(r), nil
	}
	r, err := c.ranking(ctx.UserContext(), v)
	if err != nil {
		return table{}, err
	}
	return c.rankingTable(r), nil
}

// attachment sets Content-Disposition with an ASCII filename and the
// Chinese one in RFC 5987 encoding (filename*=UTF-8”…), which every
// current browser prefers.
func attachment(ctx *fiber.Ctx, name, nameZH, ext string) {
	ctx.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.%s"; filename*=UTF-8''%s`,
		name, ext, strings.ReplaceAll(url.PathEscape(nameZH+"."+ext), "+", "%2B")))
}

func (c *Console) handleExportCSV(ctx *fiber.Ctx) error {
	t, err := c.exportTable(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF") // UTF-8 BOM: Excel in China opens the file as UTF-8, not GBK
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write(t.headers)
	for _, r := range t.rows {
		rec := make([]string, len(r))
		for i, cl := range r {
			rec[i] = cl.csvText()
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return c.fail(ctx, err)
	}
	attachment(ctx, t.name, t.nameZH, "csv")
	ctx.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return ctx.Send(buf.Bytes())
}

// XLSX number formats: built-in 1 is "0", 10 is "0.00%".
var xlsxFormats = map[cellKind]string{
	cellPP:    `+0.00;-0.00;0.00`,
	cellNum:   `0.00`,
	cellDelta: `+0.00;-0.00;0.00`,
}

func (c *Console) handleExportXLSX(ctx *fiber.Ctx) error {
	t, err := c.exportTable(ctx)
	if err != nil {
		return c.fail(ctx, err)
	}
	b, err := t.xlsx()
	if err != nil {
		return c.fail(ctx, err)
	}
	attachment(ctx, t.name, t.nameZH, "xlsx")
	ctx.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	return ctx.Send(b)
}

// xlsx writes the table as a workbook of one sheet: numbers as numbers
// with number formats (percentages stay fractions), nulls as empty cells,
// a bold frozen header row.
func (t table) xlsx() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", t.sheet); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	styles := map[cellKind]int{}
	for k, nf := range map[cellKind]int{cellInt: 1, cellPct: 10} {
		id, err := f.NewStyle(&excelize.Style{NumFmt: nf})
		if err != nil {
			return nil, fmt.Errorf("xlsx: %w", err)
		}
		styles[k] = id
	}
	for k, code := range xlsxFormats {
		code := code
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return nil, fmt.Errorf("xlsx: %w", err)
		}
		styles[k] = id
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDE3EA"}, Pattern: 1}})
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(t.sheet)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	for i := range t.headers {
		width := 12.0
		if i == 2 {
			width = 24
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return nil, fmt.Errorf("xlsx: %w", err)
		}
	}
	hdr := make([]any, len(t.headers))
	for i, h := range t.headers {
		hdr[i] = excelize.Cell{StyleID: head, Value: h}
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	for ri, r := range t.rows {
		vals := make([]any, len(r))
		for i, cl := range r {
			switch {
			case cl.kind == cellText:
				vals[i] = cl.text
			case cl.null:
				vals[i] = nil
			default:
				vals[i] = excelize.Cell{StyleID: styles[cl.kind], Value: cl.num}
			}
		}
		ref, _ := excelize.CoordinatesToCellName(1, ri+2)
		if err := sw.SetRow(ref, vals); err != nil {
			return nil, fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	return buf.Bytes(), nil
}
