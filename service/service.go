package service

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// Options are what a Service is built from besides its Config.
type Options struct {
	// Wall is the wall clock (leases, log times). Required.
	Wall func() time.Time
	// Clock is the service time; nil means replay (Config.Replay) or
	// wall time.
	Clock Clock
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Executor executes orders; nil means the configuration's execution
	// mode (PaperExecutor, ProposeExecutor, or a SendExecutor on
	// ChainClient).
	Executor Executor
	// ChainClient is the node send mode talks to (the CLI dials
	// execution.rpc); required in send mode unless Executor is set. API
	// deposits and withdrawals in propose and send modes read their
	// transfers through it (propose mode: when execution.rpc is set).
	ChainClient execution.Client
	// Getenv reads the token's environment variable; nil means os.Getenv.
	Getenv func(string) string
	// History, when set, is used instead of opening Config.HistoryDB (the
	// service does not close it).
	History *history.DB
	// Manual leaves scheduling to the caller: Run starts no scheduler and
	// tests drive jobs with Advance.
	Manual bool
	// Exit ends the process when the watchdog finds a write transaction
	// open past 1.5 times the write deadline; nil means os.Exit.
	Exit func(code int)
	// Version is the binary's version for yieldvault_build_info; empty
	// means the module version of the build information.
	Version string
}

// ExitWatchdog is the exit code of a process the watchdog ends: one of
// its write transactions stayed open past 1.5 times the write deadline
// (stopped and resumed, or stuck in I/O), so it exits to release SQLite's
// write lock for a standby.
const ExitWatchdog = 3

// blockedInfo is what a process that cannot write reports.
type blockedInfo struct {
	Since   time.Time
	Holder  string // the lease's holder when this process tried
	Expired bool   // the holder's lease had expired
	Expires time.Time
	Message string
}

// Service is the scheduled rebalancing service: vaults, their schedules,
// the market data sources, the state database and the HTTP API.
type Service struct {
	cfg     *Config
	store   *Store
	hist    *history.DB
	ownHist bool
	histID  string
	clock   Clock
	wall    func() time.Time
	log     *slog.Logger
	exec    Executor
	chain   execution.Client // API deposits' transfers are read through it (nil: none)
	metrics *Metrics
	token   []byte // nil: no token configured, state-changing endpoints refuse
	// nonce tells this process apart from another started under the same
	// lease holder name.
	nonce string

	vaults  map[string]*vaultRT
	order   []string
	sources []*source

	windows sync.Map // universe key -> *winCache
	histGen atomic.Uint64

	// loggedSameName: the wait for a same-name holder was logged.
	loggedSameName atomic.Bool
	leader         atomic.Bool
	leaseUntil     atomic.Int64 // wall ms
	// leaseGen is the generation of the lease this process holds (the
	// fencing token its scheduled intents and sent transactions name).
	leaseGen atomic.Int64
	ready    atomic.Bool
	// stopping is set when shutdown begins: jobs stop between ticks.
	stopping atomic.Bool
	// missing counts the configured vaults the database does not hold
	// yet (a standby waits for the lease holder to create them).
	missing atomic.Int32
	// blocked is set while the lease cannot be written within the write
	// deadline (nil otherwise).
	blocked   atomic.Pointer[blockedInfo]
	exit      func(code int)
	wdStop    chan struct{}
	wdDone    chan struct{}
	sched     Scheduler
	loop      *LoopScheduler
	manual    bool
	leaseStop chan struct{}
	leaseDone chan struct{}
	notify    *notifier
}

