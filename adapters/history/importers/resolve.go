package importers

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// resolveOverlaps settles files that give the same field of the same
// market over overlapping time. The store merges rows of the same market
// and time, so two sources of one field at interleaved times would make a
// series jump between them (rETH's rate from the Rocket Pool events and
// from the Compound oracle differ by up to 13 bps). For every (market,
// field), a batch of higher precedence (rankOf its format) keeps the field
// over [its first, its last] time with that field; every batch of lower
// precedence drops the field at times inside that span. Rows left with no
// field are removed. Batches of equal precedence are left alone. Each
// affected batch gets a note.
func resolveOverlaps(batches []*history.Batch) {
	type key struct {
		market string
		field  adapters.Field
	}
	type span struct {
		lo, hi int64
		rank   int
		batch  int
	}
	spans := map[key][]span{}
	for bi, b := range batches {
		rank := rankOf(Format(b.Format))
		local := map[key]*span{}
		for _, r := range b.Rows {
			t := r.Obs.Time.Unix()
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if !r.Obs.Set.Has(f) {
					continue
				}
				k := key{r.Market, f}
				s, ok := local[k]
				if !ok {
					local[k] = &span{lo: t, hi: t, rank: rank, batch: bi}
					continue
				}
				s.lo, s.hi = min(s.lo, t), max(s.hi, t)
			}
		}
		for k, s := range local {
			spans[k] = append(spans[k], *s)
		}
	}
	type drop struct {
		market string
		field  adapters.Field
		winner int
	}
	for bi, b := range batches {
		rank := rankOf(Format(b.Format))
		counts := map[drop]int{}
		kept := b.Rows[:0]
		for _, r := range b.Rows {
			t := r.Obs.Time.Unix()
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if !r.Obs.Set.Has(f) {
					continue
				}
				winner := -1
				for i, s := range spans[key{r.Market, f}] {
					if s.batch != bi && s.rank > rank && t >= s.lo && t <= s.hi &&
						(winner < 0 || s.rank > spans[key{r.Market, f}][winner].rank) {
						winner = i
					}
				}
				if winner >= 0 {
					r.Obs.Set &^= 1 << f
					r.Obs.Values[f] = 0
					counts[drop{r.Market, f, spans[key{r.Market, f}][winner].batch}]++
				}
			}
			if r.Obs.Set != 0 {
				kept = append(kept, r)
			}
		}
		b.Rows = kept
		if len(counts) == 0 {
			continue
		}
		ds := make([]drop, 0, len(counts))
		for d := range counts {
			ds = append(ds, d)
		}
		sort.Slice(ds, func(i, j int) bool {
			if ds[i].market != ds[j].market {
				return ds[i].market < ds[j].market
			}
			return ds[i].field < ds[j].field
		})
		for _, d := range ds {
			var w span
			for _, s := range spans[key{d.market, d.field}] {
				if s.batch == d.winner {
					w = s
				}
			}
			b.Notes = append(b.Notes, fmt.Sprintf("%d %s %s values dropped: %s gives that field from %s to %s and takes precedence",
				counts[d], d.market, d.field, filepath.Base(batches[d.winner].Source),
				timeString(time.Unix(w.lo, 0)), timeString(time.Unix(w.hi, 0))))
		}
		// Markets no longer referenced stay listed: they are harmless and
		// keep the batch's market set stable.
	}
}
