package synth

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters/history"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpCPU(t *testing.T) {
	ctx := context.Background()
	const n = 5
	measure := func(name string, fn func()) {
		fn()
		c0, w0 := cpuNow(), time.Now()
		for i := 0; i < n; i++ { fn() }
		fmt.Printf("%-10s cpu %v wall %v per op\n", name, (cpuNow()-c0)/n, time.Since(w0)/n)
	}
	var data []byte
	measure("gunzip", func() { zr, _ := gzip.NewReader(bytes.NewReader(defaultCSV)); data, _ = io.ReadAll(zr) })
	measure("readcsv", func() { history.ReadNativeCSV("x", bytes.NewReader(data)) })
	bt, _ := Default(ctx)
	measure("write", func() { db, _ := history.OpenMemory(ctx); db.Write(ctx, bt); db.Close() })
	measure("open", func() { db, _ := OpenDefault(ctx); db.Close() })
	measure("generate", func() { Generate(DefaultConfig()) })
}