// New opens the databases, builds the vaults and sources of cfg, creates
// vaults that do not exist yet, and (when it can take the lease) recovers
// unfinished intents. Close releases what it opened.
func New(ctx context.Context, cfg *Config, o Options) (*Service, error) {
	const op = "service.New"
	if o.Wall == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "no wall clock")
	}
	s := &Service{cfg: cfg, wall: o.Wall, log: o.Logger, exec: o.Executor, metrics: NewMetrics(), vaults: map[string]*vaultRT{}, manual: o.Manual}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	if o.ChainClient != nil {
		s.chain = o.ChainClient
	}
	if s.exec == nil {
		s.exec = PaperExecutor{}
		if cfg.Execution != nil && cfg.Execution.Mode == execution.ModePropose {
			s.exec = ProposeExecutor{Config: cfg.Execution}
		}
		if cfg.Execution != nil && cfg.Execution.Mode == execution.ModeSend && o.ChainClient == nil {
			return nil, adapters.E(op, adapters.KindInvalid, "execution mode send needs a connection to the node (execution.rpc)")
		}
	}
	tok, err := readToken(cfg, o.Getenv)
	if err != nil {
		return nil, err
	}
	s.token = tok
	var nb [12]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	s.nonce = hex.EncodeToString(nb[:])
	if tok == nil {
		s.log.Warn("no API token configured: state-changing endpoints answer 401")
	}
	s.exit = o.Exit
	if s.exit == nil {
		s.exit = os.Exit
	}
	deadline := cfg.WriteDeadline
	if deadline == 0 {
		deadline = DefaultWriteDeadline
	}
	if s.store, err = OpenStore(ctx, cfg.StateDB, cfg.SyncNormal, WithWriteDeadline(deadline, o.Wall, s.metrics.WriteDeadline.Inc)); err != nil {
		return nil, err
	}
	if o.Executor == nil && cfg.Execution != nil && cfg.Execution.Mode == execution.ModeSend {
		// Send mode's journal lives in the state database.
		se, err := NewSendExecutor(cfg.Execution, o.ChainClient, s.store, s.store.Fenced(s.sendFence, s.fencedOut))
		if err != nil {
			s.store.Close()
			return nil, err
		}
		s.exec = se
	}
	s.wdStop, s.wdDone = make(chan struct{}), make(chan struct{})
	go s.watchdog(deadline)
	s.clock = o.Clock
	if s.clock == nil && cfg.Replay != nil {
		// Replay resumes from the last tick done, not from the start.
		from, err := s.resumeTime(ctx)
		if err != nil {
			s.store.Close()
			return nil, err
		}
		s.clock = &ReplayClock{From: from, Until: cfg.Replay.Until, Speed: cfg.Replay.Speed, Wall: o.Wall, Wall0: o.Wall()}
	}
	if s.clock == nil {
		s.clock = WallClock(o.Wall)
	}
	switch {
	case o.History != nil:
		s.hist, s.histID = o.History, "external"
	case cfg.HistoryDB == "":
		if s.hist, err = synth.OpenDefault(ctx); err != nil {
			s.store.Close()
			return nil, err
		}
		s.ownHist, s.histID = true, "embedded"
		// The embedded history is a fresh in-memory copy at every start:
		// files imported into an earlier copy must be imported again.
		if err := s.store.write(ctx, func(tx *sql.Tx) error {
			_, err := s.store.exec(ctx, tx, "DELETE FROM processed_files WHERE history = 'embedded'")
			return err
		}); err != nil {
			s.Close()
			return nil, adapters.Wrap(op, adapters.KindOther, err)
		}
	default:
		if s.hist, err = history.Open(ctx, cfg.HistoryDB, history.WithClock(o.Wall)); err != nil {
			s.store.Close()
			return nil, err
		}
		s.ownHist, s.histID = true, cfg.HistoryDB
	}
	for i := range cfg.Vaults {
		rt, err := newVaultRT(s, &cfg.Vaults[i])
		if err != nil {
			s.Close()
			return nil, err
		}
		s.vaults[rt.id] = rt
		s.order = append(s.order, rt.id)
	}
	var srcNames []string
	for i := range cfg.Sources {
		s.sources = append(s.sources, &source{s: s, spec: cfg.Sources[i]})
		srcNames = append(srcNames, cfg.Sources[i].Name)
	}
	s.metrics.SetBuildInfo(o.Version)
	s.metrics.Init(s.order, srcNames)
	for _, vs := range cfg.Vaults {
		s.metrics.InitMonitors(vs.ID, vs.Monitors)
		if _, ok := s.exec.(Reconciler); ok {
			// chain-reconcile is the executor's monitor, not the
			// configuration's: its series exist from the start too.
			s.metrics.InitMonitors(vs.ID, []monitor.Monitor{{Name: ReconcileMonitor, Action: monitor.Pause, Severity: "critical"}})
		}
	}
	s.notify = newNotifier(cfg.Webhooks, s.log, s.metrics)
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// resumeTime is where a replay clock starts: the configured start, or
// the latest tick or action time the database has done when later.
func (s *Service) resumeTime(ctx context.Context) (time.Time, error) {
	from := s.cfg.Replay.Start
	rows, err := s.store.Vaults(ctx)
	if err != nil {
		return from, err
	}
	for _, r := range rows {
		for _, t := range []time.Time{r.Ticks.Rebalance, r.Ticks.Harvest, r.Ticks.ExitCheck, r.State.Time} {
			if t.After(from) {
				from = t
			}
		}
	}
	return from.UTC().Truncate(time.Second), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// readToken reads the API token from its environment variable or file.
// Errors name where the token was looked for, never its value.
func readToken(cfg *Config, getenv func(string) string) ([]byte, error) {
	const op = "service.Token"
	if getenv == nil {
		getenv = os.Getenv
	}
	var tok string
	switch {
	case cfg.TokenEnv != "":
		tok = strings.TrimSpace(getenv(cfg.TokenEnv))
		if tok == "" && cfg.TokenOptional {
			return nil, nil
		}
		if tok == "" {
			return nil, adapters.E(op, adapters.KindInvalid, "token: environment variable %s is empty or unset", cfg.TokenEnv)
		}
	case cfg.TokenFile != "":
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, adapters.E(op, adapters.KindNotFound, "token file %s cannot be read", cfg.TokenFile)
		}
		tok = strings.TrimSpace(string(b))
	default:
		return nil, nil
	}
	if len(tok) < minTokenLen {
		return nil, adapters.E(op, adapters.KindInvalid, "token is shorter than %d characters", minTokenLen)
	}
	return []byte(tok), nil
}

