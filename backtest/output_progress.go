package backtest

import (
	"time"

	"github.com/shopspring/decimal"
)

// ProgressEvery is how many steps apart Run reports its progress to
// Spec.Progress (it also reports after the last step).
const ProgressEvery = 64

// Progress is what Run reports to Spec.Progress while it runs: the steps
// done out of the run's total, the simulated time reached and the vault's
// NAV (gross assets) at it, for progress bars.
type Progress struct {
	Step    int // steps done, 1..Steps
	Steps   int // the run's steps
	Markets int // markets in the universe (market-steps = Step x Markets)
	Time    time.Time
	NAV     decimal.Decimal
}
