package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// IdempotencyHeader is the request header that names a state-changing
// request; a retry with the same key and body returns the first answer.
const IdempotencyHeader = "Idempotency-Key"

var idemRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Handler returns the HTTP API.
func (s *Service) Handler() http.Handler {
	return s.logRequests(s.routes().ServeMux)
}

// routeMux is a ServeMux that records its patterns (the OpenAPI test
// compares them with openapi.yaml).
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(p string, h http.Handler) {
	m.patterns = append(m.patterns, p)
	m.ServeMux.Handle(p, h)
}

func (m *routeMux) HandleFunc(p string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(p, http.HandlerFunc(h))
}

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI is the API's OpenAPI 3 description (served at /openapi.yaml).
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// routes registers every route of the API.
func (s *Service) routes() *routeMux {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{"ready": s.ready.Load(), "leader": s.isLeader(), "time": s.clock.Now()}
		if n := s.missing.Load(); n > 0 {
			body["vaults_missing"] = n // a standby waiting for the lease holder to create them
		}
		code := http.StatusOK
		if !s.ready.Load() {
			code = http.StatusServiceUnavailable
		}
		if b := s.blocked.Load(); b != nil {
			// No process can write: a hung lease holder keeps the lock.
			body["ready"] = false
			body["write_blocked"] = map[string]any{"since": b.Since.UTC(), "holder": b.Holder, "lease_expired": b.Expired, "lease_expires": b.Expires, "message": b.Message}
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/vaults", s.getVaults)
	mux.HandleFunc("GET /v1/vaults/{id}", s.getVault)
	mux.HandleFunc("GET /v1/vaults/{id}/decisions", s.getDecisions)
	mux.HandleFunc("GET /v1/vaults/{id}/plan", s.getPlan)
	mux.HandleFunc("GET /v1/vaults/{id}/proposals", s.getProposals)
	mux.HandleFunc("GET /v1/vaults/{id}/proposals/{name}", s.getProposal)
	mux.HandleFunc("GET /v1/vaults/{id}/monitors", s.getMonitors)
	mux.HandleFunc("GET /v1/vaults/{id}/series", s.getSeries)
	mux.HandleFunc("GET /{$}", s.getDashboard)
	mux.HandleFunc("GET /dashboard.js", s.getDashboardJS)
	for _, a := range postActions {
		a := a
		mux.HandleFunc("POST /v1/vaults/{id}/"+string(a), func(w http.ResponseWriter, r *http.Request) { s.post(w, r, a) })
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	code int
	// encErr is a response body that could not be encoded (answered 500).
	encErr error
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// logRequests logs each request (method, path, status, duration; never
// headers, so never the token) and counts it by route.
func (s *Service) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.wall()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		dur := s.wall().Sub(start)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "other"
		}
		s.metrics.HTTP.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.metrics.HTTPDuration.WithLabelValues(route).Observe(dur.Seconds())
		if sw.encErr != nil {
			s.log.Error("encoding the response failed: answered 500", "method", r.Method, "path", r.URL.Path, "err", sw.encErr)
		}
		lvl := slog.LevelDebug
		if r.Method != http.MethodGet || sw.code >= 400 {
			lvl = slog.LevelInfo
		}
		s.log.Log(r.Context(), lvl, "http", "method", r.Method, "path", r.URL.Path, "status", sw.code, "dur", dur.Round(time.Microsecond))
	})
}

// writeJSON encodes v in full before writing the status: a value that
// cannot be encoded (a NaN, say) answers 500 with an error body, and the
// request log records why, instead of a 200 with an empty body.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if sw, ok := w.(*statusWriter); ok {
			sw.encErr = err
		}
		code = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error: the response could not be encoded"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// apiError is the body of every error answer.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = errCode, msg
	writeJSON(w, code, e)
}

