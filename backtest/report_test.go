package backtest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// htmlTree is what checkReport learned from parsing a report.
type htmlTree struct {
	ids      map[string]string // id -> element name
	elements map[string]int    // element name -> count
	points   []int             // points per polyline
}

// parseHTML parses the report as XML with HTML's entities (the report
// writes its void elements self-closed): every element must be closed and properly nested. It returns
// the problems found.
func parseHTML(b []byte) (htmlTree, []string) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	tree := htmlTree{ids: map[string]string{}, elements: map[string]int{}}
	var problems []string
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return tree, append(problems, "not well-formed: "+err.Error())
		}
		switch x := tok.(type) {
		case xml.StartElement:
			stack = append(stack, x.Name.Local)
			tree.elements[x.Name.Local]++
			for _, a := range x.Attr {
				switch a.Name.Local {
				case "id":
					if prev, ok := tree.ids[a.Value]; ok {
						problems = append(problems, fmt.Sprintf("id %q used twice (%s, %s)", a.Value, prev, x.Name.Local))
					}
					tree.ids[a.Value] = x.Name.Local
				case "points":
					if x.Name.Local == "polyline" {
						tree.points = append(tree.points, len(strings.Fields(a.Value)))
					}
					if strings.Contains(a.Value, "NaN") || strings.Contains(a.Value, "Inf") {
						problems = append(problems, x.Name.Local+" has a non-finite point")
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1] // the strict decoder matched it with its start
		}
	}
	if len(stack) != 0 {
		problems = append(problems, fmt.Sprintf("unclosed elements %v", stack))
	}
	return tree, problems
}

