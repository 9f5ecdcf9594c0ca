package service

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNotifier_Retries checks the webhooks' delivery: a webhook that
// fails twice gets the alert on the third attempt, after waits of the
// backoff and twice it; one that always fails is tried 5 times, then
// given up and counted as failed; the generic body is the Alert as JSON;
// and the URL's query (a secret) never reaches the log.
func TestNotifier_Retries(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	var bodies [][]byte
	failFirst := 2
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		at = append(at, time.Now())
		bodies = append(bodies, b)
		if len(at) <= failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer flaky.Close()
	var down int
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		down++
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer dead.Close()

	var logs syncLog
	m := NewMetrics()
	n := newNotifier([]WebhookSpec{
		{URL: flaky.URL + "/hook?token=s3cret", Format: WebhookGeneric, Timeout: time.Second},
		{URL: dead.URL + "/hook?token=s3cret", Format: WebhookAlertmanager, Timeout: time.Second},
	}, slog.New(slog.NewTextHandler(&logs, nil)), m)
	const backoff = 30 * time.Millisecond
	n.backoff = backoff
	a := Alert{Vault: "v", Monitor: "peg-below", Status: "firing", Severity: "critical", Action: "exit", Markets: []string{"lido/steth"},
		When: "peg < 0.98", Summary: "s", Time: time.Date(2022, 5, 13, 18, 0, 0, 0, time.UTC), WallTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	n.Send(a)
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, m.Notifications.WithLabelValues("failed")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dead webhook was not given up within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 3 {
		t.Fatalf("the flaky webhook got %d posts, want 3 (2 failed, 1 delivered)", len(at))
	}
	if d1, d2 := at[1].Sub(at[0]), at[2].Sub(at[1]); d1 < backoff || d2 < 2*backoff {
		t.Errorf("waits between attempts %s and %s, want at least %s and %s", d1, d2, backoff, 2*backoff)
	}
	if down != 5 {
		t.Errorf("the dead webhook got %d attempts, want 5", down)
	}
	if s, f := metricValue(t, m.Notifications.WithLabelValues("sent")), metricValue(t, m.Notifications.WithLabelValues("failed")); s != 1 || f != 1 {
		t.Errorf("alert_notifications_total sent %g failed %g, want 1 and 1", s, f)
	}
	var got Alert
	if err := json.Unmarshal(bodies[2], &got); err != nil || got.Monitor != a.Monitor || !got.Time.Equal(a.Time) || got.Markets[0] != "lido/steth" {
		t.Errorf("generic body %s (%v), want the alert as JSON", bodies[2], err)
	}
	if s := logs.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "giving up") {
		t.Errorf("log %q: want the give-up logged and no URL query", s)
	}
}

// TestNotifier_NeverBlocks: with a webhook that hangs, Send still
// returns at once: the queue takes 256 alerts, and the ones beyond are
// dropped and counted; Close returns once the hung attempt times out.
func TestNotifier_NeverBlocks(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	m := NewMetrics()
	n := newNotifier([]WebhookSpec{{URL: hung.URL, Format: WebhookGeneric, Timeout: 300 * time.Millisecond}}, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	const sends = notifyQueue + 50
	start := time.Now()
	for i := 0; i < sends; i++ {
		n.Send(Alert{Vault: "v", Monitor: "m", Status: "firing"})
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("%d sends to a hung webhook took %s: Send blocked", sends, took)
	}
	// One alert may have left the queue for the hung attempt.
	if d := metricValue(t, m.Notifications.WithLabelValues("dropped")); d < sends-notifyQueue-1 || d > sends-notifyQueue {
		t.Errorf("dropped %g alerts, want %d or %d", d, sends-notifyQueue-1, sends-notifyQueue)
	}
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s with a hung webhook")
	}
}

// syncLog is a log buffer written from the notifier's goroutine.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
