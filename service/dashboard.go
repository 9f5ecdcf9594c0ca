package service

import (
	_ "embed"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// The dashboard: one read-only page and its script, embedded (no CDN,
// works offline), drawn from the JSON API in the browser.
var (
	//go:embed dashboard/index.html
	dashboardHTML []byte
	//go:embed dashboard/app.js
	dashboardJS []byte
)

// dashboardCSP allows the page its own script and the API, nothing else.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Service) getDashboard(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", dashboardCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(dashboardHTML)
}

func (s *Service) getDashboardJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(dashboardJS)
}

// SeriesPoint is a vault's NAV and share price at one service time.
type SeriesPoint struct {
	Time       time.Time       `json:"time"`
	NAV        decimal.Decimal `json:"nav"`
	SharePrice decimal.Decimal `json:"share_price"`
}

// maxSeries bounds a vault's in-memory series (the oldest half is dropped
// when full).
const maxSeries = 4096

// series is a vault's NAV and share price each time this process valued
// it (at start and after every action): the dashboard's chart.
type series struct {
	mu  sync.Mutex
	pts []SeriesPoint
}

func (sr *series) add(p SeriesPoint) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if n := len(sr.pts); n > 0 && !p.Time.After(sr.pts[n-1].Time) {
		sr.pts[n-1] = p // same time (or a replay restored earlier): the latest value
		return
	}
	if len(sr.pts) >= maxSeries {
		sr.pts = append(sr.pts[:0], sr.pts[len(sr.pts)/2:]...)
	}
	sr.pts = append(sr.pts, p)
}

func (sr *series) list() []SeriesPoint {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return append([]SeriesPoint{}, sr.pts...)
}

// getSeries answers a vault's NAV and share price over time, as this
// process saw them (since it started).
func (s *Service) getSeries(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"vault": rt.id, "points": rt.series.list()})
}

// ExitRoute is how a position would leave its market now: an instant
// exit's cost and the most it can take, and the withdrawal queue's delay
// where the market has one (the adapter's quote for the position's
// value).
type ExitRoute struct {
	Market string          `json:"market"`
	Value  decimal.Decimal `json:"value"`
	// InstantCost is the base asset lost exiting the whole value at once;
	// MaxInstant the most an instant exit can take now.
	InstantCost decimal.Decimal `json:"instant_cost"`
	MaxInstant  decimal.Decimal `json:"max_instant"`
	// QueueDays is the queue's delay, when the market has a queue open.
	QueueDays float64 `json:"queue_days,omitempty"`
	// Route says it in words: instant, instant up to MaxInstant then the
	// queue, or unknown with the reason.
	Route string `json:"route"`
}

// LoopView is a held leveraged loop's figures now (adapters.LoopFigures):
// what the health-factor-low and oracle-gap monitors read.
type LoopView struct {
	Market   string  `json:"market"`
	Leverage float64 `json:"leverage"`
	// HealthFactor is collateral at the oracle's price x LLTV / debt; 0
	// without debt (it is then unbounded).
	HealthFactor float64 `json:"health_factor"`
	LTV          float64 `json:"ltv"`
	LLTV         float64 `json:"lltv"`
	// LiquidationDrop is the fall of the collateral's oracle price that
	// liquidates the position, 1 - 1/HealthFactor (1 without debt).
	LiquidationDrop float64 `json:"liquidation_drop"`
	OracleGap       float64 `json:"oracle_gap"`
}

// loopViews are the figures of every loop the vault holds.
func loopViews(rt *vaultRT, v interface {
	LoopFigures(string) (adapters.LoopFigures, bool)
}) []LoopView {
	out := []LoopView{}
	for _, ad := range rt.ads {
		id := ad.Market().ID
		f, ok := v.LoopFigures(id)
		if !ok {
			continue
		}
		out = append(out, LoopView{Market: id, Leverage: f.Leverage, HealthFactor: f.HealthFactor, LTV: f.LTV, LLTV: f.LLTV,
			LiquidationDrop: f.LiquidationDrop, OracleGap: f.OracleGap})
	}
	return out
}

// exitRoutes quotes every held position's exit.
func exitRoutes(rt *vaultRT, v interface {
	Env(string) (adapters.Env, bool)
	MarketValues([]decimal.Decimal) []decimal.Decimal
}) []ExitRoute {
	vals := v.MarketValues(nil)
	out := []ExitRoute{}
	for i, ad := range rt.ads {
		if i >= len(vals) || vals[i].Sign() <= 0 {
			continue
		}
		id := ad.Market().ID
		r := ExitRoute{Market: id, Value: vals[i]}
		env, ok := v.Env(id)
		var q adapters.Quote
		var err error
		if ok {
			q, err = ad.QuoteSell(&env, fixed.FromDec(vals[i]))
		}
		switch {
		case !ok || err != nil:
			r.Route = "unknown: no quote"
			if err != nil {
				r.Route = "unknown: " + err.Error()
			}
		default:
			r.InstantCost, r.MaxInstant = q.ExitCost.Dec(), q.MaxInstantExit.Dec()
			queue := ad.CanQueue() && !q.QueueClosed
			if queue {
				r.QueueDays = q.ExitDelay.Hours() / 24
			}
			switch {
			case q.MaxInstantExit.GreaterThanOrEqual(fixed.FromDec(vals[i])):
				r.Route = "instant"
			case queue:
				r.Route = fmt.Sprintf("instant up to %s, the rest through the queue (%.1f days)", q.MaxInstantExit.StringFixed(6), r.QueueDays)
			default:
				r.Route = fmt.Sprintf("instant up to %s; no queue for the rest", q.MaxInstantExit.StringFixed(6))
			}
		}
		out = append(out, r)
	}
	return out
}
