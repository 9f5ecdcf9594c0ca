package vault

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestVault_ObserveStep: ObserveStep is ObserveRow for each market whose
// row moved and ObserveGrowth for each market with a growth column (a
// NaN cell the zero Growth): two vaults fed the same random steps, one
// each way, hold the same observation and the same chained growth in
// every market after every step. Some steps leave rows where they were,
// carry no growths, or a NaN cell; the positions were last accrued at the
// first step, so growths chain until a step breaks the chain.
func TestVault_ObserveStep(t *testing.T) {
	const rows = 60
	s := &adapters.Series{Set: make([]adapters.FieldSet, rows)}
	s.Cols[adapters.FieldAPY] = make([]float64, rows)
	s.Cols[adapters.FieldTVL] = make([]float64, rows)
	rnd := rand.New(rand.NewPCG(20, 1))
	for r := range rows {
		s.Times = append(s.Times, t0.Add(time.Duration(r)*time.Hour).Unix())
		s.Cols[adapters.FieldAPY][r] = rnd.Float64() / 10
		s.Set[r] = adapters.FieldSet(0).With(adapters.FieldAPY)
		if r%3 == 0 {
			s.Cols[adapters.FieldTVL][r] = 1e8 * rnd.Float64()
			s.Set[r] = s.Set[r].With(adapters.FieldTVL)
		}
	}
	for _, cols := range [][]int{{1, 0}, {-1, 0}, {0, -1}} {
		batch, each := taskVault(t), taskVault(t)
		for _, v := range []*Vault{batch, each} {
			for _, sl := range v.markets {
				sl.pos.Last = t0
			}
		}
		n := len(batch.Markets())
		f := &StepFeed{Series: make([]*adapters.Series, n), Rows: make([]int, n), Cols: cols}
		for i := range n {
			f.Series[i] = s
		}
		cells := make([]GrowthCell, 2)
		chained := 0
		for k := 1; k < rows; k++ {
			for i := range f.Rows {
				f.Rows[i] = -1
				if rnd.IntN(4) != 0 {
					f.Rows[i] = k
				}
			}
			f.From, f.To, f.Growth = s.Times[k-1], s.Times[k], nil
			if k <= 3 || rnd.IntN(10) != 0 { // the first steps' chain from t0, then random
				for j := range cells {
					cells[j] = GrowthCell{APY: rnd.Float64() / 10, Factor: 1 + rnd.Float64()/1e4}
					if k > 3 && rnd.IntN(15) == 0 {
						cells[j].APY = math.NaN()
					}
				}
				f.Growth = cells
			}
			if err := batch.ObserveStep(f); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if r := f.Rows[i]; r >= 0 {
					mustOK(t, each.ObserveRow(i, s, r))
				}
				if j := cols[i]; f.Growth != nil && j >= 0 {
					g := adapters.Growth{}
					if c := cells[j]; !math.IsNaN(c.APY) {
						g = adapters.Growth{From: f.From, To: f.To, APY: c.APY, Factor: c.Factor}
					}
					mustOK(t, each.ObserveGrowth(i, g))
				}
			}
			for _, id := range batch.Markets() {
				got, _ := batch.Env(id)
				want, _ := each.Env(id)
				if got.Obs != want.Obs || got.Growth != want.Growth {
					t.Fatalf("cols %v step %d %s: observation %+v growth %+v, want %+v growth %+v", cols, k, id, got.Obs, got.Growth, want.Obs, want.Growth)
				}
				if got.Growth.From == t0.Unix() && got.Growth.To > s.Times[1] {
					chained++
				}
			}
		}
		if chained == 0 {
			t.Errorf("cols %v: no growth was chained over two steps or more: the test tests too little", cols)
		}
	}

	v := taskVault(t)
	ok := &StepFeed{Series: []*adapters.Series{s, s}, Rows: []int{0, 1}, Cols: []int{0, 1}, From: s.Times[0], To: s.Times[1], Growth: make([]GrowthCell, 2)}
	mustOK(t, v.ObserveStep(ok))
	for name, f := range map[string]*StepFeed{
		"a row short":               {Series: ok.Series, Rows: ok.Rows[:1]},
		"a series short":            {Series: ok.Series[:1], Rows: ok.Rows},
		"growth columns short":      {Series: ok.Series, Rows: ok.Rows, Cols: ok.Cols[:1], Growth: ok.Growth},
		"a row past the series":     {Series: ok.Series, Rows: []int{-1, rows}},
		"a column past the growths": {Series: ok.Series, Rows: ok.Rows, Cols: []int{0, 2}, Growth: ok.Growth},
	} {
		if err := v.ObserveStep(f); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("%s: err %v, want invalid", name, err)
		}
	}
}
