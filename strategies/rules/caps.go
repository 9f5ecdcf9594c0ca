package rules

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// capValue is a constraint's value in a strategy file: a number, or
// params.NAME (a parameter of the file, so that sweeps can vary caps).
type capValue struct {
	V     float64
	Param string
	Set   bool
	// Bad is what the file held when it is neither (the loader reports
	// it at its line: an error from here would lose the position).
	Bad string
}

// UnmarshalYAML reads a number or "params.NAME".
func (c *capValue) UnmarshalYAML(b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Set = true
	switch x := v.(type) {
	case nil:
		c.Set = false
		return nil
	case uint64:
		c.V = float64(x)
	case int64:
		c.V = float64(x)
	case float64:
		c.V = x
	case string:
		s := strings.TrimSpace(x)
		if name, ok := strings.CutPrefix(s, "params."); ok && validParamName(name) {
			c.Param = name
			return nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			c.V = f
			return nil
		}
		c.Bad = fmt.Sprintf("%q is not a number or params.NAME", x)
	default:
		c.Bad = "a number or params.NAME is wanted here, not " + kindName(v)
	}
	return nil
}

func kindName(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case bool:
		return "true or false"
	}
	return "this value"
}

// constraintsSpec is the constraints block of a strategy file:
// strategies.Constraints whose values may read params.
type constraintsSpec struct {
	Idle          capValue                    `yaml:"idle"`
	MaxWeight     capValue                    `yaml:"max_weight"`
	MinWeight     capValue                    `yaml:"min_weight"`
	MaxKind       map[adapters.Kind]*capValue `yaml:"max_kind"`
	MaxProtocol   map[string]*capValue        `yaml:"max_protocol"`
	MaxTag        map[string]*capValue        `yaml:"max_tag"`
	MaxShareOfTVL capValue                    `yaml:"max_share_of_tvl"`
	MaxLeverage   capValue                    `yaml:"max_leverage"`
}

// hasParams reports whether any value reads a parameter.
func (c *constraintsSpec) hasParams() bool {
	found := false
	c.each(func(_ string, v *capValue) {
		found = found || v.Param != ""
	})
	return found
}

// each calls f on every value with its key path ("max_kind.lrt").
func (c *constraintsSpec) each(f func(key string, v *capValue)) {
	f("idle", &c.Idle)
	f("max_weight", &c.MaxWeight)
	f("min_weight", &c.MinWeight)
	kinds := make([]string, 0, len(c.MaxKind))
	for k := range c.MaxKind {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if v := c.MaxKind[adapters.Kind(k)]; v != nil {
			f("max_kind."+k, v)
		}
	}
	for _, k := range sortedKeys(c.MaxProtocol) {
		if v := c.MaxProtocol[k]; v != nil {
			f("max_protocol."+k, v)
		}
	}
	for _, k := range sortedKeys(c.MaxTag) {
		if v := c.MaxTag[k]; v != nil {
			f("max_tag."+k, v)
		}
	}
	f("max_share_of_tvl", &c.MaxShareOfTVL)
	f("max_leverage", &c.MaxLeverage)
}

// resolve returns the constraints with each params.NAME replaced by the
// parameter's value; unknown lists the key paths whose parameter is not
// declared.
func (c *constraintsSpec) resolve(param func(string) (float64, bool)) (out strategies.Constraints, unknown map[string]string) {
	val := func(key string, v *capValue) float64 {
		if v == nil {
			return 0
		}
		if v.Param == "" {
			return v.V
		}
		x, ok := param(v.Param)
		if !ok {
			if unknown == nil {
				unknown = map[string]string{}
			}
			unknown[key] = v.Param
			return math.NaN()
		}
		return x
	}
	out.Idle = val("idle", &c.Idle)
	out.MaxWeight = val("max_weight", &c.MaxWeight)
	out.MinWeight = val("min_weight", &c.MinWeight)
	out.MaxShareOfTVL = val("max_share_of_tvl", &c.MaxShareOfTVL)
	out.MaxLeverage = val("max_leverage", &c.MaxLeverage)
	if len(c.MaxKind) > 0 {
		out.MaxKind = map[adapters.Kind]float64{}
		for k, v := range c.MaxKind {
			out.MaxKind[k] = val("max_kind."+string(k), v)
		}
	}
	if len(c.MaxProtocol) > 0 {
		out.MaxProtocol = map[string]float64{}
		for k, v := range c.MaxProtocol {
			out.MaxProtocol[k] = val("max_protocol."+k, v)
		}
	}
	if len(c.MaxTag) > 0 {
		out.MaxTag = map[string]float64{}
		for k, v := range c.MaxTag {
			out.MaxTag[k] = val("max_tag."+k, v)
		}
	}
	return out, unknown
}
