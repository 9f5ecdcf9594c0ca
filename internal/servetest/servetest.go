// Package servetest runs a yieldvault binary's service the way an
// operator does. Until is for the tests of binaries built from a main
// package (the custom-binary example, a binary built outside the module):
// it starts `serve -c service.yaml` in a folder, waits until a log line
// shows what the test waits for, stops the process with SIGTERM and
// checks that it shut down cleanly with exit status 0. Rig is the crash
// tests' process rig (cli's and the send-mode one in execution/chaintest):
// the binary built once, `serve` processes started on free ports against
// one configuration and one log, killed, waited for, and polled on
// /readyz until they lead.
package servetest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts of Until: how long the awaited line may take, and the clean
// stop after SIGTERM.
const (
	AwaitTimeout = 60 * time.Second
	StopTimeout  = 30 * time.Second
)

// Until writes config to dir/service.yaml, runs bin's service there, and
// waits for a log line (stderr) for which seen returns true; what names
// that line in failure messages. It then sends SIGTERM and expects exit
// status 0 and the service's "shutting down" line. It returns the log.
func Until(t testing.TB, bin, dir, config, what string, seen func(line string) bool) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "service.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "serve", "-c", "service.yaml")
	c.Dir = dir
	logs, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// log is written by the reader goroutine until it sends on done, and
	// read here only after that.
	var log strings.Builder
	ran, done := make(chan struct{}), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		found := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !found && seen(sc.Text()) {
				found = true
				close(ran)
			}
		}
		done <- c.Wait()
	}()
	select {
	case <-ran:
	case err := <-done:
		t.Fatalf("serve exited before %s: %v\n%s", what, err, log.String())
	case <-time.After(AwaitTimeout):
		_ = c.Process.Kill()
		<-done
		t.Fatalf("no %s within %s:\n%s", what, AwaitTimeout, log.String())
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v, want exit 0\n%s", err, log.String())
		}
	case <-time.After(StopTimeout):
		_ = c.Process.Kill()
		<-done
		t.Fatalf("serve did not stop within %s of SIGTERM:\n%s", StopTimeout, log.String())
	}
	if !strings.Contains(log.String(), "shutting down") {
		t.Errorf("no clean shutdown in the log:\n%s", log.String())
	}
	return log.String()
}