// start takes the lease when it can, recovers, and creates the vaults
// the database does not hold yet. A process that does not get the lease
// before the vaults exist does not fail: it waits (not ready) until the
// holder creates them or it takes the lease (ensureVaults, from the lease
// loop).
func (s *Service) start(ctx context.Context) error {
	if err := s.renewLease(ctx); err != nil {
		if !errors.Is(err, ErrWriteBlocked) {
			return err
		}
		// Reported (readyz, metric, log); the lease loop tries again.
	}
	if s.leader.Load() {
		if err := s.Recover(ctx); err != nil {
			return err
		}
		if err := s.loadAlerts(ctx); err != nil {
			return err
		}
	}
	return s.ensureVaults(ctx)
}

// loadAlerts shows the firing monitors the state database holds (the
// episodes the last lease holder left) in the API and monitor_firing
// before this process's first action evaluates them.
func (s *Service) loadAlerts(ctx context.Context) error {
	for _, id := range s.order {
		rt := s.vaults[id]
		fs, err := s.store.Alerts(ctx, id)
		if err != nil {
			return err
		}
		rt.alerts.Set(fs)
		for _, f := range fs {
			s.metrics.MonitorFiring.WithLabelValues(id, f.Monitor, f.Severity, f.Action).Set(1)
		}
	}
	return nil
}

