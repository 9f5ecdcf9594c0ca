package rules

// HasExitRule reports whether the file sets exit.when. A strategy without
// one never lists markets in Target.Exit, so a keeper need not plan at
// every step to check it (the backtest engine plans only on schedule
// ticks then).
func (s *Strategy) HasExitRule() bool { return s.exit != nil }
