package history

import (
	"github.com/yieldvault/yieldvault/adapters"
)

// Row is one observation of one market, with where it came from.
type Row struct {
	Market string
	Obs    adapters.Observation
	Line   int // 1-based line (or record number) in the source file; 0 when generated
}

// Batch is what an importer or the synthetic generator produces and what
// DB.Write stores in one transaction: the markets it describes, their
// observations and events.
type Batch struct {
	// Source names where the batch came from: a file path, a URL, or
	// "synth:<scenario>:<seed>". It is recorded in the import log.
	Source string
	// Format names the importer ("csv", "defillama", "aavescan", "synth", ...).
	Format  string
	Markets []adapters.Market
	Rows    []Row
	Events  []adapters.Event
	// Skipped counts source rows an importer left out because they are
	// legitimately empty in the source (an asset not yet listed, a launch
	// row with no values); Notes says why.
	Skipped int
	// AllowImplausible stores values outside the plausible bounds (see
	// CheckTime and docs/data.md: an APY above 1000%, a rate below 0.5, an
	// index that jumps x1e18) with a warning instead of refusing the batch.
	// Physically impossible values and implausible times are refused
	// whatever it says.
	AllowImplausible bool
	// Notes are remarks from the importer for the user: rows skipped and
	// why, values clamped or dropped, unit decisions.
	Notes []string
}
