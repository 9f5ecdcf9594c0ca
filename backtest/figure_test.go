package backtest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// TestFigure_Mark: a mark's figure is fixed.FromFloatSig's decimal (its
// coefficient and exponent, its text and JSON), its float is that
// decimal's InexactFloat64 to the bit and markFigure's second result is
// fixed.ToFloat of it (markFigureFloat), over values of both signs spread from 1e-25 to
// 1e35 (past the num's fast form, below about 1.7e20) and the edge values.
func TestFigure_Mark(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 12))
	xs := []float64{0, 1, -1, 0.1, 1e-19, -4e-19, 999999999999999, 1e15, 1e22, 1e23, 1e37, math.NaN(), math.Inf(1)}
	for i := 0; i < 20000; i++ {
		x := math.Pow(10, -25+60*rng.Float64())
		if rng.IntN(2) == 0 {
			x = -x
		}
		xs = append(xs, x)
	}
	for _, x := range xs {
		f, ff := markFigureFloat(x)
		want := fixed.FromFloatSig(x)
		d := f.Decimal()
		if !d.Equal(want) || d.Exponent() != want.Exponent() {
			t.Fatalf("%v: decimal %s (exponent %d), want %s (exponent %d)", x, d, d.Exponent(), want, want.Exponent())
		}
		if f.String() != want.String() {
			t.Fatalf("%v: text %s, want %s", x, f.String(), want.String())
		}
		if got, wf := f.Float(), want.InexactFloat64(); math.Float64bits(got) != math.Float64bits(wf) {
			t.Fatalf("%v: Float %v (%#x), want InexactFloat64's %v (%#x)", x, got, math.Float64bits(got), wf, math.Float64bits(wf))
		}
		if wf := fixed.ToFloat(want); math.Float64bits(ff) != math.Float64bits(wf) {
			t.Fatalf("%v: curve float %v, want ToFloat's %v", x, ff, wf)
		}
		gj, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Fatalf("%v: JSON %s, want %s", x, gj, wj)
		}
	}
}

// TestFigure_Exact: an exact figure is its decimal, and a Step encodes
// as JSON as it did with decimal fields (the figures as decimal strings).
func TestFigure_Exact(t *testing.T) {
	d := decimal.RequireFromString("1234567.000000000000000001")
	f := ExactFigure(d)
	if got := f.Decimal(); !got.Equal(d) || got.Exponent() != d.Exponent() {
		t.Fatalf("Decimal %s (exponent %d), want %s (exponent %d)", got, got.Exponent(), d, d.Exponent())
	}
	if f.Float() != d.InexactFloat64() || f.String() != d.String() {
		t.Fatalf("Float %v, String %s; want %v, %s", f.Float(), f.String(), d.InexactFloat64(), d)
	}
	if z := (Figure{}); !z.Decimal().IsZero() || z.String() != "0" || z.Float() != 0 {
		t.Fatalf("zero figure: %s", z)
	}
	mark := markFigure(1.25)
	got, err := json.Marshal(Step{NAV: f, Equity: mark, PricePerShare: ExactFigure(decimal.New(1, 0)), Idle: decimal.New(5, -1), Costs: decimal.Zero, Values: []float64{1}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"0001-01-01T00:00:00Z","nav":"1234567.000000000000000001","equity":"1.25","price_per_share":"1","idle":"0.5","costs":"0","values":[1]}`
	if string(got) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", got, want)
	}
}

// TestFigure_JSONRoundTrip: a Step written as JSON and read back holds
// the same figures, exact or marked: each equal to the decimal it was
// written from and the decimal that decimal's own JSON reads back (whose
// text drops trailing zeros, so the exponent is the text's), and a figure
// that is not a number is an error, not a zero.
func TestFigure_JSONRoundTrip(t *testing.T) {
	in := Step{NAV: ExactFigure(decimal.RequireFromString("1234567.000000000000000001")), Equity: markFigure(1.25e-7),
		PricePerShare: ExactFigure(decimal.RequireFromString("1.000000000000000000000000000000000123")),
		Idle:          decimal.New(5, -1), Costs: decimal.Zero}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Step
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("reading %s: %v", b, err)
	}
	for _, c := range []struct {
		name      string
		got, want Figure
	}{{"nav", out.NAV, in.NAV}, {"equity", out.Equity, in.Equity}, {"price_per_share", out.PricePerShare, in.PricePerShare}} {
		g, w := c.got.Decimal(), c.want.Decimal()
		var viaDec decimal.Decimal
		if js, _ := json.Marshal(w); json.Unmarshal(js, &viaDec) != nil || viaDec.Exponent() != g.Exponent() {
			t.Errorf("%s read back with exponent %d, decimal's own JSON gives %s (exponent %d)", c.name, g.Exponent(), viaDec, viaDec.Exponent())
		}
		if !g.Equal(w) {
			t.Errorf("%s read back %s (exponent %d), want %s (exponent %d)", c.name, g, g.Exponent(), w, w.Exponent())
		}
	}
	var f Figure
	if err := json.Unmarshal([]byte(`"1.5"`), &f); err != nil || f.String() != "1.5" {
		t.Errorf(`"1.5": %s, %v`, f, err)
	}
	if err := json.Unmarshal([]byte(`"lots"`), &f); err == nil {
		t.Errorf(`"lots" read as %s, want an error`, f)
	}
}

// TestFigure_CompareAndText: figures compare by value whatever their
// exponents (Equal, Cmp, and go-cmp over a Step, which uses Equal), read
// back their text, and a JSON null leaves a figure as it is (as it leaves
// a decimal).
func TestFigure_CompareAndText(t *testing.T) {
	a, b := ExactFigure(decimal.New(150, -2)), markFigure(1.5) // 1.50 and 1.50000000000000
	c := ExactFigure(decimal.RequireFromString("1.000000000000000000000000000000000123"))
	if !a.Equal(b) || a.Cmp(b) != 0 || a.Equal(c) || a.Cmp(c) != 1 || c.Cmp(a) != -1 || !c.Equal(c) {
		t.Fatalf("compare: %s vs %s vs %s: Equal %v %v, Cmp %d %d", a, b, c, a.Equal(b), a.Equal(c), a.Cmp(c), c.Cmp(a))
	}
	if d := cmp.Diff(Step{NAV: a}, Step{NAV: b}); d != "" {
		t.Errorf("go-cmp tells apart equal figures:\n%s", d)
	}
	if d := cmp.Diff(Step{NAV: a}, Step{NAV: c}); d == "" {
		t.Error("go-cmp finds different figures equal")
	}
	txt, err := c.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var r Figure
	if err := r.UnmarshalText(txt); err != nil || !r.Equal(c) {
		t.Fatalf("text %s read back as %s, %v", txt, r, err)
	}
	if err := r.UnmarshalText([]byte("lots")); err == nil {
		t.Fatal(`text "lots" read without an error`)
	}
	r = a
	if err := json.Unmarshal([]byte(`null`), &r); err != nil || !r.Equal(a) || r.String() != a.String() {
		t.Fatalf("null: %s, %v; want %s unchanged", r, err, a)
	}
}