var urlRE = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|https?:`)

// reportProblems lists how a report breaks what every report must be:
// well-formed, the four charts present as svg elements with their IDs, no
// external reference (no URL other than the SVG namespace, no script,
// link, img or iframe).
func reportProblems(b []byte) (htmlTree, []string) {
	tree, problems := parseHTML(b)
	for _, id := range ChartIDs {
		if el := tree.ids[id]; el != "svg" {
			problems = append(problems, fmt.Sprintf("chart %q: element %q, want svg", id, el))
		}
	}
	for _, el := range []string{"script", "link", "img", "iframe", "object", "embed", "use", "image"} {
		if n := tree.elements[el]; n > 0 {
			problems = append(problems, fmt.Sprintf("%d <%s> elements", n, el))
		}
	}
	rest := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "")
	if m := urlRE.FindString(rest); m != "" {
		problems = append(problems, fmt.Sprintf("refers to %q outside the SVG namespace", m))
	}
	if strings.Contains(rest, "url(") || strings.Contains(rest, "@import") {
		problems = append(problems, "CSS loads something (url( or @import)")
	}
	return tree, problems
}

func checkReport(t *testing.T, b []byte) htmlTree {
	t.Helper()
	tree, problems := reportProblems(b)
	for _, p := range problems {
		t.Errorf("report: %s", p)
	}
	return tree
}

func TestWriteReport_SelfContained(t *testing.T) {
	var b bytes.Buffer
	r := fixtureResult(48)
	if err := WriteReport(&b, r, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	tree := checkReport(t, b.Bytes())
	s := b.String()
	// Labels are escaped, not interpreted.
	if strings.Contains(s, "<balanced>") || !strings.Contains(s, "fixture &lt;balanced&gt; &amp; co") {
		t.Errorf("strategy name is not escaped")
	}
	if strings.Contains(s, "rule <fired>") || !strings.Contains(s, "rule &lt;fired&gt;") {
		t.Errorf("order reason is not escaped")
	}
	// One line per curve: the strategy and each benchmark; then the cost
	// chart's three (gas, slippage, fees).
	if got, want := len(tree.points), 1+len(r.Benchmarks)+3; got != want {
		t.Errorf("%d polylines, want %d (equity chart and cost chart)", got, want)
	}
	for _, want := range []string{"hold lido/steth", "equal_weight", "best_single", "params.max_lrt", "params.min_peg",
		"gain below cost", "not executed: rebalance condition false", "forward filled", "ezETH depeg", "2024-01-01"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestWriteReport_Downsamples(t *testing.T) {
	const n = 8760 // a year hourly
	r := fixtureResult(n)
	var b bytes.Buffer
	if err := WriteReport(&b, r, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	tree := checkReport(t, b.Bytes())
	for i, p := range tree.points[:1+len(r.Benchmarks)] { // the equity chart's lines
		if p > 1500 || p < 100 {
			t.Errorf("polyline %d has %d points, want 100..1500", i, p)
		}
	}
	if b.Len() > 600<<10 {
		t.Errorf("report of %d steps is %d KiB, want <= 600 KiB", n, b.Len()>>10)
	}
	t.Logf("report of %d steps: %d KiB", n, b.Len()>>10)
}

func TestWriteReport_Empty(t *testing.T) {
	r := &Result{Settings: Settings{Strategy: "empty"}}
	var b bytes.Buffer
	if err := WriteReport(&b, r, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	checkReport(t, b.Bytes())
}

func TestCheckReport_CatchesBrokenReports(t *testing.T) {
	// The checks must fail on broken input.
	var good bytes.Buffer
	if err := WriteReport(&good, fixtureResult(24), ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	broken := map[string]string{
		"unclosed td":   strings.Replace(good.String(), "</td>", "", 1),
		"missing chart": strings.Replace(good.String(), `id="chart-allocation"`, `id="chart-x"`, 1),
		"external font": strings.Replace(good.String(), "<style>", "<style>body{font-family:x} /* https://fonts.example.com */", 1),
		"script src":    strings.Replace(good.String(), "</main>", `<script src="//cdn.example.com/x.js"></script></main>`, 1),
	}
	for name, html := range broken {
		if _, problems := reportProblems([]byte(html)); len(problems) == 0 {
			t.Errorf("%s: reportProblems accepted a broken report", name)
		}
	}
	if _, problems := reportProblems(good.Bytes()); len(problems) > 0 {
		t.Errorf("good report: %v", problems)
	}
}

func TestDownsample(t *testing.T) {
	n := 10001
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
		ys[i] = math.Sin(float64(i) / 50)
	}
	ys[5000] = -7 // a spike that must survive
	ox, oy := downsample(xs, ys, 1500)
	if len(ox) > 1500 || len(ox) != len(oy) {
		t.Fatalf("downsample: %d x, %d y points, want <= 1500 each", len(ox), len(oy))
	}
	if ox[0] != 0 || ox[len(ox)-1] != float64(n-1) {
		t.Errorf("downsample dropped an end: first %v last %v", ox[0], ox[len(ox)-1])
	}
	minY := 0.0
	for i := range ox {
		if i > 0 && ox[i] <= ox[i-1] {
			t.Fatalf("downsample: x not increasing at %d: %v after %v", i, ox[i], ox[i-1])
		}
		minY = math.Min(minY, oy[i])
	}
	if minY != -7 {
		t.Errorf("downsample lost the spike: min %v, want -7", minY)
	}
	if gx, _ := downsample(xs[:10], ys[:10], 1500); len(gx) != 10 {
		t.Errorf("downsample of 10 points gave %d", len(gx))
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 1, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
		{95, 108, []float64{96, 98, 100, 102, 104, 106, 108}},
		{-0.06, 0, []float64{-0.06, -0.05, -0.04, -0.03, -0.02, -0.01, 0}},
		{3, 3, []float64{3}},
	}
	for _, tt := range tests {
		got := niceTicks(tt.lo, tt.hi, 5)
		if len(got) != len(tt.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-9 {
				t.Errorf("niceTicks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
				break
			}
		}
	}
}

func TestTickLabel(t *testing.T) {
	tests := []struct {
		v, step float64
		pct     bool
		want    string
	}{
		{100, 2, false, "100"},
		{0.2, 0.2, false, "0.2"},
		{-0.05, 0.01, true, "-5%"},
		{-0.025, 0.005, true, "-2.5%"},
		{1e-17, 0.2, false, "0.0"},
	}
	for _, tt := range tests {
		if got := tickLabel(tt.v, tt.step, tt.pct); got != tt.want {
			t.Errorf("tickLabel(%v, %v, %v) = %q, want %q", tt.v, tt.step, tt.pct, got, tt.want)
		}
	}
}

func TestFormatCosts(t *testing.T) {
	d := decimal.RequireFromString
	tests := []struct {
		gas, slip, fee string
		want           string
	}{
		{"0.0344", "-0.0576", "0", "gas 0.0344, slippage -0.0576 (a gain)"},
		{"0.000123456", "0.5", "0.001", "gas 0.000123, slippage 0.500, fee 0.00100"},
		{"0", "0", "0", "none"},
		{"12345.678", "0", "0", "gas 12346"},
	}
	for _, tt := range tests {
		if got := FormatCosts(d(tt.gas), d(tt.slip), d(tt.fee)); got != tt.want {
			t.Errorf("FormatCosts(%s, %s, %s) = %q, want %q", tt.gas, tt.slip, tt.fee, got, tt.want)
		}
	}
}

// TestMonthlyReturns compares the table with month-end equities read off
// the curve here.
func TestMonthlyReturns(t *testing.T) {
	r := fixtureResult(24 * 70) // hourly from the fixture's start over about two and a half months
	rows := monthlyReturns(r)
	eq := equityValues(r)
	// Independent: the index of the last step of each month.
	var ends []int
	for k := range r.Steps {
		if k == len(r.Steps)-1 || r.Steps[k].Time.Month() != r.Steps[k+1].Time.Month() {
			ends = append(ends, k)
		}
	}
	if len(rows) != len(ends) {
		t.Fatalf("%d months, want %d", len(rows), len(ends))
	}
	prev := eq[0]
	for i, k := range ends {
		want := eq[k]/prev - 1
		if got := rows[i].Return; math.Abs(got-want) > 1e-15 {
			t.Errorf("%s: %v, want %v", rows[i].Month, got, want)
		}
		if rows[i].Month != r.Steps[k].Time.Format("2006-01") {
			t.Errorf("row %d is %s, want %s", i, rows[i].Month, r.Steps[k].Time.Format("2006-01"))
		}
		prev = eq[k]
	}
}

// TestReport_DistinctColours: no two curves of the equity chart share a
// colour, however many markets.
func TestReport_DistinctColours(t *testing.T) {
	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		c := distinctColor(i)
		if j, dup := seen[c]; dup {
			t.Fatalf("colour %d = colour %d = %s", i, j, c)
		}
		seen[c] = i
	}
	var b bytes.Buffer
	r := fixtureResult(48)
	if err := WriteReport(&b, r, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	eqStart := strings.Index(s, `id="chart-equity"`)
	eqEnd := strings.Index(s[eqStart:], "</svg>") + eqStart
	strokes := map[string]bool{}
	for _, part := range strings.Split(s[eqStart:eqEnd], "<polyline")[1:] {
		i := strings.Index(part, `stroke="`) + len(`stroke="`)
		c := part[i : i+strings.Index(part[i:], `"`)]
		if strokes[c] {
			t.Errorf("equity chart: colour %s used twice", c)
		}
		strokes[c] = true
	}
	for _, id := range []string{ChartCosts, ChartAPY, ChartPeg, `id="monthly"`, `id="trades"`, "strategy's excess return"} {
		if !strings.Contains(s, id) {
			t.Errorf("report lacks %s", id)
		}
	}
}