// ensureVaults checks every configured vault against the database and
// creates those missing when this process holds the lease; it sets ready
// once all exist.
func (s *Service) ensureVaults(ctx context.Context) error {
	var waiting []string
	for _, id := range s.order {
		if err := ctx.Err(); err != nil {
			return err
		}
		rt := s.vaults[id]
		if err := rt.ensure(ctx); err != nil {
			if adapters.KindOf(err) != adapters.KindNotReady {
				return err
			}
			waiting = append(waiting, id)
		}
	}
	s.missing.Store(int32(len(waiting)))
	if len(waiting) > 0 {
		if !s.ready.Load() {
			s.log.Info("waiting for the lease holder to create the vaults, or for the lease", "vaults", strings.Join(waiting, ","))
		}
		return nil
	}
	if !s.stopping.Load() {
		s.ready.Store(true)
	}
	return nil
}

// Recover re-runs every pending intent, oldest first, from the persisted
// pre-state of its vault. It is called at start by the lease holder.
func (s *Service) Recover(ctx context.Context) error {
	pend, err := s.store.Pending(ctx)
	if err != nil {
		return err
	}
	for _, in := range pend {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.stopping.Load() {
			return nil
		}
		rt := s.vaults[in.VaultID]
		if rt == nil {
			s.log.Warn("pending intent of a vault not in the configuration left as is", "intent", in.Key)
			continue
		}
		s.log.Info("recovering intent", "intent", in.Key)
		if _, err := rt.do(ctx, in); err != nil && !isDomain(err) {
			return fmt.Errorf("recovering intent %s: %w", in.Key, err)
		}
		s.metrics.Recovered.Inc()
	}
	return nil
}

// renewLease takes or renews the lease and records whether this process
// holds it.
func (s *Service) renewLease(ctx context.Context) error {
	now := s.wall()
	ok, cur, err := s.store.AcquireLease(ctx, s.cfg.LeaseHolder, s.nonce, now.UnixMilli(), s.cfg.LeaseTTL)
	if err != nil {
		s.leader.Store(false)
		s.metrics.Leader.Set(0)
		if errors.Is(err, ErrWriteBlocked) {
			s.reportBlocked(now, cur)
		}
		return err
	}
	if b := s.blocked.Swap(nil); b != nil {
		s.metrics.WriteBlocked.Set(0)
		s.log.Info("the state database can be written again", "blocked_for", now.Sub(b.Since).Round(time.Millisecond))
	}
	sameName := !ok && cur.Holder == s.cfg.LeaseHolder && cur.Nonce != s.nonce
	switch {
	case sameName && s.leader.Load():
		s.log.Error("another process holds the lease under this process's holder name: stepping down; give every process its own lease.holder (the default, host:pid, is)",
			"holder", s.cfg.LeaseHolder, "nonce", s.nonce, "other_nonce", cur.Nonce)
	case sameName && !s.loggedSameName.Load():
		s.log.Warn("another process holds the lease under the same holder name: waiting for its lease to expire",
			"holder", s.cfg.LeaseHolder, "expires", time.UnixMilli(cur.ExpiresMs).UTC())
		s.loggedSameName.Store(true)
	case ok != s.leader.Load():
		s.log.Info("lease", "held", ok, "holder", s.cfg.LeaseHolder)
	}
	s.leader.Store(ok)
	if ok {
		s.leaseGen.Store(cur.Generation)
		s.leaseUntil.Store(now.Add(s.cfg.LeaseTTL).UnixMilli())
		s.metrics.Leader.Set(1)
	} else {
		s.metrics.Leader.Set(0)
	}
	return nil
}

