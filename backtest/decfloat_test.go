package backtest

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"
)

func TestToFloat(t *testing.T) {
	tests := []string{"0", "1", "-1", "0.000000000000000001", "123.456", "-98765.4321", "1000.123456789012345678",
		"-1000.123456789012345678", "12345678901234567890123.5", "1e40", "-3.5e-30", "100000000000000000000000000000000000000000.000000000000000001"}
	for _, s := range tests {
		d := decimal.RequireFromString(s)
		want := d.InexactFloat64()
		got := toFloat(d)
		if math.Abs(got-want) > 4*math.Abs(want)*0x1p-52 {
			t.Errorf("toFloat(%s) = %.17g, want %.17g", s, got, want)
		}
	}
	if got := toFloat(decimal.Decimal{}); got != 0 {
		t.Errorf("toFloat(zero value) = %g, want 0", got)
	}
}