// writeErr maps an error to a status and code.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
		return
	case errors.Is(err, ErrWriteBlocked):
		// Another process keeps the write lock (see /readyz): retry later
		// with the same Idempotency-Key.
		writeError(w, http.StatusServiceUnavailable, "write_blocked", "the state database cannot be written now (another process keeps its write lock); retry with the same Idempotency-Key")
		return
	case errors.Is(err, execution.ErrFenced):
		// Send mode sends only from the lease holder, and this process
		// does not hold it (any more): nothing was broadcast.
		writeError(w, http.StatusServiceUnavailable, "not_ready", "this process does not hold the lease, and in send mode only the lease holder sends transactions: nothing was sent; retry with the same Idempotency-Key")
		return
	}
	var e *adapters.Error
	if !errors.As(err, &e) {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	switch e.Kind {
	case adapters.KindInvalid:
		writeError(w, http.StatusUnprocessableEntity, "invalid", err.Error())
	case adapters.KindNotFound:
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case adapters.KindInsufficientLiquidity:
		writeError(w, http.StatusConflict, "insufficient_liquidity", err.Error())
	case adapters.KindCapExceeded:
		writeError(w, http.StatusUnprocessableEntity, "cap_exceeded", err.Error())
	case adapters.KindStale:
		writeError(w, http.StatusConflict, "stale", err.Error())
	case adapters.KindPaused:
		writeError(w, http.StatusConflict, "paused", err.Error())
	case adapters.KindNotReady:
		writeError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// authorized checks the bearer token in constant time (over SHA-256
// digests, so the comparison does not depend on the token's length).
func (s *Service) authorized(r *http.Request) bool {
	if s.token == nil {
		return false
	}
	h := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256(s.token)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// VaultView is a vault as GET /v1/vaults shows it.
type VaultView struct {
	VaultSummary
	Base          adapters.Asset    `json:"base"`
	Strategy      string            `json:"strategy"`
	Paused        bool              `json:"paused"`
	Version       int64             `json:"version"`
	LastHarvest   time.Time         `json:"last_harvest,omitzero"`
	LastRebalance time.Time         `json:"last_rebalance,omitzero"`
	Ticks         Ticks             `json:"ticks"`
	Schedules     map[string]string `json:"schedules"`
	Staleness     string            `json:"staleness,omitempty"`
	// Alerts are the risk monitors firing, as the lease holder last
	// evaluated them (a standby shows none).
	Alerts []monitor.Firing `json:"alerts"`
	// Exits are the held positions' exit routes now.
	Exits []ExitRoute `json:"exits"`
	// Loops are the held leveraged loops' figures now: leverage, health
	// factor, distance to liquidation.
	Loops []LoopView `json:"loops"`
}

// viewCache holds a vault's view at a version: reads cost one indexed
// lookup until the vault changes.
type viewCache struct {
	build   sync.Mutex // one rebuild at a time (no thundering herd)
	mu      sync.Mutex
	version int64
	view    VaultView
	plan    *PlanView
	planAt  time.Time // wall time the plan was computed
	planVer int64
}

func (s *Service) view(ctx context.Context, rt *vaultRT) (VaultView, error) {
	var ver int64
	if err := s.store.queryRow(ctx, nil, "SELECT version FROM vaults WHERE id = ?", rt.id).Scan(&ver); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return VaultView{}, adapters.E("service.view", adapters.KindNotReady, "vault %s does not exist yet: the lease holder creates it", rt.id)
		}
		return VaultView{}, adapters.Wrap("service.view", adapters.KindOther, err)
	}
	rt.cache.mu.Lock()
	if rt.cache.version == ver && ver != 0 {
		v := rt.cache.view
		rt.cache.mu.Unlock()
		return v, nil
	}
	rt.cache.mu.Unlock()
	rt.cache.build.Lock()
	defer rt.cache.build.Unlock()
	rt.cache.mu.Lock()
	if rt.cache.version >= ver && ver != 0 {
		v := rt.cache.view
		rt.cache.mu.Unlock()
		return v, nil
	}
	rt.cache.mu.Unlock()
	v, err := s.buildView(ctx, rt)
	if err != nil {
		return v, err
	}
	rt.cache.mu.Lock()
	if v.Version >= rt.cache.version {
		rt.cache.version, rt.cache.view = v.Version, v
	}
	rt.cache.mu.Unlock()
	return v, nil
}

func (s *Service) buildView(ctx context.Context, rt *vaultRT) (VaultView, error) {
	row, err := s.store.Vault(ctx, rt.id)
	if err != nil {
		return VaultView{}, err
	}
	v, err := rt.restore(row)
	if err != nil {
		return VaultView{}, adapters.Wrap("service.view", adapters.KindOther, err)
	}
	w, err := rt.window(ctx)
	if err != nil {
		return VaultView{}, err
	}
	if _, err := v.ObserveWindow(w, row.State.Time, rt.gas()); err != nil {
		return VaultView{}, err
	}
	vw := VaultView{VaultSummary: Summarize(v), Base: row.Config.Base, Strategy: rt.spec.Strategy.Name(), Paused: row.Paused, Version: row.Version,
		LastHarvest: row.LastHarvest, LastRebalance: row.LastRebalance, Ticks: row.Ticks,
		Schedules: map[string]string{"rebalance": rt.spec.Rebalance.Spec, "harvest": rt.spec.Harvest.Spec, "exit_check": rt.spec.ExitCheck.Spec}}
	vw.ID = rt.id
	vw.Exits = exitRoutes(rt, v)
	vw.Loops = loopViews(rt, v)
	if rt.spec.Staleness > 0 {
		vw.Staleness = rt.spec.Staleness.String()
	}
	return vw, nil
}

func (s *Service) vaultOf(w http.ResponseWriter, r *http.Request) *vaultRT {
	rt := s.vaults[r.PathValue("id")]
	if rt == nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no vault %q", r.PathValue("id")))
	}
	return rt
}

