package servetest

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Rig is the process rig of the crash tests: the yieldvault binary built
// into a folder of its own, a configuration there (service.yaml) and one
// log file that every `serve` process it starts appends to. The caller
// puts what the configuration names into Dir (a history file: the
// layers' packages are not this helper's to import).
type Rig struct {
	t       testing.TB
	Bin     string // the built binary
	Dir     string // its folder: service.yaml, serve.log, what the test adds
	CfgPath string
	LogPath string
	// Env is added to each process's environment (the variables the
	// configuration names: the API token, a keystore's password).
	Env []string
	// watchdog is the exit code of a process its write watchdog ended
	// (service.ExitWatchdog).
	watchdog int
	logf     *os.File
}

// NewRig builds main package pkg (as `go build` takes it, relative to the
// test's package: "../cmd/yieldvault") into a temporary folder.
// watchdogExit is the exit code of a process the service's write
// watchdog ended (service.ExitWatchdog): on a loaded machine a write may
// run past 1.5 times its deadline and the process exits as designed, so
// WaitFor reports it rather than failing.
func NewRig(t testing.TB, pkg string, watchdogExit int) *Rig {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "yieldvault")
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	return &Rig{t: t, Bin: bin, Dir: dir, CfgPath: filepath.Join(dir, "service.yaml"), LogPath: logPath, watchdog: watchdogExit, logf: logf}
}

// Config writes config as the rig's service.yaml (relative paths in it
// are the rig's folder's).
func (r *Rig) Config(config string) {
	r.t.Helper()
	if err := os.WriteFile(r.CfgPath, []byte(config), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// Proc is one `serve` process.
type Proc struct {
	Cmd  *exec.Cmd
	Addr string        // the API's address
	Done chan struct{} // closed once the process has exited
	Err  error         // what Wait returned, once Done is closed
}

// FreePort returns a loopback port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start starts `serve` with the rig's configuration on a free loopback
// port, logging at info to the rig's log.
func (r *Rig) Start() *Proc {
	r.t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(r.t)))
	c := exec.Command(r.Bin, "serve", "-c", r.CfgPath, "--listen", addr, "--log-level", "info")
	c.Env = append(os.Environ(), r.Env...)
	c.Stdout, c.Stderr = r.logf, r.logf
	if err := c.Start(); err != nil {
		r.t.Fatal(err)
	}
	p := &Proc{Cmd: c, Addr: addr, Done: make(chan struct{})}
	go func() { p.Err = c.Wait(); close(p.Done) }()
	return p
}

// Wait waits up to d for the process to exit and returns its exit code
// (-1 when a signal ended it).
func (p *Proc) Wait(d time.Duration) (exited bool, code int) {
	select {
	case <-p.Done:
	case <-time.After(d):
		return false, 0
	}
	return true, p.Cmd.ProcessState.ExitCode()
}

// WatchdogEnded reports whether the process exited with the watchdog's
// code.
func (r *Rig) WatchdogEnded(p *Proc) bool {
	return p.Exited() && p.Cmd.ProcessState.ExitCode() == r.watchdog
}

// Exited reports, without waiting, whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.Done:
		return true
	default:
		return false
	}
}

// Kill ends the process with SIGKILL and reaps it.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.Done
}

// Ready is what /readyz answers.
type Ready struct {
	Ready   bool `json:"ready"`
	Leader  bool `json:"leader"`
	Blocked *struct {
		Since   time.Time `json:"since"`
		Expires time.Time `json:"lease_expires"`
	} `json:"write_blocked"`
}

var readyClient = &http.Client{Timeout: time.Second}

// Readyz asks the process at addr what /readyz answers; false when it
// does not answer.
func Readyz(addr string) (Ready, bool) {
	var rd Ready
	resp, err := readyClient.Get("http://" + addr + "/readyz")
	if err != nil {
		return rd, false
	}
	defer resp.Body.Close()
	return rd, json.NewDecoder(resp.Body).Decode(&rd) == nil
}

// WaitFor polls /readyz every 10 ms until ok holds or d passes, and
// returns how long it took. A process the watchdog ended (NewRig's
// watchdogExit) returns false; any other exit, or no answer within d,
// fails the test.
func (r *Rig) WaitFor(p *Proc, d time.Duration, what string, ok func(Ready) bool) (time.Duration, bool) {
	r.t.Helper()
	began := time.Now()
	for time.Since(began) < d {
		if rd, got := Readyz(p.Addr); got && ok(rd) {
			return time.Since(began), true
		}
		select {
		case <-p.Done:
			if p.Cmd.ProcessState.ExitCode() == r.watchdog {
				return 0, false
			}
			r.t.Fatalf("process exited (%v) while waiting until it %s (log %s)", p.Err, what, r.LogPath)
		case <-time.After(10 * time.Millisecond):
		}
	}
	r.t.Fatalf("process did not %s within %s (log %s)", what, d, r.LogPath)
	return 0, false
}

// WaitLeader waits up to d until the process holds the lease (WaitFor).
func (r *Rig) WaitLeader(p *Proc, d time.Duration) bool {
	_, ok := r.WaitFor(p, d, "lead", func(rd Ready) bool { return rd.Leader })
	return ok
}

// Poll polls cond every 10 ms until it holds; p must stay up meanwhile,
// and it must hold within d, or the test fails.
func (r *Rig) Poll(p *Proc, d time.Duration, what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case <-p.Done:
			r.t.Fatalf("the leader exited (%v) before it could %s (log %s)", p.Err, what, r.LogPath)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the leader did not %s within %s (log %s)", what, d, r.LogPath)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
