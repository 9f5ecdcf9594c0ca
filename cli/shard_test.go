package cli

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/backtest"
)

// envRunCLI makes the test binary run the CLI on its arguments instead of
// the tests: the shard tests start it as separate processes.
const envRunCLI = "YIELDVAULT_TEST_RUN_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envRunCLI) == "1" {
		os.Exit(Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestShardFlags_Resolve(t *testing.T) {
	for _, c := range []struct {
		name    string
		shard   string
		shards  int
		env     map[string]string
		want    backtest.Shard
		wantErr string
	}{
		{name: "none", want: backtest.Shard{}},
		{name: "env alone does not shard", env: map[string]string{EnvJobCompletionIndex: "2"}, want: backtest.Shard{}},
		{name: "flag", shard: "2/4", want: backtest.Shard{Index: 2, Count: 4}},
		{name: "one of one", shard: "0/1", want: backtest.Shard{Index: 0, Count: 1}},
		{name: "kubernetes", shards: 4, env: map[string]string{EnvJobCompletionIndex: "3"}, want: backtest.Shard{Index: 3, Count: 4}},
		{name: "slurm", shards: 8, env: map[string]string{EnvSlurmArrayTaskID: "0"}, want: backtest.Shard{Index: 0, Count: 8}},
		{name: "flag and env agree", shard: "1/4", shards: 4, env: map[string]string{EnvSlurmArrayTaskID: "1"}, want: backtest.Shard{Index: 1, Count: 4}},
		{name: "both envs agree", shards: 2, env: map[string]string{EnvJobCompletionIndex: "1", EnvSlurmArrayTaskID: "1"}, want: backtest.Shard{Index: 1, Count: 2}},
		{name: "not i/n", shard: "2", wantErr: `--shard "2" is not INDEX/COUNT`},
		{name: "not numbers", shard: "a/4", wantErr: "whole numbers"},
		{name: "index too big", shard: "4/4", wantErr: "the shard index 4 must be between 0 and 3"},
		{name: "negative index", shard: "-1/4", wantErr: "the shard index -1"},
		{name: "zero count", shard: "0/0", wantErr: "the shard count 0"},
		{name: "counts disagree", shard: "1/4", shards: 3, wantErr: "--shard 1/4 and --shards 3 disagree"},
		{name: "flag and env disagree", shard: "1/4", env: map[string]string{EnvJobCompletionIndex: "2"}, wantErr: "--shard 1/4 and JOB_COMPLETION_INDEX=2 disagree"},
		{name: "envs disagree", shards: 4, env: map[string]string{EnvJobCompletionIndex: "1", EnvSlurmArrayTaskID: "2"}, wantErr: "JOB_COMPLETION_INDEX=1 and SLURM_ARRAY_TASK_ID=2 disagree"},
		{name: "no index", shards: 4, wantErr: "--shards 4 needs the shard's index"},
		{name: "bad env", shards: 4, env: map[string]string{EnvSlurmArrayTaskID: "x"}, wantErr: `SLURM_ARRAY_TASK_ID="x" is not a shard index`},
		{name: "env index too big", shards: 4, env: map[string]string{EnvSlurmArrayTaskID: "4"}, wantErr: "SLURM_ARRAY_TASK_ID=4 is not below --shards 4"},
		{name: "negative shards", shards: -2, env: map[string]string{EnvSlurmArrayTaskID: "0"}, wantErr: "--shards -2 must be between 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := getenv
			defer func() { getenv = old }()
			getenv = func(k string) string { return c.env[k] }
			f := shardFlags{shard: c.shard, shards: c.shards}
			got, err := f.resolve()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !isUsage(err) {
					t.Fatalf("resolve: %v, want a usage error with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("resolve: %+v, want %+v", got, c.want)
			}
		})
	}
}

// runShards runs the command once per shard, each as its own process
// (the test binary running the CLI), with the shard given as a Slurm
// array task's index for odd shards and a Kubernetes completion index for
// even ones, and returns the shard folders (their last output lines).
func runShards(t *testing.T, n int, args ...string) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := exec.Command(exe, append(slices.Clip(args), "--shards", strconv.Itoa(n))...)
			env := envRunCLI + "=1"
			idx := EnvJobCompletionIndex
			if i%2 == 1 {
				idx = EnvSlurmArrayTaskID
			}
			c.Env = append(os.Environ(), env, idx+"="+strconv.Itoa(i))
			var out, errb bytes.Buffer
			c.Stdout, c.Stderr = &out, &errb
			if err := c.Run(); err != nil {
				errs[i] = err.Error() + ": " + errb.String()
				return
			}
			dirs[i] = lastLine(out.String())
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("shard %d/%d: %s", i, n, e)
		}
	}
	return dirs
}