func (s *Service) getVaults(w http.ResponseWriter, r *http.Request) {
	out := make([]VaultView, 0, len(s.order))
	for _, id := range s.order {
		v, err := s.view(r.Context(), s.vaults[id])
		if err != nil {
			writeErr(w, err)
			return
		}
		v.Alerts = s.vaults[id].alerts.List()
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"vaults": out})
}

func (s *Service) getVault(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	v, err := s.view(r.Context(), rt)
	if err != nil {
		writeErr(w, err)
		return
	}
	v.Alerts = rt.alerts.List()
	writeJSON(w, http.StatusOK, v)
}

// getMonitors lists a vault's monitors: condition, action, severity, the
// basis of a built-in's threshold, and the markets each fires on now.
func (s *Service) getMonitors(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	type mv struct {
		monitor.Monitor
		Firing []string  `json:"firing"`
		Since  time.Time `json:"since,omitzero"`
	}
	firing := map[string]monitor.Firing{}
	for _, f := range rt.alerts.List() {
		firing[f.Monitor] = f
	}
	out := make([]mv, 0, len(rt.spec.Monitors))
	for _, m := range rt.spec.Monitors {
		f := firing[m.Name]
		out = append(out, mv{Monitor: m, Firing: append([]string{}, f.Markets...), Since: f.Since})
	}
	writeJSON(w, http.StatusOK, map[string]any{"vault": rt.id, "monitors": out})
}

func (s *Service) getDecisions(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	q := r.URL.Query()
	limit, before := 50, int64(0)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "invalid", "limit must be an integer in [1, 500]")
			return
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid", "before must be a positive decision id")
			return
		}
		before = n
	}
	// Details (inputs, orders, rejections) only with ?detail=1.
	ds, err := s.store.decisions(r.Context(), rt.id, before, limit, q.Get("detail") == "1")
	if err != nil {
		writeErr(w, err)
		return
	}
	body := map[string]any{"decisions": ds}
	if len(ds) == limit {
		body["next"] = fmt.Sprintf("/v1/vaults/%s/decisions?limit=%d&before=%d", rt.id, limit, ds[len(ds)-1].ID)
	}
	writeJSON(w, http.StatusOK, body)
}

// PlanView is the answer of the dry-run plan endpoint.
type PlanView struct {
	Vault       string            `json:"vault"`
	Time        time.Time         `json:"time"`
	DataAge     string            `json:"data_age"`
	Stale       bool              `json:"stale"`
	Target      strategies.Target `json:"target"`
	Decision    vault.Decision    `json:"decision"`
	Explanation string            `json:"explanation"`
	Condition   string            `json:"condition,omitempty"`
	WouldTrade  bool              `json:"would_trade"`
}

// planTTL is how long a computed plan is served again (wall time) while
// the vault does not change.
const planTTL = time.Second

