package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// apiFixture is a service with one vault behind an httptest server, its
// logs captured.
type apiFixture struct {
	s    *Service
	srv  *httptest.Server
	logs *bytes.Buffer
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	path := writeConfig(t, "durability: normal\ntoken: { env: YV_TEST_TOKEN }\nmax_body_bytes: 1024", `
  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly", staleness: 12h }
`)
	return newAPIFixtureAt(t, path)
}

// newAPIFixtureAt is newAPIFixture on a config file of the caller's.
func newAPIFixtureAt(t *testing.T, path string) *apiFixture {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	s, err := New(context.Background(), cfg, Options{
		Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: func(k string) string {
			if k == "YV_TEST_TOKEN" {
				return testToken
			}
			return ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return &apiFixture{s: s, srv: srv, logs: logs}
}

func (f *apiFixture) do(t *testing.T, method, path, token, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set(IdempotencyHeader, key)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// snapshot is what a state-changing request may change.
func (f *apiFixture) snapshot(t *testing.T) string {
	t.Helper()
	var sb strings.Builder
	for _, q := range []string{"SELECT version, paused, state_json FROM vaults", "SELECT count(*) FROM intents", "SELECT count(*) FROM ledger", "SELECT count(*) FROM decisions"} {
		rows, err := f.s.store.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				sb.WriteString(strings.TrimSpace(string(mustJSON(v))))
				sb.WriteByte('|')
			}
		}
		rows.Close()
	}
	return sb.String()
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestHandler_AuthRequired(t *testing.T) {
	f := newAPIFixture(t)
	before := f.snapshot(t)
	bodies := map[string]string{"deposit": `{"user":"alice","amount":"1"}`, "withdraw": `{"user":"treasury","amount":"1"}`}
	for _, a := range []string{"rebalance", "harvest", "deposit", "withdraw", "pause", "resume"} {
		for _, tc := range []struct{ name, token string }{{"no token", ""}, {"wrong token", "not-the-token-0123456789"}, {"token prefix", testToken[:10]}, {"token plus", testToken + "x"}} {
			t.Run(a+"/"+tc.name, func(t *testing.T) {
				code, body := f.do(t, "POST", "/v1/vaults/eth/"+a, tc.token, "k-"+a, bodies[a])
				if code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401 (body %s)", code, body)
				}
				var e apiError
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "unauthorized" {
					t.Errorf("body %s: want a JSON error with code unauthorized", body)
				}
			})
		}
	}
	if after := f.snapshot(t); after != before {
		t.Errorf("unauthorized requests changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

func TestHandler_BadRequests(t *testing.T) {
	f := newAPIFixture(t)
	before := f.snapshot(t)
	big := `{"user":"alice","amount":"1","note":"` + strings.Repeat("x", 4096) + `"}`
	tests := []struct {
		name, path, key, body string
		code                  int
		errCode               string
	}{
		{"oversized", "/v1/vaults/eth/deposit", "k1", big, http.StatusRequestEntityTooLarge, "too_large"},
		{"malformed", "/v1/vaults/eth/deposit", "k2", `{"user":"alice","amount":`, http.StatusBadRequest, "invalid"},
		{"unknown field", "/v1/vaults/eth/deposit", "k3", `{"user":"alice","amount":"1","extra":1}`, http.StatusBadRequest, "invalid"},
		{"two values", "/v1/vaults/eth/deposit", "k4", `{"user":"a","amount":"1"}{}`, http.StatusBadRequest, "invalid"},
		{"negative amount", "/v1/vaults/eth/deposit", "k5", `{"user":"alice","amount":"-1"}`, http.StatusBadRequest, "invalid"},
		{"too many decimals", "/v1/vaults/eth/deposit", "k6", `{"user":"alice","amount":"0.0000000000000000001"}`, http.StatusBadRequest, "invalid"},
		{"no user", "/v1/vaults/eth/deposit", "k7", `{"amount":"1"}`, http.StatusBadRequest, "invalid"},
		{"withdraw both", "/v1/vaults/eth/withdraw", "k8", `{"user":"treasury","amount":"1","shares":"1"}`, http.StatusBadRequest, "invalid"},
		{"amount on pause", "/v1/vaults/eth/pause", "k9", `{"amount":"1"}`, http.StatusBadRequest, "invalid"},
		{"no idempotency key", "/v1/vaults/eth/deposit", "", `{"user":"alice","amount":"1"}`, http.StatusBadRequest, "invalid"},
		{"bad idempotency key", "/v1/vaults/eth/deposit", "a b", `{"user":"alice","amount":"1"}`, http.StatusBadRequest, "invalid"},
		{"unknown vault", "/v1/vaults/nope/deposit", "k10", `{"user":"alice","amount":"1"}`, http.StatusNotFound, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, "POST", tc.path, testToken, tc.key, tc.body)
			if code != tc.code {
				t.Errorf("status %d, want %d (body %s)", code, tc.code, body)
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != tc.errCode {
				t.Errorf("body %s: want a JSON error with code %s", body, tc.errCode)
			}
		})
	}
	if after := f.snapshot(t); after != before {
		t.Errorf("bad requests changed the database:\nbefore %s\nafter  %s", before, after)
	}
	if strings.Contains(f.logs.String(), testToken) {
		t.Errorf("the logs contain the token")
	}
}

func TestHandler_DepositIdempotent(t *testing.T) {
	f := newAPIFixture(t)
	code, body := f.do(t, "POST", "/v1/vaults/eth/deposit", testToken, "dep-1", `{"user":"alice","amount":"2.5"}`)
	if code != http.StatusOK {
		t.Fatalf("deposit: status %d, body %s", code, body)
	}
	code2, body2 := f.do(t, "POST", "/v1/vaults/eth/deposit", testToken, "dep-1", `{"user":"alice","amount":"2.5"}`)
	if code2 != http.StatusOK || !bytes.Equal(body, body2) {
		t.Errorf("retry: status %d body %s, want 200 and the first answer %s", code2, body2, body)
	}
	code3, body3 := f.do(t, "POST", "/v1/vaults/eth/deposit", testToken, "dep-1", `{"user":"alice","amount":"3"}`)
	if code3 != http.StatusConflict {
		t.Errorf("same key, other body: status %d (body %s), want 409", code3, body3)
	}
	var n int
	if err := f.s.store.db.QueryRow("SELECT count(*) FROM ledger WHERE type = 'deposit' AND user = 'alice'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d deposit entries for alice, want 1", n)
	}
	// Pause refuses deposits; resume allows them again.
	if code, body := f.do(t, "POST", "/v1/vaults/eth/pause", testToken, "p1", `{"note":"maintenance"}`); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/v1/vaults/eth/deposit", testToken, "dep-2", `{"user":"bob","amount":"1"}`); code != http.StatusConflict || !strings.Contains(string(body), `"paused"`) {
		t.Errorf("deposit while paused: %d %s, want 409 paused", code, body)
	}
	if code, body := f.do(t, "POST", "/v1/vaults/eth/resume", testToken, "r1", ``); code != http.StatusOK {
		t.Fatalf("resume: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/v1/vaults/eth/withdraw", testToken, "w1", `{"user":"alice","amount":"1"}`); code != http.StatusOK {
		t.Errorf("withdraw: %d %s", code, body)
	}
	for _, w := range []string{f.logs.String()} {
		if strings.Contains(w, testToken) {
			t.Errorf("the logs contain the token")
		}
	}
}

func TestHandler_Reads(t *testing.T) {
	f := newAPIFixture(t)
	if _, err := f.s.Advance(context.Background(), t0.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/healthz", 200, `"ok"`},
		{"/readyz", 200, `"ready":true`},
		{"/metrics", 200, "yieldvault_vault_nav{asset=\"ETH\",vault=\"eth\"}"},
		{"/v1/vaults", 200, `"id":"eth"`},
		{"/v1/vaults/eth", 200, `"share_price"`},
		{"/v1/vaults/eth/decisions?limit=2", 200, `"next"`},
		{"/v1/vaults/eth/decisions?limit=1&detail=1", 200, `"decision"`},
		{"/v1/vaults/eth/decisions?limit=0", 400, `"invalid"`},
		{"/v1/vaults/eth/plan", 200, `"explanation"`},
		{"/v1/vaults/none", 404, `"not_found"`},
		{"/v2/nothing", 404, `"not_found"`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			code, body := f.do(t, "GET", tc.path, "", "", "")
			if code != tc.code || !strings.Contains(string(body), tc.want) {
				t.Errorf("GET %s: %d, want %d containing %q; body %.300s", tc.path, code, tc.code, tc.want, body)
			}
			if strings.Contains(string(body), testToken) {
				t.Errorf("GET %s leaks the token", tc.path)
			}
		})
	}
}
