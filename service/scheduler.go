package service

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Clock is the service's notion of now: wall time in live mode, a
// simulated time in replay mode and in tests.
type Clock interface {
	Now() time.Time
}

// WallClock reads a wall-clock function (cmd passes time.Now).
type WallClock func() time.Time

// Now returns the function's time in UTC, to the second.
func (f WallClock) Now() time.Time { return f().UTC().Truncate(time.Second) }

// ReplayClock is simulated time: From at the wall instant Wall0,
// advancing Speed simulated seconds per wall second, held at Until when
// that is set.
type ReplayClock struct {
	From, Until time.Time
	Speed       float64
	Wall        func() time.Time
	Wall0       time.Time
}

// Now returns the simulated time, to the second.
func (c *ReplayClock) Now() time.Time {
	el := c.Wall().Sub(c.Wall0)
	t := c.From.Add(time.Duration(float64(el) * c.Speed)).UTC().Truncate(time.Second)
	if !c.Until.IsZero() && t.After(c.Until) {
		return c.Until
	}
	return t
}

// ManualClock is a clock tests set.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t.UTC()} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

// Job is one scheduled job. Run processes whatever is due at or before
// now; it must be idempotent for a given now (running it twice for the
// same now does nothing the second time), because ticks are identified by
// Sched.Next from the job's own persisted state, not by when it was
// called.
type Job struct {
	Name string
	// Sched gives the job's ticks; From is the last tick already done
	// (the loop driver starts at Sched.Next(From)).
	Sched cron.Schedule
	From  time.Time
	// Order breaks ties between jobs at the same tick (lower first):
	// sources refresh before vaults act.
	Order int
	Run   func(ctx context.Context, now time.Time)
}

// Scheduler drives jobs. CronScheduler (robfig/cron on wall time) runs
// production; LoopScheduler runs replay mode and tests, computing every
// tick with Schedule.Next on a Clock and calling the same job functions.
type Scheduler interface {
	Add(j Job)
	// Start begins running jobs in the background until Stop.
	Start(ctx context.Context)
	// Stop stops scheduling and waits for running jobs to finish.
	Stop()
}

// guard runs a job, counting and logging a panic and then re-panicking
// for the driver's own recovery (cron.Recover, or the loop's).
func guard(j Job, onPanic func(job string, r any)) func(ctx context.Context, now time.Time) {
	return func(ctx context.Context, now time.Time) {
		defer func() {
			if r := recover(); r != nil {
				if onPanic != nil {
					onPanic(j.Name, r)
				}
				panic(r)
			}
		}()
		j.Run(ctx, now)
	}
}

// slogCron adapts slog to cron.Logger.
type slogCron struct{ l *slog.Logger }

func (s slogCron) Info(msg string, kv ...any) { s.l.Debug("cron: "+msg, kv...) }
func (s slogCron) Error(err error, msg string, kv ...any) {
	s.l.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}

// CronScheduler runs jobs with robfig/cron in UTC, each wrapped in
// SkipIfStillRunning then Recover: a job still running at its next tick
// is skipped (its next run catches up, ticks being persisted), and a
// panic is logged and counted while the other jobs go on.
type CronScheduler struct {
	c       *cron.Cron
	clock   Clock
	onPanic func(job string, r any)
	mu      sync.Mutex
	ctx     context.Context
}

// NewCronScheduler returns a scheduler on robfig/cron; jobs are called
// with clock.Now().
func NewCronScheduler(log *slog.Logger, clock Clock, onPanic func(job string, r any)) *CronScheduler {
	lg := slogCron{log}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithChain(cron.SkipIfStillRunning(lg), cron.Recover(lg)))
	return &CronScheduler{c: c, clock: clock, onPanic: onPanic, ctx: context.Background()}
}

// Add schedules a job.
func (s *CronScheduler) Add(j Job) {
	run := guard(j, s.onPanic)
	s.c.Schedule(j.Sched, cron.FuncJob(func() {
		s.mu.Lock()
		ctx := s.ctx
		s.mu.Unlock()
		run(ctx, s.clock.Now())
	}))
}