// getPlan decides at the service's time on the committed state and
// explains the decision; nothing is executed or stored. A plan is reused
// for up to planTTL while the vault's version stays the same.
func (s *Service) getPlan(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	ctx := r.Context()
	row, err := s.store.Vault(ctx, rt.id)
	if err != nil {
		writeErr(w, err)
		return
	}
	now := s.wall()
	cached := func() bool {
		rt.cache.mu.Lock()
		defer rt.cache.mu.Unlock()
		if p := rt.cache.plan; p != nil && rt.cache.planVer == row.Version && now.Sub(rt.cache.planAt) < planTTL {
			writeJSON(w, http.StatusOK, p)
			return true
		}
		return false
	}
	if cached() {
		return
	}
	rt.cache.build.Lock()
	defer rt.cache.build.Unlock()
	if cached() {
		return
	}
	v, err := rt.restore(row)
	if err != nil {
		writeErr(w, adapters.Wrap("service.plan", adapters.KindOther, err))
		return
	}
	t := s.clock.Now()
	if t.Before(row.State.Time) {
		t = row.State.Time
	}
	win, err := rt.window(ctx)
	if err != nil {
		writeErr(w, err)
		return
	}
	fr, err := v.FeedWindow(win, t, rt.gas())
	if err != nil {
		writeErr(w, err)
		return
	}
	age := fr.Age
	target, err := rt.spec.Strategy.Plan(ctx, rt.runner(v, win, Intent{}).State())
	if err != nil {
		writeErr(w, err)
		return
	}
	d, err := v.Decide(t, time.Time{}, vault.TriggerManual, target)
	if err != nil {
		writeErr(w, err)
		return
	}
	pv := PlanView{Vault: rt.id, Time: t, DataAge: fmtAge(age), Stale: rt.spec.Staleness > 0 && age > rt.spec.Staleness, Target: target, Decision: d, Explanation: d.String()}
	if sc, ok := any(rt.spec.Strategy).(strategies.Scheduled); ok {
		ok, why, err := sc.ShouldRebalance(d.Vars(v))
		if err == nil {
			pv.Condition = fmt.Sprintf("%t: %s", ok, why)
			pv.WouldTrade = ok && len(d.Orders) > 0 && !pv.Stale
		}
	}
	rt.cache.mu.Lock()
	rt.cache.plan, rt.cache.planAt, rt.cache.planVer = &pv, now, row.Version
	rt.cache.mu.Unlock()
	writeJSON(w, http.StatusOK, pv)
}

// post runs a state-changing request as an intent. The order of checks:
// token (401, before anything is read), vault (404), idempotency key
// (400), body size (413) and shape (400), then the action.
func (s *Service) post(w http.ResponseWriter, r *http.Request, a Action) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yieldvault"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
		return
	}
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	if _, err := s.store.Vault(r.Context(), rt.id); err != nil {
		// Not created yet (a standby waiting for the lease holder): nothing
		// is journalled, so nothing runs later behind the client's back.
		if adapters.KindOf(err) == adapters.KindNotFound {
			err = adapters.E("service.post", adapters.KindNotReady, "vault %s does not exist yet: the lease holder creates it", rt.id)
		}
		writeErr(w, err)
		return
	}
	key := r.Header.Get(IdempotencyHeader)
	if !idemRE.MatchString(key) {
		writeError(w, http.StatusBadRequest, "invalid", IdempotencyHeader+" header is required: 1 to 128 characters of A-Z a-z 0-9 . _ : -")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is over %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid", "reading the body failed")
		return
	}
	req, msg := parseRequest(a, body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	if msg := s.onChainRule(rt.id, a, req); msg != "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	canon, _ := json.Marshal(req)
	in := Intent{Key: rt.id + "/api/" + key, VaultID: rt.id, Action: a, Tick: s.clock.Now(), Source: SourceAPI, Request: canon, Hash: RequestHash(a, canon)}
	replayed := false
	if prev, err := s.store.Intent(r.Context(), in.Key); err == nil && prev.Status == "done" {
		replayed = true
	}
	done, err := rt.do(r.Context(), in)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	var res actionResult
	_ = json.Unmarshal(done.Result, &res)
	writeJSON(w, http.StatusOK, map[string]any{"intent": done.Key, "action": a, "outcome": done.Outcome, "time": done.Tick, "summary": res.Summary, "detail": res.Detail})
}

// txRE is a transaction hash.
var txRE = regexp.MustCompile(`^0[xX][0-9a-fA-F]{64}$`)

