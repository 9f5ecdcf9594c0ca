package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap samples the heap in use until stop is called and returns the
// peak seen.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		sample()
		return peak.Load()
	}
}

// BenchmarkService_Week100Vaults runs 100 vaults (50 ETH LST/LRT, 50 USD
// lending) on hourly rebalance and exit-check schedules and daily harvests
// over a simulated week on a fake clock, against a state database on
// disk (durability normal): 100 x (168 + 168 + 7) intents per op. It
// reports the decision time per intent and the peak heap in use, with the
// built-in risk monitors (evaluated in every rebalance and exit check) and
// without any.
func BenchmarkService_Week100Vaults(b *testing.B) {
	for _, mon := range []struct{ name, yaml string }{{"builtin-monitors", ""}, {"no-monitors", ", monitors: { builtin: false }"}} {
		b.Run(mon.name, func(b *testing.B) { benchWeek100(b, mon.yaml) })
	}
}

func benchWeek100(b *testing.B, extra string) {
	var vaults strings.Builder
	for i := 0; i < 100; i++ {
		strat := "lst-lrt-balanced.yaml"
		dep := "100"
		if i%2 == 1 {
			strat, dep = "usd-lending.yaml", "250000"
		}
		fmt.Fprintf(&vaults, "  - { id: v%03d, strategy: $STRAT/%s, deposit: %q, rebalance: \"@hourly\", exit_check: \"@hourly\", harvest: \"@daily\"%s }\n", i, strat, dep, extra)
	}
	sharedHistory(b)
	ctx := context.Background()
	var intents int
	var peak uint64
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		path := writeConfig(b, "durability: normal", vaults.String())
		runtime.GC()
		stop := peakHeap()
		b.StartTimer()
		s := newTestService(b, path, NewManualClock(t0))
		if _, err := s.Advance(ctx, t0.Add(7*24*time.Hour)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if p := stop(); p > peak {
			peak = p
		}
		var k int
		if err := s.store.db.QueryRow("SELECT count(*) FROM intents WHERE status = 'done' AND source = 'schedule'").Scan(&k); err != nil {
			b.Fatal(err)
		}
		if k != 100*(168+168+7) {
			b.Fatalf("%d scheduled intents done, want %d", k, 100*(168+168+7))
		}
		intents += k
		s.Close()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(intents), "ns/intent")
	b.ReportMetric(float64(intents)/float64(b.N), "intents/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// TestAPI_Load drives the read API on loopback with mixed GETs at a
// fixed rate while a replay scheduler runs the vaults' schedules, and
// reports p50/p99 latency and the error count. It runs only with
// YIELDVAULT_LOADTEST=1 (rate YIELDVAULT_LOADTEST_RPS, default 2000, for
// YIELDVAULT_LOADTEST_SECONDS, default 10).
func TestAPI_Load(t *testing.T) {
	if os.Getenv("YIELDVAULT_LOADTEST") != "1" {
		t.Skip("set YIELDVAULT_LOADTEST=1 to run the load test")
	}
	rps, secs := 2000, 10
	fmt.Sscan(os.Getenv("YIELDVAULT_LOADTEST_RPS"), &rps)
	fmt.Sscan(os.Getenv("YIELDVAULT_LOADTEST_SECONDS"), &secs)
	path := writeConfig(t, "durability: normal\nreplay: { start: 2024-03-01, speed: 3600 }", `
  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly", exit_check: "@hourly" }
  - { id: usd, strategy: $STRAT/usd-lending.yaml, deposit: "250000", rebalance: "@hourly" }
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg, Options{Wall: time.Now, History: sharedHistory(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	paths := []string{"/v1/vaults", "/v1/vaults/eth", "/v1/vaults/usd", "/v1/vaults/eth/decisions?limit=20", "/healthz", "/v1/vaults/usd/decisions", "/metrics", "/v1/vaults/eth/plan"}
	// Weighted: plan and metrics are rarer.
	mix := []int{0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 1, 2, 0, 3, 4, 7}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 5 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	sem := make(chan struct{}, 256) // bounded concurrency
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rps)
	total := rps * secs
	startAt := time.Now()
	for i := 0; i < total; i++ {
		if d := time.Until(startAt.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(p string) {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			resp, err := client.Get(base + p)
			if err == nil {
				_, _ = drain(resp)
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			d := time.Since(t0)
			if err != nil {
				errs.Add(1)
				return
			}
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}(paths[mix[i%len(mix)]])
	}
	wg.Wait()
	elapsed := time.Since(startAt)
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		t.Fatalf("no successful requests, %d errors", errs.Load())
	}
	var done int
	_ = s.store.db.QueryRow("SELECT count(*) FROM intents WHERE status = 'done' AND source = 'schedule'").Scan(&done)
	t.Logf("%d requests in %s (%.0f/s): p50 %s, p99 %s, max %s, errors %d; %d scheduled intents done meanwhile",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1], errs.Load(), done)
	if errs.Load() > 0 {
		t.Errorf("%d requests failed", errs.Load())
	}
}

func drain(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err != nil {
			return n, nil
		}
	}
}