// reportBlocked records, counts and logs (once per episode) that the
// lease could not be written within the write deadline: another process
// keeps SQLite's write lock. When that process is the holder and its
// lease has expired, it is hung (stopped, paused, stuck in I/O), and no
// action runs until it exits: one SQLite file cannot fail over from a
// process that keeps its lock.
func (s *Service) reportBlocked(now time.Time, cur Lease) {
	expired := cur.Holder != "" && cur.ExpiresMs <= now.UnixMilli()
	msg := fmt.Sprintf("the state database's write lock was not obtained within the write deadline (%s): another process keeps it", s.cfg.WriteDeadline)
	if expired {
		msg = fmt.Sprintf("lease holder %s looks hung: its lease expired at %s and the state database's write lock stayed taken through the write deadline (the holder is stopped, paused, stuck in I/O, or overloaded); no action runs until it renews, exits or is killed", cur.Holder, time.UnixMilli(cur.ExpiresMs).UTC().Format(time.RFC3339Nano))
	}
	b := &blockedInfo{Since: now, Holder: cur.Holder, Expired: expired, Message: msg}
	if cur.ExpiresMs > 0 {
		b.Expires = time.UnixMilli(cur.ExpiresMs).UTC()
	}
	if prev := s.blocked.Load(); prev != nil {
		b.Since = prev.Since
		if prev.Message == msg {
			return
		}
	}
	s.blocked.Store(b)
	s.metrics.WriteBlocked.Set(1)
	s.log.Error("state database write blocked", "reason", msg, "holder", cur.Holder, "deadline", s.cfg.WriteDeadline)
}

// watchdog ends the process when one of its write transactions stays
// open past 1.5 times the write deadline: the transaction's own deadline
// did not end it (the process was stopped and resumed, or the disk is
// stuck), and exiting is what releases SQLite's write lock for a standby.
func (s *Service) watchdog(deadline time.Duration) {
	defer close(s.wdDone)
	t := time.NewTicker(max(deadline/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.wdStop:
			return
		case <-t.C:
			s.watchdogCheck(deadline)
		}
	}
}

// watchdogCheck is one look of the watchdog; it reports whether it ended
// the process.
func (s *Service) watchdogCheck(deadline time.Duration) bool {
	open := s.store.WriteOpenFor(s.wall())
	if open <= deadline+deadline/2 {
		return false
	}
	s.log.Error("watchdog: a write transaction has been open past its deadline: exiting so that the state database's write lock is released",
		"open", open.Round(time.Millisecond), "deadline", deadline, "exit_code", ExitWatchdog)
	s.exit(ExitWatchdog)
	return true
}

// isLeader reports whether this process holds a lease that has not
// expired by the wall clock.
func (s *Service) isLeader() bool {
	return s.leader.Load() && s.wall().UnixMilli() < s.leaseUntil.Load()
}

// manualRenew renews a held lease past half its TTL when the service
// runs without Run (Options.Manual: tests and benchmarks drive it), so
// without the renewal loop: as jobs run and as transactions are sent.
func (s *Service) manualRenew() {
	if s.manual && s.leader.Load() && s.wall().UnixMilli() > s.leaseUntil.Load()-s.cfg.LeaseTTL.Milliseconds()/2 {
		if err := s.renewLease(context.Background()); err != nil {
			s.log.Error("renewing the lease", "err", err)
		}
	}
}

// sendFence is the lease a transaction's record is fenced by.
func (s *Service) sendFence() *LeaseCheck {
	s.manualRenew()
	return s.leaseCheck()
}

func (s *Service) leaseCheck() *LeaseCheck {
	return &LeaseCheck{Holder: s.cfg.LeaseHolder, Nonce: s.nonce, Gen: s.leaseGen.Load(), NowMs: s.wall().UnixMilli()}
}

