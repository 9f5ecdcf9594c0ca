package backtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
)

// Shard is one part of a study (a sweep's points, a Monte Carlo study's
// paths, a walk-forward's windows) split for a cluster engine: shard
// Index of Count runs the items whose index i has i % Count == Index
// (round robin, so that neighbouring points, often of similar cost, land
// on different shards). The zero Shard is the whole study.
type Shard struct {
	Index, Count int
}

// Sharded reports whether s is a part (Count >= 1), not the whole study.
func (s Shard) Sharded() bool { return s.Count > 0 }

// Has reports whether item i belongs to the shard.
func (s Shard) Has(i int) bool { return s.Count <= 0 || i%s.Count == s.Index }

// Items returns the indices of the shard's items among n.
func (s Shard) Items(n int) []int {
	out := []int{}
	for i := 0; i < n; i++ {
		if s.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// String is "INDEX/COUNT".
func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Folder is the shard's folder for a study folder name run:
// "RUN.shard-INDEX-of-COUNT".
func (s Shard) Folder(run string) string {
	return fmt.Sprintf("%s.shard-%d-of-%d", run, s.Index, s.Count)
}

// MaxShards bounds a shard count.
const MaxShards = 100000

// ParseShard parses "INDEX/COUNT" (--shard 2/8): COUNT from 1 to
// MaxShards, INDEX from 0 to COUNT-1. what names the value in errors.
func ParseShard(what, v string) (Shard, error) {
	const op = "backtest.ParseShard"
	i, n, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return Shard{}, adapters.E(op, adapters.KindInvalid, "%s %q is not INDEX/COUNT (0/4 is the first of 4 shards)", what, v)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Shard{}, adapters.E(op, adapters.KindInvalid, "%s %q is not INDEX/COUNT of whole numbers (0/4 is the first of 4 shards)", what, v)
	}
	s := Shard{Index: idx, Count: cnt}
	return s, s.check(what)
}

func (s Shard) check(what string) error {
	const op = "backtest.ParseShard"
	switch {
	case s.Count < 1 || s.Count > MaxShards:
		return adapters.E(op, adapters.KindInvalid, "%s: the shard count %d must be between 1 and %d", what, s.Count, MaxShards)
	case s.Index < 0 || s.Index >= s.Count:
		return adapters.E(op, adapters.KindInvalid, "%s: the shard index %d must be between 0 and %d (indices of %d shards start at 0)", what, s.Index, s.Count-1, s.Count)
	}
	return nil
}

// ShardFile is the manifest a shard writes last into its folder.
const ShardFile = "shard.json"

// ShardManifest describes a finished shard: which study it is part of,
// which part, the hashes of its inputs and the items it ran. Merge takes
// shards whose Kind, Run, Count, Items and Inputs agree.
type ShardManifest struct {
	// Kind is the command: sweep, montecarlo or walkforward.
	Kind string `json:"kind"`
	// Run is the study's folder name, the one a single machine writes
	// (it hashes the strategy, its parameters, the settings and the data).
	Run string `json:"run"`
	// Shard and Shards: this is shard Shard of Shards.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Command is the command line's flags, as given (for people; shards
	// differ in their --shard).
	Command []string `json:"command"`
	// Inputs are SHA-256 hashes (hex) of the study's inputs: the strategy
	// file, the catalog, the data.
	Inputs map[string]string `json:"inputs"`
	// Items is the study's number of points, paths or windows; Done the
	// indices this shard ran.
	Items int   `json:"items"`
	Done  []int `json:"done"`
	// Payload is the kind's own record of its items.
	Payload json.RawMessage `json:"payload"`
}

// WriteShardManifest writes dir/shard.json (through a temporary file).
func WriteShardManifest(dir string, m *ShardManifest) error {
	const op = "backtest.WriteShardManifest"
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return adapters.Wrap(op, adapters.KindInvalid, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, ShardFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	return nil
}

// RemoveShardManifest removes dir/shard.json before a shard (re)runs, so
// that a folder whose shard did not finish is never merged.
func RemoveShardManifest(dir string) error {
	if err := os.Remove(filepath.Join(dir, ShardFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return adapters.Wrap("backtest.RemoveShardManifest", adapters.KindOther, err)
	}
	return nil
}

// ReadShards reads the manifests of shard folders and checks that they
// make one whole study: one kind, one run, the same count, items and
// inputs, every index once, each shard's items exactly its share. The
// result is ordered by shard index, with Dirs[i] the folder of shard i.
func ReadShards(dirs []string) (ms []*ShardManifest, folders []string, err error) {
	const op = "merge"
	bad := func(format string, args ...any) error {
		return adapters.E(op, adapters.KindInvalid, format, args...)
	}
	if len(dirs) == 0 {
		return nil, nil, bad("no shard folders to merge")
	}
	var first *ShardManifest
	firstDir := ""
	byIndex := map[int]string{}
	for _, d := range dirs {
		path := filepath.Join(d, ShardFile)
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil, adapters.E(op, adapters.KindNotFound, "%s has no %s: it is not a shard folder, or its shard has not finished", d, ShardFile)
			}
			return nil, nil, adapters.Wrap(op, adapters.KindOther, err)
		}
		var m ShardManifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, nil, bad("%s: %v", path, err)
		}
		s := Shard{Index: m.Shard, Count: m.Shards}
		if err := s.check(path); err != nil {
			return nil, nil, err
		}
		if m.Kind == "" || m.Run == "" {
			return nil, nil, bad("%s: no kind or run", path)
		}
		if want := s.Items(m.Items); !equalInts(want, m.Done) {
			return nil, nil, bad("%s: shard %s of %d items lists %d done, want %d (the folder was changed after the shard finished)", path, s, m.Items, len(m.Done), len(want))
		}
		if first == nil {
			first, firstDir = &m, d
		} else {
			switch {
			case m.Kind != first.Kind:
				return nil, nil, bad("%s is a %s shard and %s a %s shard: merge the shards of one study", d, m.Kind, firstDir, first.Kind)
			case m.Run != first.Run:
				return nil, nil, bad("%s is a shard of %s and %s of %s: they are different studies (other strategy, parameters, settings or data)", d, m.Run, firstDir, first.Run)
			case m.Shards != first.Shards:
				return nil, nil, bad("%s is shard %s and %s shard %d/%d: the shard counts differ", d, s, firstDir, first.Shard, first.Shards)
			case m.Items != first.Items:
				return nil, nil, bad("%s has %d items and %s %d: they are different studies", d, m.Items, firstDir, first.Items)
			}
			if k := diffKey(m.Inputs, first.Inputs); k != "" {
				return nil, nil, bad("%s and %s ran on different inputs: their %s hashes differ", d, firstDir, k)
			}
		}
		if prev, ok := byIndex[m.Shard]; ok {
			return nil, nil, bad("shard %s of %s is given twice: %s and %s", s, m.Run, prev, d)
		}
		byIndex[m.Shard] = d
		mm := m
		ms = append(ms, &mm)
	}
	var missing []string
	for i := 0; i < first.Shards; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, Shard{Index: i, Count: first.Shards}.String())
		}
	}
	if len(missing) > 0 {
		return nil, nil, bad("shard %s of %s missing: merge needs all %d shards", strings.Join(missing, ", "), first.Run, first.Shards)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Shard < ms[j].Shard })
	for _, m := range ms {
		folders = append(folders, byIndex[m.Shard])
	}
	return ms, folders, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// diffKey returns the first key (sorted) whose values differ between a
// and b, "" when they are equal.
func diffKey(a, b map[string]string) string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			return k
		}
	}
	return ""
}
