package backtest

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// seekStep gives every step the row seek gives, on series aligned with the
// steps and on series that are not (rows between steps, a missing step, rows
// before the first step or none after the last), with an event's seek
// between two steps.
func TestCursor_SeekStepAsSeek(t *testing.T) {
	times := []int64{100, 200, 300, 400}
	tests := []struct {
		name    string
		rows    []int64
		aligned bool
	}{
		{"aligned", []int64{100, 200, 300, 400}, true},
		{"aligned after earlier rows", []int64{0, 50, 100, 200, 300, 400, 500}, true},
		{"a row between steps", []int64{100, 150, 200, 300, 400}, false},
		{"a step without a row", []int64{100, 200, 400}, false},
		{"starts after the first step", []int64{200, 300, 400}, false},
		{"ends before the last step", []int64{100, 200, 300}, false},
		{"shifted", []int64{99, 199, 299, 399}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &adapters.Series{Times: tc.rows, Set: make([]adapters.FieldSet, len(tc.rows))}
			s.Cols[adapters.FieldAPY] = make([]float64, len(tc.rows))
			for i := range tc.rows {
				s.Cols[adapters.FieldAPY][i] = float64(i)
				s.Set[i] = adapters.FieldSet(0).With(adapters.FieldAPY)
			}
			var o1, o2 adapters.Observation
			a, b := newCursor(s, &o1), newCursor(s, &o2)
			a.align(times)
			if a.aligned != tc.aligned {
				t.Errorf("aligned = %v, want %v", a.aligned, tc.aligned)
			}
			a.seek(times[0])
			b.seek(times[0])
			for k := 1; k < len(times); k++ {
				if k == 2 { // an event between steps 1 and 2
					a.seek(times[k] - 10)
					b.seek(times[k] - 10)
				}
				ma, mb := a.seekStep(k, times[k]), b.seek(times[k])
				if a.row != b.row || ma != mb || o1 != o2 {
					t.Errorf("step %d: seekStep row %d moved %v obs %+v, seek row %d moved %v obs %+v", k, a.row, ma, o1, b.row, mb, o2)
				}
			}
		})
	}
}