// fencedOut is called when the execution journal refused to record a
// signed transaction because this process no longer holds the lease it
// took (another process took it over while this one was paused or cut
// off): nothing was broadcast. The process steps down at once, so it
// runs no further scheduled intent and sends nothing until a renewal
// gives it the lease again (under a new generation).
func (s *Service) fencedOut(err error) {
	s.metrics.Fenced.Inc()
	if !s.leader.Swap(false) {
		// A standby asked to trade through the API: it never held the
		// lease, so it sends nothing (the request answers 503).
		s.log.Warn("send mode: this process does not hold the lease, so it sends nothing; the signed transaction was not recorded or broadcast (send the request to the lease holder)",
			"holder", s.cfg.LeaseHolder, "error", err)
		return
	}
	s.metrics.Leader.Set(0)
	s.log.Error("send mode: fenced out, the lease is no longer this process's: the signed transaction was not recorded or broadcast and this process stops sending; the lease holder resumes the intent",
		"holder", s.cfg.LeaseHolder, "generation", s.leaseGen.Load(), "error", err)
}

// Jobs returns every scheduled job: per vault its exit check, harvest and
// rebalance; per source its refresh.
func (s *Service) Jobs(ctx context.Context) ([]Job, error) {
	var jobs []Job
	for _, src := range s.sources {
		src := src
		jobs = append(jobs, Job{Name: "source/" + src.spec.Name, Sched: src.spec.Sched, From: s.clock.Now(), Order: 0, Run: func(ctx context.Context, now time.Time) {
			s.runJob("source/"+src.spec.Name, func() error { return src.refresh(ctx, now) })
		}})
	}
	for _, id := range s.order {
		rt := s.vaults[id]
		row, err := s.store.Vault(ctx, id)
		if adapters.KindOf(err) == adapters.KindNotFound {
			// Not created yet (a standby waiting): its first job run
			// creates it once this process holds the lease, and catches
			// up from the ticks the database then holds.
			row, err = VaultRow{Ticks: Ticks{Rebalance: s.clock.Now(), Harvest: s.clock.Now(), ExitCheck: s.clock.Now()}}, nil
		}
		if err != nil {
			return nil, err
		}
		for i, a := range []Action{ActExitCheck, ActHarvest, ActRebalance} {
			a := a
			name := "vault/" + id + "/" + string(a)
			sc := rt.schedule(a)
			jobs = append(jobs, Job{Name: name, Sched: sc, From: row.Ticks.Get(a), Order: 1 + i, Run: func(ctx context.Context, now time.Time) {
				s.runJob(name, func() error { return rt.runDue(ctx, a, now) })
			}})
		}
	}
	return jobs, nil
}

func (s *Service) runJob(name string, fn func() error) {
	s.manualRenew()
	if !s.isLeader() || s.stopping.Load() {
		return
	}
	s.metrics.JobRuns.WithLabelValues(name).Inc()
	start := s.wall()
	err := fn()
	s.metrics.JobDuration.WithLabelValues(name).Observe(s.wall().Sub(start).Seconds())
	if err != nil {
		if errors.Is(err, ErrNotLeader) {
			s.log.Warn("lease lost: job stopped, the lease holder catches up", "job", name)
			return
		}
		s.metrics.JobErrors.WithLabelValues(name).Inc()
		s.log.Error("job failed", "job", name, "err", err)
	}
}

func (s *Service) onPanic(job string, r any) {
	s.metrics.JobPanics.WithLabelValues(job).Inc()
	s.log.Error("job panic", "job", job, "panic", fmt.Sprint(r))
}

// Scheduler builds the scheduler for the configuration: a LoopScheduler
// on the replay clock in replay mode (or when the clock is manual), else
// robfig/cron on wall time. The jobs are added.
func (s *Service) Scheduler(ctx context.Context) (Scheduler, error) {
	jobs, err := s.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	var sc Scheduler
	if _, wall := s.clock.(WallClock); wall && s.cfg.Replay == nil {
		sc = NewCronScheduler(s.log, s.clock, s.onPanic)
	} else {
		speed := 1.0
		if s.cfg.Replay != nil {
			speed = s.cfg.Replay.Speed
		}
		s.loop = NewLoopScheduler(s.clock, s.log, speed, s.onPanic)
		sc = s.loop
	}
	for _, j := range jobs {
		sc.Add(j)
	}
	return sc, nil
}

