// Package cli is the yieldvault command line as a library: market history
// (data import|list|check|synth|export), the market catalog (markets),
// strategy files and Go strategies (validate, plan), backtests, sweeps and
// the scheduled rebalancing service (serve).
//
// cmd/yieldvault is a main of a few lines over Main. A custom binary is the
// same main plus blank imports of the packages that register strategies
// (strategies.Register, named go:NAME on the command line and in a service
// configuration) or market kinds and drivers (adapters.Register,
// adapters.RegisterDriver):
//
//	package main
//
//	import (
//		"github.com/yieldvault/yieldvault/cli"
//
//		_ "example.com/mystrategies"
//	)
//
//	func main() { cli.Main() }
//
// docs/ARCHITECTURE.md, "Your own binary", walks through it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Main runs the CLI on the process's arguments and standard streams and
// exits with its exit code. SIGINT and SIGTERM cancel the running command.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Options are the streams and clock of a command tree built by NewRoot.
// Nil streams read nothing and discard output; a nil Now reads the wall
// clock (UTC).
type Options struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Now            func() time.Time
}

// NewRoot returns the root command with every yieldvault command, for a
// binary that adds commands of its own before running it with Execute.
func NewRoot(o Options) *cobra.Command {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	root := newRoot(&app{stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr, now: o.Now})
	root.SetIn(o.Stdin)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	return root
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

// Run executes the CLI with the given arguments and streams and returns the
// exit code: 0 on success, 1 when a command fails, 2 on a usage error, 130
// when interrupted (ctx cancelled) before it finished.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRoot(Options{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	return Execute(ctx, root, args, stderr)
}

// Execute runs a root command built by NewRoot with args, prints its error
// (in the user's words) on stderr and returns the exit code, as Run does.
func Execute(ctx context.Context, root *cobra.Command, args []string, stderr io.Writer) int {
	if stderr == nil {
		stderr = io.Discard
	}
	root.SetArgs(args)
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
