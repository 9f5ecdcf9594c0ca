package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/backtest"
)

// sweepShard is a sweep shard's payload in shard.json: the objective,
// the swept parameters' names and each of its points.
type sweepShard struct {
	Objective string            `json:"objective"`
	Names     []string          `json:"params"`
	Points    []sweepShardPoint `json:"points"`
}

// sweepShardPoint is one point a shard ran: its grid index, key and
// parameters, its status (ran, resumed or failed), its error and its run
// folder's name (inside the shard's folder).
type sweepShardPoint struct {
	Index  int                `json:"index"`
	Key    string             `json:"key"`
	Params map[string]float64 `json:"params"`
	Status string             `json:"status"`
	Error  string             `json:"error,omitempty"`
	Folder string             `json:"folder"`
	// Headline is the point's metrics at full precision (summary.json
	// writes 15 digits; sweep.csv the shortest exact form).
	Headline *backtest.Headline `json:"headline,omitempty"`
}

// runOfShardDir is the study's folder name of a shard's folder.
func runOfShardDir(dir string, s backtest.Shard) string {
	base := filepath.Base(dir)
	return base[:len(base)-len(s.Folder(""))]
}

// finishSweepShard writes a sweep shard's manifest (last: the folder is
// then complete), prints the shard's points and, last, its folder.
func finishSweepShard(a *app, cmd *cobra.Command, rs *runSetup, shard backtest.Shard, dir, objective string, names []string, gridSize int, rows []sweepRow) error {
	payload := sweepShard{Objective: objective, Names: names, Points: []sweepShardPoint{}}
	done := make([]int, 0, len(rows))
	failed := 0
	for _, r := range rows {
		pt := sweepShardPoint{Index: r.run.Index, Key: r.run.Key, Params: r.run.Params,
			Status: r.status, Error: r.run.Err, Folder: filepath.Base(r.dir)}
		if r.status != "failed" {
			h := r.run.Metrics.Headline
			pt.Headline = &h
		}
		payload.Points = append(payload.Points, pt)
		done = append(done, r.run.Index)
	}
	slices.Sort(done)
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	m := &backtest.ShardManifest{
		Kind: "sweep", Run: runOfShardDir(dir, shard), Shard: shard.Index, Shards: shard.Count, Command: commandLine(cmd),
		Inputs: runInputs(rs.fileData, rs.catalog, backtest.DataFingerprint(rs.spec.Data)), Items: gridSize, Done: done, Payload: b,
	}
	if err := backtest.WriteShardManifest(dir, m); err != nil {
		return err
	}
	failed = printSweep(a.stdout, rows, objective, dir)
	fmt.Fprintf(a.stdout, "shard %s of %s: %d of %d points\n", shard, m.Run, len(done), gridSize)
	fmt.Fprintln(a.stdout, dir)
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d points of shard %s failed (recorded in %s; merge lists them)", failed, len(rows), shard, backtest.ShardFile)}
	}
	return nil
}

// mergeSweep merges sweep shards: each point's run folder copied to out,
// and sweep.csv from every point's summary, as one machine's sweep writes
// them; prints the table and, last, sweep.csv's path.
func mergeSweep(a *app, ms []*backtest.ShardManifest, folders []string, out string) error {
	var rows []sweepRow
	var objective string
	var names []string
	for i, m := range ms {
		var p sweepShard
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return adapters.E("merge", adapters.KindInvalid, "%s: payload: %v", filepath.Join(folders[i], backtest.ShardFile), err)
		}
		objective, names = p.Objective, p.Names
		for _, pt := range p.Points {
			r := &backtest.SweepRun{Index: pt.Index, Key: pt.Key, Params: pt.Params, Err: pt.Error}
			row := sweepRow{run: r, dir: filepath.Join(out, pt.Folder), status: pt.Status}
			if pt.Status != "failed" {
				src := filepath.Join(folders[i], pt.Folder)
				if !backtest.Finished(src) {
					return adapters.E("merge", adapters.KindNotFound, "%s: point %s has no finished run folder (%s)", folders[i], pt.Key, src)
				}
				if err := copyTree(src, row.dir); err != nil {
					return adapters.E("merge", adapters.KindOther, "copying %s to %s: %v", src, row.dir, err)
				}
				if pt.Headline == nil {
					return adapters.E("merge", adapters.KindInvalid, "%s: point %s has no metrics", filepath.Join(folders[i], backtest.ShardFile), pt.Key)
				}
				r.Metrics.Headline = *pt.Headline
				r.Objective, _ = backtest.ObjectiveValue(&r.Metrics, objective)
				r.Undefined = !backtest.ObjectiveDefined(&r.Metrics, objective)
			}
			rows = append(rows, row)
		}
	}
	sortSweep(rows, objective)
	points := sweepPoints(rows)
	csvPath, err := saveSweepCSV(filepath.Join(out, ms[0].Run), points, names)
	if err != nil {
		return adapters.E("merge", adapters.KindOther, "writing sweep.csv: %v", err)
	}
	failed := printSweep(a.stdout, rows, objective, out)
	fmt.Fprintln(a.stdout, csvPath)
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d sweep points failed", failed, len(rows))}
	}
	return nil
}