// Advance runs every job tick up to until on a LoopScheduler (tests and
// benchmarks with a manual clock). It builds the scheduler on first use.
func (s *Service) Advance(ctx context.Context, until time.Time) (int, error) {
	if s.loop == nil {
		if _, err := s.Scheduler(ctx); err != nil {
			return 0, err
		}
		if s.loop == nil {
			return 0, adapters.E("service.Advance", adapters.KindInvalid, "the service runs on cron, not a loop")
		}
	}
	if m, ok := s.clock.(*ManualClock); ok && m.Now().Before(until) {
		m.Set(until)
	}
	return s.loop.RunUntil(ctx, until), nil
}

// Metrics returns the service's metrics.
func (s *Service) Metrics() *Metrics { return s.metrics }

// Store returns the state database.
func (s *Service) Store() *Store { return s.store }

// Now is the service time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Run serves the API on ln (nil: listen on Config.Listen), runs the
// schedules and renews the lease until ctx is done, then shuts down:
// stop the scheduler and wait for running jobs, stop accepting requests
// and wait for those in flight (up to 10 s), release the lease. The
// caller closes the service.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Listen); err != nil {
			return adapters.Wrap("service.Run", adapters.KindOther, err)
		}
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "replay", s.cfg.Replay != nil, "vaults", len(s.order), "sources", len(s.sources))
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()

	s.leaseStop, s.leaseDone = make(chan struct{}), make(chan struct{})
	go s.leaseLoop(ctx)
	var sched Scheduler
	if !s.manual {
		var err error
		// Built on a context a stop does not cancel: a SIGTERM that
		// arrives now is a clean stop below, not a failed start.
		if sched, err = s.Scheduler(context.WithoutCancel(ctx)); err != nil {
			srv.Close()
			return err
		}
		sched.Start(ctx)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-srvErr:
	}
	s.ready.Store(false)
	s.stopping.Store(true) // jobs stop between ticks; the rest run at the next start
	s.log.Info("shutting down")
	if sched != nil {
		sched.Stop()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if e := srv.Shutdown(sctx); e != nil && err == nil {
		err = e
	}
	close(s.leaseStop)
	<-s.leaseDone
	if e := s.store.ReleaseLease(sctx, s.cfg.LeaseHolder, s.nonce); e != nil {
		s.log.Warn("releasing the lease", "err", e)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Service) leaseLoop(ctx context.Context) {
	defer close(s.leaseDone)
	t := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-s.leaseStop:
			return
		case <-t.C:
			s.leaseTick(context.WithoutCancel(ctx))
		}
	}
}

// leaseTick is one turn of the lease loop: renew (or take) the lease,
// recover what a previous holder left pending when this process just
// took it, and create the vaults still missing.
func (s *Service) leaseTick(ctx context.Context) {
	was := s.leader.Load()
	if err := s.renewLease(ctx); err != nil {
		s.log.Error("renewing the lease", "err", err)
	}
	if !was && s.leader.Load() {
		// A new holder finishes what the previous one left pending.
		if err := s.Recover(ctx); err != nil {
			s.log.Error("recovering after taking the lease", "err", err)
		}
	}
	if s.missing.Load() > 0 && !s.stopping.Load() {
		if err := s.ensureVaults(ctx); err != nil {
			s.log.Error("creating the vaults", "err", err)
		}
	}
	s.metrics.ServiceTime.Set(float64(s.clock.Now().Unix()))
}

// Close closes the databases the service opened.
func (s *Service) Close() error {
	if s.notify != nil {
		s.notify.Close()
	}
	if s.wdStop != nil {
		close(s.wdStop)
		<-s.wdDone
		s.wdStop = nil
	}
	var err error
	if s.store != nil {
		err = s.store.Close()
	}
	if s.ownHist && s.hist != nil {
		if e := s.hist.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