// Start starts cron.
func (s *CronScheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = context.WithoutCancel(ctx) // Stop waits for running jobs to finish
	s.mu.Unlock()
	s.c.Start()
}

// Stop stops cron and waits for running jobs.
func (s *CronScheduler) Stop() { <-s.c.Stop().Done() }

// LoopScheduler calls each job at every tick of its schedule, in time
// order (ties by Order, then name), up to the clock's now: RunUntil does
// it synchronously (tests), Start in a goroutine that follows the clock
// (replay mode). A panicking job is logged and counted and the loop goes
// on.
type LoopScheduler struct {
	clock   Clock
	log     *slog.Logger
	onPanic func(job string, r any)
	sleep   func(ctx context.Context, d time.Duration)
	speed   float64

	mu   sync.Mutex
	jobs []*loopJob
	done chan struct{}
	stop context.CancelFunc
}

type loopJob struct {
	Job
	next time.Time
	run  func(ctx context.Context, now time.Time)
}

// NewLoopScheduler returns a loop driver on clock. speed is simulated
// seconds per wall second (to size its waits; 0 means 1).
func NewLoopScheduler(clock Clock, log *slog.Logger, speed float64, onPanic func(job string, r any)) *LoopScheduler {
	if speed <= 0 {
		speed = 1
	}
	return &LoopScheduler{clock: clock, log: log, onPanic: onPanic, speed: speed, sleep: func(ctx context.Context, d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}}
}

// Add schedules a job from Sched.Next(From).
func (s *LoopScheduler) Add(j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, &loopJob{Job: j, next: j.Sched.Next(j.From), run: guard(j, s.onPanic)})
}

// next returns the job due first at or before until, or nil.
func (s *LoopScheduler) next(until time.Time) *loopJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *loopJob
	for _, j := range s.jobs {
		if j.next.IsZero() || j.next.After(until) {
			continue
		}
		if best == nil || j.next.Before(best.next) || (j.next.Equal(best.next) && (j.Order < best.Order || (j.Order == best.Order && j.Name < best.Name))) {
			best = j
		}
	}
	return best
}

// RunUntil runs every tick at or before until and returns how many job
// calls it made. It stops early when ctx is done.
func (s *LoopScheduler) RunUntil(ctx context.Context, until time.Time) int {
	return s.runUntil(ctx, ctx, until)
}

func (s *LoopScheduler) runUntil(loopCtx, jobCtx context.Context, until time.Time) int {
	n := 0
	for loopCtx.Err() == nil {
		j := s.next(until)
		if j == nil {
			return n
		}
		tick := j.next
		s.call(jobCtx, j, tick)
		s.mu.Lock()
		j.next = j.Sched.Next(tick)
		s.mu.Unlock()
		n++
	}
	return n
}

func (s *LoopScheduler) call(ctx context.Context, j *loopJob, tick time.Time) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("job panicked", "job", j.Name, "tick", tick, "panic", fmt.Sprint(r))
		}
	}()
	j.run(ctx, tick)
}

// Jobs returns the names of the scheduled jobs, sorted.
func (s *LoopScheduler) Jobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = j.Name
	}
	sort.Strings(out)
	return out
}

// Start follows the clock in a goroutine until Stop.
func (s *LoopScheduler) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.stop = cancel
	s.done = make(chan struct{})
	// Jobs run on a context that Stop does not cancel: a job in progress
	// finishes; the loop stops between jobs.
	jobCtx := context.WithoutCancel(ctx)
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			now := s.clock.Now()
			s.runUntil(ctx, jobCtx, now)
			wait := 200 * time.Millisecond
			if j := s.next(now.Add(24 * time.Hour)); j != nil {
				if d := time.Duration(float64(j.next.Sub(now)) / s.speed); d < wait {
					wait = d
				}
			}
			if wait < time.Millisecond {
				wait = time.Millisecond
			}
			s.sleep(ctx, wait)
		}
	}()
}

// Stop stops the loop and waits for the job running, if any.
func (s *LoopScheduler) Stop() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
}