// onChainRule is what propose and send modes ask of a deposit or a
// withdrawal ("" when it is good): the book follows the chain, so a
// deposit names the transfer that brought the asset to the vault's
// address (checked on chain when it runs), and a withdrawal cannot be
// paid by the service, whose calls send tokens only to the vault's own
// address.
func (s *Service) onChainRule(vaultID string, a Action, req request) string {
	x := s.cfg.Execution
	if x == nil || x.Mode == execution.ModePaper {
		if req.Tx != "" {
			return "tx applies in propose and send modes only: in paper mode a deposit or withdrawal moves the book alone"
		}
		return ""
	}
	addr := x.Vaults[vaultID].Hex()
	switch a {
	case ActDeposit:
		if req.Tx == "" {
			return fmt.Sprintf("in %s mode a deposit must name the on-chain transfer that brought the asset to the vault's address %s: {\"user\": ..., \"amount\": ..., \"tx\": \"0x...\"}", x.Mode, addr)
		}
		if s.chain == nil {
			return "propose mode checks a deposit's transfer on chain through execution.rpc, which is not set: set it to book deposits"
		}
	case ActWithdraw:
		if req.Tx == "" {
			return fmt.Sprintf("in %s mode the service does not pay withdrawals: its transactions may send tokens only to the vault's own address %s (the allowlist). The Safe's owners pay: they transfer the amount out of the vault's address, then name that transfer: {\"user\": ..., \"amount\": ... (or \"shares\": ...), \"tx\": \"0x...\"} (docs/operations.md, deposits and withdrawals on chain)", x.Mode, addr)
		}
		if s.chain == nil {
			return "propose mode checks a withdrawal's transfer on chain through execution.rpc, which is not set: set it to book withdrawals"
		}
	}
	return ""
}

// parseRequest decodes and checks a request body ("" when it is good).
func parseRequest(a Action, body []byte) (request, string) {
	var req request
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return req, "malformed JSON body: " + err.Error()
		}
		if dec.More() {
			return req, "malformed JSON body: more than one value"
		}
	}
	if len(req.Note) > 500 {
		return req, "note is longer than 500 characters"
	}
	switch a {
	case ActDeposit, ActWithdraw:
		if req.User == "" || len(req.User) > 128 {
			return req, "user is required (at most 128 characters)"
		}
		if m := checkAmount("amount", req.Amount, MaxAmount); m != "" {
			return req, m
		}
		if m := checkAmount("shares", req.Shares, MaxShares); m != "" {
			return req, m
		}
		if a == ActDeposit && (req.Amount.Sign() <= 0 || req.Shares.Sign() != 0) {
			return req, "a deposit needs amount > 0 (and no shares)"
		}
		if a == ActWithdraw && (req.Amount.Sign() > 0) == (req.Shares.Sign() > 0) {
			return req, "a withdrawal needs exactly one of amount > 0 and shares > 0"
		}
		if req.Tx != "" {
			if !txRE.MatchString(req.Tx) {
				return req, "tx must be a transaction hash: 0x and 64 hex digits"
			}
			req.Tx = strings.ToLower(req.Tx)
		}
	default:
		if req.User != "" || req.Amount.Sign() != 0 || req.Shares.Sign() != 0 || req.Tx != "" {
			return req, string(a) + " takes no user, amount or shares (only an optional note)"
		}
	}
	return req, ""
}

// getProposals lists a vault's propose-mode proposals, newest first.
func (s *Service) getProposals(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	ps, err := s.cfg.Execution.ListProposals(rt.id)
	if err != nil {
		writeErr(w, err)
		return
	}
	mode := execution.ModePaper
	if s.cfg.Execution != nil {
		mode = s.cfg.Execution.Mode
	}
	writeJSON(w, http.StatusOK, map[string]any{"mode": mode, "proposals": ps})
}

// getProposal serves a proposal's Safe Transaction Builder batch (JSON),
// or its human summary with ?format=txt.
func (s *Service) getProposal(w http.ResponseWriter, r *http.Request) {
	rt := s.vaultOf(w, r)
	if rt == nil {
		return
	}
	kind := "json"
	if r.URL.Query().Get("format") == "txt" {
		kind = "txt"
	}
	data, err := s.cfg.Execution.ReadProposal(rt.id, r.PathValue("name"), kind)
	if err != nil {
		writeErr(w, err)
		return
	}
	if kind == "txt" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
