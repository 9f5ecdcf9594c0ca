package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

// llamaChart is DefiLlama yields chart JSON with n daily points from day.
func llamaChart(day time.Time, n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		ts := day.Add(time.Duration(i) * 24 * time.Hour).Format("2006-01-02T15:04:05.000Z")
		parts = append(parts, fmt.Sprintf(`{"timestamp":%q,"tvlUsd":%d,"apy":3.%d,"apyBase":3.%d,"apyReward":null}`, ts, 9000000000+i, i%10, i%10))
	}
	return `{"status":"success","data":[` + strings.Join(parts, ",") + `]}`
}

// newSourceService builds a service with its own copy of the embedded
// history (sources write to it) and the given sources block.
func newSourceService(t *testing.T, sources string, clock *ManualClock) *Service {
	t.Helper()
	path := writeConfig(t, "durability: normal\nsources:\n"+sources, `
  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", staleness: 12h, rebalance: "@hourly" }
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := synth.OpenDefault(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), cfg, Options{Wall: time.Now, Clock: clock, History: h, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); h.Close() })
	return s
}

func TestSource_Folder(t *testing.T) {
	drop := t.TempDir()
	s := newSourceService(t, fmt.Sprintf(`  - { name: drop, folder: %q, every: "@hourly", market: lido/steth }`, drop), NewManualClock(t0))
	ctx := context.Background()
	file := filepath.Join(drop, "steth.json")
	if err := os.WriteFile(file, []byte(llamaChart(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), 5)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drop, "README.md"), []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	type step struct {
		name   string
		change func()
		want   RefreshResult
	}
	steps := []step{
		{"first refresh imports the file", func() {}, RefreshResult{Files: 1, Inserted: 5}},
		{"second refresh skips it", func() {}, RefreshResult{Skipped: 1}},
		{"touched, same content: not imported again", func() {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(file, later, later); err != nil {
				t.Fatal(err)
			}
		}, RefreshResult{Skipped: 1}},
		{"new content: imported", func() {
			if err := os.WriteFile(file, []byte(llamaChart(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), 7)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, RefreshResult{Files: 1, Inserted: 2}},
		{"a bad file fails once and is remembered", func() {
			if err := os.WriteFile(filepath.Join(drop, "bad.json"), []byte(`{"status":"success","data":[{"timestamp":"yesterday"}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, RefreshResult{Skipped: 1, Failed: 1}},
		{"then skipped", func() {}, RefreshResult{Skipped: 2}},
	}
	for _, st := range steps {
		st.change()
		got, err := s.Refresh(ctx, "drop")
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.Inserted != st.want.Inserted || got.Files != st.want.Files || got.Skipped != st.want.Skipped || got.Failed != st.want.Failed {
			t.Errorf("%s: got %+v, want %+v", st.name, got, st.want)
		}
	}
	if got := metricValue(t, s.metrics.SourceRows.WithLabelValues("drop")); got != 7 {
		t.Errorf("source rows metric %g, want 7", got)
	}
}

func TestSource_URL(t *testing.T) {
	chart := llamaChart(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), 3)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, chart) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat(" ", 2048)+chart) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) })
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"status":"success","data":[{`) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var srcs strings.Builder
	for _, n := range []string{"ok", "big", "slow", "fail", "garbage"} {
		fmt.Fprintf(&srcs, "  - { name: %s, url: %q, every: \"@hourly\", market: lido/steth, timeout: 200ms, max_bytes: 1500 }\n", n, srv.URL+"/"+n)
	}
	s := newSourceService(t, srcs.String(), NewManualClock(t0))
	ctx := context.Background()
	tests := []struct {
		name    string
		rows    int
		errPart string
	}{
		{"ok", 3, ""},
		{"big", 0, "too large"},
		{"slow", 0, "deadline"},
		{"fail", 0, "HTTP 502"},
		{"garbage", 0, "garbage:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			got, err := s.Refresh(ctx, tc.name)
			if el := time.Since(start); el > 1500*time.Millisecond {
				t.Errorf("refresh took %s: the timeout did not hold", el)
			}
			if tc.errPart == "" {
				if err != nil || got.Inserted != tc.rows {
					t.Errorf("got %+v, %v; want %d rows", got, err, tc.rows)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("error %v, want one mentioning %q", err, tc.errPart)
			}
		})
	}
	// A second fetch of the same data changes nothing.
	if got, err := s.Refresh(ctx, "ok"); err != nil || got.Inserted != 0 {
		t.Errorf("second fetch: %+v, %v; want 0 rows", got, err)
	}
}

func TestService_StaleDataDoesNotRebalance(t *testing.T) {
	// The embedded history ends at 2025-01-01; a clock a week later sees
	// week-old data.
	start := time.Date(2025, 1, 8, 0, 0, 0, 0, time.UTC)
	clock := NewManualClock(start)
	s := newSourceService(t, `  - { name: none, folder: does-not-exist, every: "@daily" }`, clock)
	ctx := context.Background()
	if _, err := s.Advance(ctx, start.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.store.Decisions(ctx, "eth", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	stale := 0
	for _, d := range ds {
		if d.Action == ActRebalance {
			if d.Outcome != OutStale || !strings.Contains(d.Summary, "over the staleness limit 12h") {
				t.Errorf("decision %q %q, want a stale refusal naming the limit", d.Outcome, d.Summary)
			}
			stale++
		}
	}
	if stale != 3 {
		t.Errorf("%d stale rebalance decisions, want 3", stale)
	}
	// 3 rebalance ticks and 12 exit checks (every 15 minutes) refused.
	if got := metricValue(t, s.metrics.Stale.WithLabelValues("eth")); got != 15 {
		t.Errorf("stale metric %g, want 15", got)
	}
	if got := metricValue(t, s.metrics.DataAge.WithLabelValues("eth")); got < 7*24*3600 {
		t.Errorf("data age metric %g s, want at least a week", got)
	}
	var ledger int
	if err := s.store.db.QueryRow("SELECT count(*) FROM ledger WHERE type IN ('buy','sell')").Scan(&ledger); err != nil {
		t.Fatal(err)
	}
	if ledger != 0 {
		t.Errorf("%d trades on stale data, want 0", ledger)
	}
	in, err := s.store.Intent(ctx, TickKey("eth", ActRebalance, start.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := resultErr(in); !errors.Is(err, adapters.ErrStale) {
		t.Errorf("stale intent's error %v, want KindStale", err)
	}
}

// lateTransport answers with body just before the request's deadline, so
// that almost nothing of the source's timeout is left when the answer is in.
type lateTransport struct{ body string }

func (lt lateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if d, ok := r.Context().Deadline(); ok {
		time.Sleep(time.Until(d) - time.Millisecond)
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(lt.body)), ContentLength: int64(len(lt.body)), Request: r, Header: http.Header{}}, nil
}

// TestSource_URLWriteHasItsOwnDeadline: the source's timeout bounds the
// fetch, not the history write after it. The write used to inherit what was
// left of the fetch's timeout and failed with "context deadline exceeded" on
// a loaded machine (seen in CI under -race).
func TestSource_URLWriteHasItsOwnDeadline(t *testing.T) {
	chart := llamaChart(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), 3)
	s := newSourceService(t, `  - { name: late, url: "http://source.invalid/late", every: "@hourly", market: lido/steth, timeout: 200ms, max_bytes: 1500 }`, NewManualClock(t0))
	s.sources[0].client = &http.Client{Transport: lateTransport{body: chart}}
	got, err := s.Refresh(context.Background(), "late")
	if err != nil || got.Inserted != 3 {
		t.Fatalf("got %+v, %v; want 3 rows", got, err)
	}
}
