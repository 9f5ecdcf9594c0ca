package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/backtest"
)

// mcShard is a Monte Carlo shard's payload in shard.json: the study's
// settings, the strategy file as given, the fan chart's times and the
// shard's paths with their sampled equity.
type mcShard struct {
	Settings     backtest.MCSettings `json:"settings"`
	StrategyFile string              `json:"strategy_file"`
	FanTimes     []time.Time         `json:"fan_times"`
	Paths        []mcShardPath       `json:"paths"`
}

type mcShardPath struct {
	backtest.MCPath
	Fan []float64 `json:"fan"`
}

// catalogBytes are the catalogs a strategy runs with (--catalog and the
// strategy's own), for the inputs' hashes.
func (a *app) catalogBytes(s *strat) []byte {
	var b []byte
	for _, f := range []string{a.catalogFile, s.CatalogFile()} {
		if f == "" {
			continue
		}
		if x, err := os.ReadFile(f); err == nil {
			b = append(append(b, x...), 0)
		}
	}
	return b
}

// finishMCShard writes a Monte Carlo shard's manifest and prints its
// folder.
func finishMCShard(a *app, cmd *cobra.Command, s *strat, file string, shard backtest.Shard, dir string, res *backtest.MCResult) error {
	st := res.Settings()
	p := mcShard{Settings: st, StrategyFile: file, FanTimes: res.FanTimes, Paths: []mcShardPath{}}
	done := []int{}
	failed := 0
	for _, x := range res.Paths {
		p.Paths = append(p.Paths, mcShardPath{MCPath: x, Fan: x.Fan})
		done = append(done, x.Index)
		if x.Err != "" {
			failed++
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	m := &backtest.ShardManifest{Kind: "montecarlo", Run: runOfShardDir(dir, shard), Shard: shard.Index, Shards: shard.Count,
		Command: commandLine(cmd), Inputs: runInputs(s.data, a.catalogBytes(s), ""), Items: st.Paths, Done: done, Payload: b}
	if err := backtest.WriteShardManifest(dir, m); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "montecarlo %s under %s: shard %s of %s, %d of %d paths (%d failed)\n", st.Strategy, st.Scenario, shard, m.Run, len(done), st.Paths, failed)
	fmt.Fprintln(a.stdout, dir)
	return nil
}

// mergeMonteCarlo merges Monte Carlo shards into the study's run folder.
func mergeMonteCarlo(a *app, ms []*backtest.ShardManifest, folders []string, out string) error {
	var all []backtest.MCPath
	var p mcShard
	for i, m := range ms {
		p = mcShard{}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return adapters.E("merge", adapters.KindInvalid, "%s: payload: %v", filepath.Join(folders[i], backtest.ShardFile), err)
		}
		for _, x := range p.Paths {
			x.MCPath.Fan = x.Fan
			all = append(all, x.MCPath)
		}
	}
	res, err := backtest.MergeMonteCarlo(p.Settings, p.FanTimes, all)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, ms[0].Run)
	if err := backtest.WriteMonteCarlo(dir, p.StrategyFile, res); err != nil {
		return err
	}
	printMonteCarlo(a, res)
	fmt.Fprintln(a.stdout, dir)
	return nil
}

// wfShard is a walk-forward shard's payload: the objective, the capital
// and risk-free rate the stitching uses, and the shard's windows.
type wfShard struct {
	Objective string              `json:"objective"`
	Capital   float64             `json:"capital"`
	RiskFree  float64             `json:"risk_free"`
	Windows   []backtest.WFWindow `json:"windows"`
}

// mergeWalkForward merges walk-forward shards into the study's folder.
func mergeWalkForward(a *app, ms []*backtest.ShardManifest, folders []string, out string) error {
	var p wfShard
	var ws []backtest.WFWindow
	for i, m := range ms {
		p = wfShard{}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return adapters.E("merge", adapters.KindInvalid, "%s: payload: %v", filepath.Join(folders[i], backtest.ShardFile), err)
		}
		ws = append(ws, p.Windows...)
	}
	if len(ws) != ms[0].Items {
		return adapters.E("merge", adapters.KindInvalid, "the shards hold %d windows of %d", len(ws), ms[0].Items)
	}
	ordered := make([]backtest.WFWindow, len(ws))
	seen := make([]bool, len(ws))
	for _, w := range ws {
		if w.Index < 0 || w.Index >= len(ws) || seen[w.Index] {
			return adapters.E("merge", adapters.KindInvalid, "window %d of %d is out of range or given twice", w.Index, len(ws))
		}
		seen[w.Index] = true
		ordered[w.Index] = w
	}
	res := backtest.AssembleWalkForward(p.Objective, ordered, p.Capital, p.RiskFree)
	dir := filepath.Join(out, ms[0].Run)
	if err := writeWalkForward(dir, res); err != nil {
		return adapters.E("merge", adapters.KindOther, "writing %s: %v", dir, err)
	}
	printWalkForward(a, res)
	fmt.Fprintln(a.stdout, dir)
	return nil
}

// runWFShard runs a walk-forward shard's windows and writes its manifest;
// prints each window's choice and, last, the shard's folder.
func runWFShard(a *app, cmd *cobra.Command, rs *runSetup, wf backtest.WalkForwardSpec, shard backtest.Shard, dir string) error {
	if err := backtest.RemoveShardManifest(dir); err != nil {
		return err
	}
	all, err := backtest.WFWindows(wf)
	if err != nil {
		return err
	}
	p := wfShard{Objective: wf.Sweep.Objective, Capital: wf.Sweep.Spec.Capital.InexactFloat64(), RiskFree: wf.Sweep.Spec.RiskFree,
		Windows: []backtest.WFWindow{}}
	done := shard.Items(len(all))
	for _, i := range done {
		w := all[i]
		if err := backtest.RunWFWindow(cmd.Context(), wf, &w); err != nil {
			return err
		}
		p.Windows = append(p.Windows, w)
		fmt.Fprintf(a.stdout, "window %d: %s..%s test ..%s: chose %s\n", w.Index, day(w.TrainFrom), day(w.TrainTo), day(w.TestTo), w.Chosen)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	m := &backtest.ShardManifest{Kind: "walkforward", Run: runOfShardDir(dir, shard), Shard: shard.Index, Shards: shard.Count,
		Command: commandLine(cmd), Inputs: runInputs(rs.fileData, rs.catalog, backtest.DataFingerprint(rs.spec.Data)),
		Items: len(all), Done: done, Payload: b}
	if err := backtest.WriteShardManifest(dir, m); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "shard %s of %s: %d of %d windows\n", shard, m.Run, len(done), len(all))
	fmt.Fprintln(a.stdout, dir)
	return nil
}
