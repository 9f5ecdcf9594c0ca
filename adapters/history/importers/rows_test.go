package importers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

func TestRowSpec_Bind(t *testing.T) {
	// Every dataset's spec names only columns of its own header.
	for _, d := range datasets {
		tb, err := newTable("test", "in", strings.NewReader(d.header+"\n"), ',', 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.spec.bind(tb); err != nil {
			t.Errorf("%s: bind to its own header: %v", d.format, err)
		}
	}
	tests := []struct {
		name string
		spec rowSpec
		want string // "" for no error, else a text of the error
	}{
		{"bound", rowSpec{time: col{name: "t"}, cols: []col{{name: "b", with: []string{"a"}}}}, ""},
		{"time missing", rowSpec{time: col{name: "when"}}, `no column "when"`},
		{"before missing", rowSpec{time: col{name: "t"}, before: []col{{name: "sym"}}}, `no column "sym"`},
		{"col missing", rowSpec{time: col{name: "t"}, cols: []col{{name: "a"}, {name: "c"}}}, `no column "c"`},
		{"with missing", rowSpec{time: col{name: "t"}, cols: []col{{name: "a", with: []string{"b", "z"}}}}, `no column "z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := newTable("test", "in", strings.NewReader("t,a,b\n"), ',', 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.spec.bind(tb)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("bind: %v", err)
				}
				if got.time.i != 0 || got.cols[0].i != 2 || !cmp.Equal(got.cols[0].w, []int{1}) {
					t.Errorf("indices: time %d, col %d with %v; want 0, 2 with [1]", got.time.i, got.cols[0].i, got.cols[0].w)
				}
				if tc.spec.cols[0].w != nil {
					t.Errorf("bind changed the spec it copies: %v", tc.spec.cols[0].w)
				}
				return
			}
			var e *adapters.Error
			if !errors.As(err, &e) || e.Kind != adapters.KindInvalid || e.Pos != "in:1" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("bind error = %v; want KindInvalid at in:1 mentioning %q", err, tc.want)
			}
		})
	}
}

func TestReadRows_Steps(t *testing.T) {
	// A spec whose steps record what ran: a before-step that rejects "bad"
	// and skips "skip"; a hook that skips "drop" and doubles a; a plain b.
	before := func(r *row, c *col) error {
		switch r.t.cell(c.i) {
		case "bad":
			return r.t.errAt(c.i, "bad symbol")
		case "skip":
			r.skip("skipped before the time")
		}
		r.market = r.c.market("lido/" + r.t.cell(c.i))
		return nil
	}
	double := func(r *row, c *col) error {
		if r.t.cell(c.w[0]) == "drop" {
			r.skip("dropped")
			return nil
		}
		v, ok, err := r.t.num(c.i, c.unit)
		if err != nil || !ok {
			return err
		}
		return r.t.put(&r.o, c.field, 2*v, c.i)
	}
	spec := rowSpec{
		market: "lido/steth",
		before: []col{{name: "sym", put: before}},
		time:   col{name: "t", unit: TimeUnixS},
		cols: []col{
			{name: "a", field: adapters.FieldAPY, unit: UnitPercent, with: []string{"note"}, put: double},
			{name: "b", field: adapters.FieldPrice},
		},
		empty: "nothing",
	}
	const head = "sym,t,a,b,note\n"
	tests := []struct {
		name    string
		src     string
		market  string // Options.Market
		want    []history.Row
		skipped int
		notes   []string
		err     string // position of the error, when one
	}{
		{
			name: "values", src: head + "steth,1700000000,1.5,1.01,\nsteth,1700003600,,,\n",
			want:    []history.Row{{Market: "lido/steth", Line: 2, Obs: obs(1700000000, F{adapters.FieldAPY: 0.03, adapters.FieldPrice: 1.01})}},
			skipped: 1, notes: []string{"1 rows skipped: nothing"},
		},
		{
			name: "skips stop the steps", src: head + "skip,x,x,x,\nsteth,1700000000,x,x,drop\nsteth,1700003600,,2,\n",
			want:    []history.Row{{Market: "lido/steth", Line: 4, Obs: obs(1700003600, F{adapters.FieldPrice: 2})}},
			skipped: 2, notes: []string{"1 rows skipped: skipped before the time", "1 rows skipped: dropped"},
		},
		{
			name: "market override", src: head + "wsteth,1700000000,,1,\n", market: "eigenlayer/steth",
			want: []history.Row{{Market: "eigenlayer/steth", Line: 2, Obs: obs(1700000000, F{adapters.FieldPrice: 1})}},
		},
		{name: "before runs before the time", src: head + "bad,x,1,1,\n", err: "in:2:1"},
		{name: "time before the cols", src: head + "steth,x,y,1,\n", err: "in:2:7"},
		{name: "cols in order", src: head + "steth,1700000000,y,z,\n", err: "in:2:18"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &readCtx{ctx: context.Background(), name: "in", opts: Options{Market: tc.market}}
			tb, err := newTable("test", "in", strings.NewReader(tc.src), ',', 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.bind(tb)
			if err != nil {
				t.Fatal(err)
			}
			b := c.builder("test")
			err = readRows(c, tb, s, b, int64(len(tc.src)))
			if tc.err != "" {
				var e *adapters.Error
				if !errors.As(err, &e) || e.Pos != tc.err {
					t.Fatalf("error = %v; want one at %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.finish()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Rows, cmpFloat); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if got.Skipped != tc.skipped || !cmp.Equal(got.Notes, tc.notes, cmpopts.EquateEmpty()) {
				t.Errorf("skipped %d, notes %q; want %d, %q", got.Skipped, got.Notes, tc.skipped, tc.notes)
			}
		})
	}
}