// tree reads every file under dir by its path relative to dir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareTrees fails when two folders differ in their files' names or
// bytes.
func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	a, b := tree(t, want), tree(t, got)
	var na, nb []string
	for k := range a {
		na = append(na, k)
	}
	for k := range b {
		nb = append(nb, k)
	}
	sort.Strings(na)
	sort.Strings(nb)
	if diff := cmp.Diff(na, nb); diff != "" {
		t.Fatalf("files of the merge differ from one machine's run (-single +merged):\n%s", diff)
	}
	if len(na) == 0 {
		t.Fatal("no files written")
	}
	for _, k := range na {
		if a[k] != b[k] {
			t.Errorf("%s: the merge's bytes differ from one machine's run (%d vs %d bytes)", k, len(b[k]), len(a[k]))
		}
	}
}

// TestShards_MergeEqualsOneRun runs a sweep, a Monte Carlo study and a
// walk-forward once on one machine and as 4 shards in 4 processes (the
// index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID), merges the
// shard folders and compares the merged folder with the single run's,
// byte for byte.
func TestShards_MergeEqualsOneRun(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		// 6 points: shards of 2, 2, 1 and 1 points.
		{"sweep", append([]string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.98,0.99,0.995", "--param", "min_tvl=1e6,60e6",
			"-j", "1"}, shortRange...)},
		// 6 paths.
		{"montecarlo", []string{"montecarlo", "-s", exampleStrategy, "--scenario", "correlated-slash", "--paths", "6", "--seed", "7",
			"--from", "2024-06-01", "--to", "2024-06-08", "--step", "6h", "--workers", "1"}},
		// 3 windows: the fourth shard has none.
		{"walkforward", []string{"walkforward", "-s", exampleStrategy, "--param", "min_peg=0.98,0.995", "--train", "20d", "--test", "10d",
			"--from", "2024-06-01", "--to", "2024-07-21", "-j", "1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			single, shards, merged := t.TempDir(), t.TempDir(), t.TempDir()
			code, stdout, stderr := cli(t, append(c.args, "--out", single)...)
			if code != 0 {
				t.Fatalf("single run: exit %d: %s", code, stderr)
			}
			dirs := runShards(t, 4, append(c.args, "--out", shards)...)
			for i, d := range dirs {
				if want := ".shard-" + strconv.Itoa(i) + "-of-4"; !strings.HasSuffix(d, want) {
					t.Errorf("shard %d folder %q, want a name ending %s", i, d, want)
				}
			}
			code, mout, stderr := cli(t, append([]string{"merge", "--out", merged}, dirs...)...)
			if code != 0 {
				t.Fatalf("merge: exit %d: %s", code, stderr)
			}
			compareTrees(t, single, merged)
			if got, want := strings.TrimPrefix(lastLine(mout), merged), strings.TrimPrefix(lastLine(stdout), single); got != want {
				t.Errorf("merge's last line %q, want the single run's %q", got, want)
			}
			// The shards in another order merge to the same bytes.
			again := t.TempDir()
			code, _, stderr = cli(t, "merge", "--out", again, dirs[3], dirs[1], dirs[0], dirs[2])
			if code != 0 {
				t.Fatalf("merge in another order: exit %d: %s", code, stderr)
			}
			compareTrees(t, single, again)
		})
	}
}

// TestMerge_Refuses: merge names the folders when a shard is missing,
// given twice, from another study, or unfinished.
func TestMerge_Refuses(t *testing.T) {
	out := t.TempDir()
	run := func(grid, shard string) string {
		t.Helper()
		code, stdout, stderr := cli(t, append([]string{"sweep", "-s", exampleStrategy, "--param", grid, "-j", "1", "--out", out, "--shard", shard}, shortRange...)...)
		if code != 0 {
			t.Fatalf("sweep --shard %s: exit %d: %s", shard, code, stderr)
		}
		return lastLine(stdout)
	}
	a0, a1 := run("min_peg=0.98,0.995", "0/2"), run("min_peg=0.98,0.995", "1/2")
	b1 := run("min_peg=0.98,0.99", "1/2")
	unfinished := filepath.Join(out, "sweep-x.shard-0-of-2")
	if err := os.MkdirAll(unfinished, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		dirs []string
		want []string
	}{
		{"missing", []string{a0}, []string{"shard 1/2 of " + runOfShardDir(a0, backtest.Shard{Index: 0, Count: 2}) + " missing", "all 2 shards"}},
		{"twice", []string{a0, a1, a1}, []string{"shard 1/2", "given twice", a1}},
		{"another study", []string{a0, b1}, []string{b1, a0, "different studies"}},
		{"unfinished", []string{unfinished, a1}, []string{unfinished, "has no shard.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := cli(t, append([]string{"merge", "--out", t.TempDir()}, c.dirs...)...)
			if code == 0 {
				t.Fatal("merge succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if code, _, stderr := cli(t, "merge", "--out", t.TempDir(), a0, a1); code != 0 {
		t.Errorf("merge of the whole sweep: exit %d: %s", code, stderr)
	}
}
