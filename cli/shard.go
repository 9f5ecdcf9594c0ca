package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/yieldvault/yieldvault/backtest"
)

// The environment variables cluster engines set to a task's index.
const (
	// EnvJobCompletionIndex is set by a Kubernetes Indexed Job to the
	// pod's completion index (0 .. completions-1).
	EnvJobCompletionIndex = "JOB_COMPLETION_INDEX"
	// EnvSlurmArrayTaskID is set by a Slurm job array to the task's
	// index (--array=0-N).
	EnvSlurmArrayTaskID = "SLURM_ARRAY_TASK_ID"
)

// getenv reads the environment (a variable so that nothing else is
// needed to test the shard index's sources).
var getenv = os.Getenv

// shardFlags are --shard and --shards of the commands that split a study
// for a cluster engine.
type shardFlags struct {
	shard  string
	shards int
}

func (f *shardFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.shard, "shard", "", "run shard INDEX/COUNT of the "+what+" (0/4 is the first of 4) into its own folder, for 'yieldvault merge'")
	cmd.Flags().IntVar(&f.shards, "shards", 0, "split the "+what+" into this many shards, the index from $"+EnvJobCompletionIndex+" (Kubernetes Indexed Job) or $"+EnvSlurmArrayTaskID+" (Slurm array)")
}

// resolve returns the shard to run: none without --shard and --shards
// (the environment alone never shards a run); --shard i/n; or --shards n
// with the index from the cluster engine's variable. A bad value, or
// sources that disagree, is a usage error naming them.
func (f *shardFlags) resolve() (backtest.Shard, error) {
	if f.shard == "" && f.shards == 0 {
		return backtest.Shard{}, nil
	}
	// The index the environment gives, if any.
	envName, envIndex := "", -1
	for _, name := range []string{EnvJobCompletionIndex, EnvSlurmArrayTaskID} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return backtest.Shard{}, usagef("%s=%q is not a shard index (a whole number from 0)", name, v)
		}
		if envName != "" && i != envIndex {
			return backtest.Shard{}, usagef("%s=%d and %s=%d disagree on the shard index", envName, envIndex, name, i)
		}
		envName, envIndex = name, i
	}
	if f.shard != "" {
		s, err := backtest.ParseShard("--shard", f.shard)
		if err != nil {
			return backtest.Shard{}, &usageError{err}
		}
		if f.shards != 0 && f.shards != s.Count {
			return backtest.Shard{}, usagef("--shard %s and --shards %d disagree on the shard count", f.shard, f.shards)
		}
		if envName != "" && envIndex != s.Index {
			return backtest.Shard{}, usagef("--shard %s and %s=%d disagree on the shard index", f.shard, envName, envIndex)
		}
		return s, nil
	}
	if f.shards < 1 || f.shards > backtest.MaxShards {
		return backtest.Shard{}, usagef("--shards %d must be between 1 and %d", f.shards, backtest.MaxShards)
	}
	if envName == "" {
		return backtest.Shard{}, usagef("--shards %d needs the shard's index: --shard INDEX/%d, or $%s (a Kubernetes Indexed Job sets it) or $%s (a Slurm array)",
			f.shards, f.shards, EnvJobCompletionIndex, EnvSlurmArrayTaskID)
	}
	if envIndex >= f.shards {
		return backtest.Shard{}, usagef("%s=%d is not below --shards %d (the indices of %d shards are 0 to %d: completions: %d in Kubernetes, --array=0-%d in Slurm)",
			envName, envIndex, f.shards, f.shards, f.shards-1, f.shards, f.shards-1)
	}
	return backtest.Shard{Index: envIndex, Count: f.shards}, nil
}

// commandLine is the command and the flags set on it, as given, for a
// shard's manifest.
func commandLine(cmd *cobra.Command) []string {
	out := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}

// sha256Hex is the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// runInputs are the hashes of a study's inputs for its shard manifest.
func runInputs(strategy, catalog []byte, data string) map[string]string {
	in := map[string]string{"strategy": sha256Hex(strategy)}
	if len(catalog) > 0 {
		in["catalog"] = sha256Hex(catalog)
	}
	if data != "" {
		in["data"] = data
	}
	return in
}

// copyTree copies the regular files under src to dst (folders made as
// needed), each through a temporary file renamed into place.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return nil // temporary files of an unfinished write
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		tmp, err := os.CreateTemp(filepath.Dir(target), "."+d.Name()+".tmp*")
		if err != nil {
			return err
		}
		if _, err := io.Copy(tmp, in); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), target)
	})
}

func newMergeCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge SHARD_FOLDER... [--out DIR]",
		Short: "Combine the shard folders of a sweep, Monte Carlo or walk-forward into one machine's result",
		Long: `Read the shard folders that 'sweep', 'montecarlo' or 'walkforward' wrote with --shard or
--shards (each holds a shard.json: the study, the shard's index, its inputs' hashes; a folder
that is not a shard but holds shard folders NAME.shard-I-of-N of one study stands for them, so
that a job with no shell can name the shared --out folder), check that
they are every shard of one study exactly once, and write under --out what the command would have
written there on one machine, byte for byte: a sweep's run folders and sweep.csv, a Monte Carlo
study's folder, a walk-forward's folder. A missing, repeated or foreign shard is an error naming
the folders. The last line printed is the result's folder (a sweep's sweep.csv).`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if out == "" {
				return usagef("--out must name a folder")
			}
			dirs, err := expandShardDirs(dirs)
			if err != nil {
				return err
			}
			ms, folders, err := backtest.ReadShards(dirs)
			if err != nil {
				return err
			}
			switch ms[0].Kind {
			case "sweep":
				return mergeSweep(a, ms, folders, out)
			case "montecarlo":
				return mergeMonteCarlo(a, ms, folders, out)
			case "walkforward":
				return mergeWalkForward(a, ms, folders, out)
			}
			return fmt.Errorf("merge: %s: unknown kind of shard %q", filepath.Join(folders[0], backtest.ShardFile), ms[0].Kind)
		},
	}
	cmd.Flags().StringVar(&out, "out", "runs", "folder that receives the merged result")
	return cmd
}

// shardName matches a shard folder's name: RUN.shard-I-of-N.
var shardName = regexp.MustCompile(`^(.+)\.shard-\d+-of-\d+$`)

// expandShardDirs replaces each folder that is not a shard (no
// shard.json) but holds shard folders by those folders; they must be of
// one study.
func expandShardDirs(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, backtest.ShardFile)); err == nil || shardName.MatchString(filepath.Base(d)) {
			out = append(out, d)
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			out = append(out, d) // ReadShards names the problem
			continue
		}
		runs := map[string]bool{}
		var found []string
		for _, e := range ents {
			if m := shardName.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
				runs[m[1]] = true
				found = append(found, filepath.Join(d, e.Name()))
			}
		}
		switch {
		case len(found) == 0:
			out = append(out, d)
		case len(runs) > 1:
			names := make([]string, 0, len(runs))
			for r := range runs {
				names = append(names, r)
			}
			sort.Strings(names)
			return nil, usagef("%s holds the shards of %d studies (%s): name the shard folders of one", d, len(runs), strings.Join(names, ", "))
		default:
			out = append(out, found...)
		}
	}
	return out, nil
}
