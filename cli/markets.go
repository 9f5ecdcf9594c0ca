package cli

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
)

type marketsJSON struct {
	Protocols []protocolJSON    `json:"protocols"`
	Markets   []adapters.Market `json:"markets"`
}

type protocolJSON struct {
	Name         string                    `json:"name"`
	Display      string                    `json:"display"`
	Kind         adapters.Kind             `json:"kind"`
	Base         adapters.Asset            `json:"base,omitempty"`
	Layer        string                    `json:"layer,omitempty"`
	Venue        string                    `json:"venue,omitempty"`
	PoolType     string                    `json:"pool_type,omitempty"`
	RewardTokens []string                  `json:"reward_tokens,omitempty"`
	Tags         []string                  `json:"tags,omitempty"`
	Params       map[string]adapters.Param `json:"params"`
	Source       string                    `json:"source,omitempty"`
	Driver       string                    `json:"driver,omitempty"`
	Markets      []string                  `json:"markets"`
}

func newMarketsCmd(a *app) *cobra.Command {
	var asJSON, params bool
	var kind, at string
	cmd := &cobra.Command{
		Use:   "markets",
		Short: "List the protocols and markets the adapters know",
		Long: "List every protocol profile and market in the catalog: the built-in table plus\n" +
			"any --catalog file. With --params, print each profile parameter and its source;\n" +
			"a parameter that changed over time lists each dated value with its own source.\n" +
			"With --at DATE, print the values in force on that date.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.catalog()
			if err != nil {
				return err
			}
			var when time.Time
			if at != "" {
				if when, err = parseTime(at); err != nil {
					return &usageError{fmt.Errorf("--at: %v", err)}
				}
				params = true
			}
			var filter adapters.Kind
			if kind != "" {
				if filter, err = adapters.ParseKind(kind); err != nil {
					return &usageError{err}
				}
			}
			byProto := map[string][]string{}
			var markets []adapters.Market
			for _, m := range c.Markets() {
				if filter != "" && m.Kind != filter {
					continue
				}
				byProto[m.Protocol] = append(byProto[m.Protocol], m.ID)
				markets = append(markets, m)
			}
			var protos []protocolJSON
			for _, p := range c.Profiles() {
				if filter != "" && p.Kind != filter {
					continue
				}
				ids := byProto[p.Name]
				sort.Strings(ids)
				if ids == nil {
					ids = []string{}
				}
				protos = append(protos, protocolJSON{
					Name: p.Name, Display: p.Display, Kind: p.Kind, Base: p.Base, Layer: p.Layer,
					Venue: p.Venue, PoolType: p.PoolType, RewardTokens: p.RewardTokens, Tags: p.Tags,
					Params: p.Params, Source: p.Source, Driver: p.Driver, Markets: ids,
				})
			}
			if asJSON {
				return writeJSON(a.stdout, marketsJSON{Protocols: protos, Markets: markets})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROTOCOL\tKIND\tBASE\tNAME\tMARKETS")
			for _, p := range protos {
				base := string(p.Base)
				if base == "" {
					base = "any"
				}
				kind := string(p.Kind)
				if p.Driver != "" {
					kind += " (driver " + p.Driver + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, kind, base, p.Display, strings.Join(p.Markets, ", "))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if params {
				for _, p := range protos {
					fmt.Fprintf(a.stdout, "\n%s (%s)\n", p.Name, p.Display)
					keys := make([]string, 0, len(p.Params))
					for k := range p.Params {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						printParam(a, k, p.Params[k], at != "", when)
					}
					// Each market's own overrides of the profile, with
					// their sources.
					for _, m := range markets {
						if m.Protocol != p.Name || len(m.Params) == 0 {
							continue
						}
						fmt.Fprintf(a.stdout, "  market %s overrides:\n", m.ID)
						keys := make([]string, 0, len(m.Params))
						for k := range m.Params {
							keys = append(keys, k)
						}
						sort.Strings(keys)
						for _, k := range keys {
							src := m.Sources[k]
							if src == "" {
								src = "(no source given)"
							}
							fmt.Fprintf(a.stdout, "    %-23s %-10g %s\n", k, m.Params[k], src)
						}
					}
				}
				return nil
			}
			fmt.Fprintf(a.stdout, "\n%d protocols, %d markets\n", len(protos), len(markets))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&params, "params", false, "print every profile parameter with its source note")
	known := adapters.KnownKinds()
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	cmd.Flags().StringVar(&kind, "kind", "", "only markets of this kind ("+strings.Join(names, ", ")+")")
	cmd.Flags().StringVar(&at, "at", "", "with --params: the values in force at this date or time (UTC)")
	return cmd
}

// printParam prints one profile parameter: at a time, the value in force
// then (or that it was not in force yet); otherwise its value and, for a
// dated parameter, each dated value with its source.
func printParam(a *app, name string, prm adapters.Param, atSet bool, at time.Time) {
	if atSet {
		v, src, ok := prm.AtTime(at)
		if !ok {
			fmt.Fprintf(a.stdout, "  %-23s %-10s not in force before %s: %s\n", name, "-", prm.Since, prm.Source)
			return
		}
		fmt.Fprintf(a.stdout, "  %-23s %-10g %s\n", name, v, src)
		return
	}
	if !prm.IsDated() {
		fmt.Fprintf(a.stdout, "  %-23s %-10g %s\n", name, prm.Value, prm.Source)
		return
	}
	from := "always"
	if prm.Since != "" {
		from = "from " + prm.Since
	}
	fmt.Fprintf(a.stdout, "  %-23s %-10g %s: %s\n", name, prm.Value, from, prm.Source)
	for _, c := range prm.Changes {
		fmt.Fprintf(a.stdout, "  %-23s %-10g from %s: %s\n", "", c.Value, c.From, c.Source)
	}
}
