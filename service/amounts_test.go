package service

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestAPI_AmountBounds: amounts beyond the ceiling (1e309 wedged a vault
// on NaN), with absurd exponents, or over the vault's deposit_limit are
// refused before anything is journalled; the vaults stay readable.
func TestAPI_AmountBounds(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name, action, body string
		code               int
		msg                string
	}{
		{"deposit 1e309", "deposit", `{"user":"a","amount":"1e309"}`, 400, "over the ceiling"},
		{"deposit number 1e400", "deposit", `{"user":"a","amount":1e400}`, 400, "over the ceiling"},
		{"deposit just over", "deposit", `{"user":"a","amount":"1000000000000000.000000000000000001"}`, 400, "over the ceiling"},
		{"exponent bomb", "deposit", `{"user":"a","amount":"1e999999999"}`, 400, "exponent"},
		{"tiny exponent bomb", "deposit", `{"user":"a","amount":"1e-999999999"}`, 400, "exponent"},
		{"large exponent", "deposit", `{"user":"a","amount":"1e9000"}`, 400, "over the ceiling"},
		{"small exponent", "deposit", `{"user":"a","amount":"1e-9000"}`, 400, "at most 18 decimals"},
		{"withdraw 1e309", "withdraw", `{"user":"a","amount":"1e309"}`, 400, "over the ceiling"},
		{"redeem 1e309 shares", "withdraw", `{"user":"a","shares":"1e309"}`, 400, "over the ceiling"},
		{"NaN", "deposit", `{"user":"a","amount":"NaN"}`, 400, "malformed"},
		{"Infinity", "deposit", `{"user":"a","amount":"Infinity"}`, 400, "malformed"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			code, body := f.do(t, "POST", "/v1/vaults/eth/"+tc.action, testToken, "k"+string(rune('a'+i)), tc.body)
			if code != tc.code || !strings.Contains(string(body), tc.msg) {
				t.Errorf("%d %s, want %d mentioning %q", code, body, tc.code, tc.msg)
			}
			if d := time.Since(began); d > time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	var n int
	if err := f.s.store.db.QueryRow("SELECT count(*) FROM intents WHERE source = 'api'").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d API intents journalled (%v), want 0", n, err)
	}
	code, body := f.do(t, "GET", "/v1/vaults", "", "", "")
	var got struct {
		Vaults []VaultView `json:"vaults"`
	}
	if err := json.Unmarshal(body, &got); code != 200 || err != nil || len(got.Vaults) != 1 {
		t.Fatalf("GET /v1/vaults: %d %s (%v)", code, body, err)
	}
	if got.Vaults[0].NAV.Cmp(MaxAmount) >= 0 {
		t.Errorf("NAV %s after refused deposits", got.Vaults[0].NAV)
	}
}

// TestAPI_DepositLimit: a vault's deposit_limit refuses a deposit that
// would take total assets over it (422 cap_exceeded).
func TestAPI_DepositLimit(t *testing.T) {
	path := writeConfig(t, "durability: normal\ntoken: { env: T }", "  - { id: usd, strategy: $STRAT/usd-lending.yaml, deposit: \"1000\", deposit_limit: \"1500\" }\n")
	s := newTestService(t, path, NewManualClock(t0))
	h := s.Handler()
	post := func(key, amount string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/vaults/usd/deposit", strings.NewReader(`{"user":"a","amount":"`+amount+`"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set(IdempotencyHeader, key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := post("d1", "400"); rec.Code != 200 {
		t.Fatalf("deposit within the limit: %d %s", rec.Code, rec.Body)
	}
	if rec := post("d2", "200"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "cap_exceeded") {
		t.Errorf("deposit over the limit: %d %s, want 422 cap_exceeded", rec.Code, rec.Body)
	}
}

// TestLoadConfig_AmountBounds: deposit and deposit_limit in the file are
// bounded by the ceiling, and the deposit by the limit, at file:line:col.
func TestLoadConfig_AmountBounds(t *testing.T) {
	for _, tc := range []struct{ name, vault, pos, msg string }{
		{"deposit 1e400", `deposit: "1e400"`, ":5:14", "over the ceiling"},
		{"deposit number 1e400", `deposit: 1e400`, ":5:14", "over the ceiling"},
		{"limit over ceiling", `deposit_limit: "2e15"`, ":5:20", "over the ceiling"},
		{"limit zero", `deposit_limit: "0"`, ":5:20", "not a decimal > 0"},
		{"deposit over limit", "deposit_limit: \"10\"\n    deposit: \"11\"", ":6:14", "deposit_limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strat := "../examples/strategies/usd-lending.yaml"
			_, err := ParseConfig("svc.yaml", []byte("state_db: s.db\nvaults:\n  - id: v\n    strategy: "+strat+"\n    "+tc.vault+"\n"))
			if !errors.Is(err, adapters.ErrInvalid) || !strings.HasPrefix(err.Error(), "svc.yaml"+tc.pos) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ParseConfig = %v, want invalid at svc.yaml%s mentioning %q", err, tc.pos, tc.msg)
			}
		})
	}
}

// TestWriteJSON_Unencodable: a body that cannot be encoded answers 500
// with an error body, and the request log says why; never a 200 with an
// empty body.
func TestWriteJSON_Unencodable(t *testing.T) {
	var logs syncBuf
	s := &Service{metrics: NewMetrics(), log: slogTo(&logs), wall: time.Now}
	h := s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]float64{"apy": math.NaN()})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/vaults", nil))
	var e apiError
	if rec.Code != 500 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != "internal" {
		t.Errorf("answer %d %q, want 500 with an internal error body", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "encoding the response failed") {
		t.Errorf("no log line for the failed encoding:\n%s", logs.String())
	}
}

// TestFinite: the float fields the API and the metrics show are never
// NaN or Inf.
func TestFinite(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := finite(x); got != 0 {
			t.Errorf("finite(%g) = %g, want 0", x, got)
		}
	}
	if got := finite(0.25); got != 0.25 {
		t.Errorf("finite(0.25) = %g", got)
	}
}
