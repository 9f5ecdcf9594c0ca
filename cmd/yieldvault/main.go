// Command yieldvault is the CLI and service of the yieldvault framework:
// market history (data import|list|check|synth|export), the market
// catalog (markets), strategy files (validate, plan), backtests and the
// scheduled rebalancing service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ExitInterrupted is the exit code of a command stopped by Ctrl-C (or
// SIGTERM): 128 + SIGINT, as shells report it.
const ExitInterrupted = 130

// run executes the CLI with the given arguments and streams and returns the
// exit code: 0 on success, 1 when a command fails, 2 on a usage error, 130
// when interrupted (ctx cancelled) before it finished.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(&app{stdin: stdin, stdout: stdout, stderr: stderr})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if !errors.As(err, &ee) && ctx.Err() != nil {
		fmt.Fprintln(stderr, "yieldvault: interrupted")
		return ExitInterrupted
	}
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "yieldvault:", userMessage(ee.err))
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "yieldvault:", userMessage(err))
	if isUsage(err) {
		return 2
	}
	return 1
}
