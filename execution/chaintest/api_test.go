package chaintest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/service"
)

// chainAPI is a service on the simulated chain (manual clock, the
// embedded history) behind a test HTTP server.
type chainAPI struct {
	svc *service.Service
	srv *httptest.Server
}

// startChainService builds the service of conf on c's chain with clock
// (nil: a manual clock at 2024-03-01) and market history hist (nil: the
// embedded default) and serves its API; all close at the test's end.
func startChainService(t *testing.T, ctx context.Context, conf *service.Config, c *chain, clock *service.ManualClock, hist *history.DB) *chainAPI {
	t.Helper()
	if hist == nil {
		var err error
		if hist, err = synth.OpenDefault(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hist.Close() })
	}
	if clock == nil {
		clock = service.NewManualClock(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	}
	svc, err := service.New(ctx, conf, service.Options{
		Wall: time.Now, Clock: clock, History: hist, Manual: true,
		Getenv: func(k string) string {
			if k == "YV_TEST_TOKEN" {
				return serviceToken
			}
			return ""
		},
		ChainClient: c.client,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &chainAPI{svc: svc, srv: srv}
}

// call sends a request to the API: with key, authorised and with that
// idempotency key; with a body, as JSON. It returns the status and body.
func (a *chainAPI) call(t *testing.T, method, path, key, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+serviceToken)
		req.Header.Set(service.IdempotencyHeader, key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
