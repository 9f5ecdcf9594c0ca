package service

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the service's Prometheus metrics, on their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	NAV           *prometheus.GaugeVec
	SharePrice    *prometheus.GaugeVec
	APY           *prometheus.GaugeVec
	PositionValue *prometheus.GaugeVec
	LastHarvest   *prometheus.GaugeVec
	LastRebalance *prometheus.GaugeVec
	DataAge       *prometheus.GaugeVec
	Paused        *prometheus.GaugeVec
	Decisions     *prometheus.CounterVec
	Stale         *prometheus.CounterVec
	JobRuns       *prometheus.CounterVec
	JobErrors     *prometheus.CounterVec
	JobPanics     *prometheus.CounterVec
	SourceRows    *prometheus.CounterVec
	SourceOK      *prometheus.GaugeVec
	SourceErrors  *prometheus.CounterVec
	HTTP          *prometheus.CounterVec
	Leader        prometheus.Gauge
	Recovered     prometheus.Counter
	ServiceTime   prometheus.Gauge
	// WriteBlocked is 1 while this process cannot write the state
	// database within the write deadline (a hung lease holder keeps the
	// write lock); WriteDeadline counts the writes that ran out of time.
	WriteBlocked  prometheus.Gauge
	WriteDeadline prometheus.Counter
}

// NewMetrics registers the service's metrics on a new registry, with the
// Go and process collectors.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "yieldvault", Name: name, Help: help}, labels)
		r.MustRegister(v)
		return v
	}
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "yieldvault", Name: name, Help: help}, labels)
		r.MustRegister(v)
		return v
	}
	m := &Metrics{
		Registry:      r,
		NAV:           g("vault_nav", "Vault total assets (base units).", "vault"),
		SharePrice:    g("vault_share_price", "Vault price per share (base units).", "vault"),
		APY:           g("vault_apy", "Value-weighted net APY of the vault's positions (fraction a year; idle earns 0).", "vault"),
		PositionValue: g("vault_position_value", "Position value at the vault's pricing (base units).", "vault", "market"),
		LastHarvest:   g("vault_last_harvest_timestamp_seconds", "Service time of the last harvest that ran.", "vault"),
		LastRebalance: g("vault_last_rebalance_timestamp_seconds", "Service time of the last rebalance that executed.", "vault"),
		DataAge:       g("vault_data_age_seconds", "Age of the stalest market observation of the vault at its last action.", "vault"),
		Paused:        g("vault_paused", "1 when the vault is paused.", "vault"),
		Decisions:     c("decisions_total", "Decisions by action and outcome.", "vault", "action", "outcome"),
		Stale:         c("vault_stale_total", "Rebalances and exit checks refused because market data was older than the staleness limit.", "vault"),
		JobRuns:       c("job_runs_total", "Scheduled job runs.", "job"),
		JobErrors:     c("job_errors_total", "Scheduled job runs that failed.", "job"),
		JobPanics:     c("job_panics_total", "Scheduled job runs that panicked (recovered).", "job"),
		SourceRows:    c("source_rows_imported_total", "Observations a source inserted or updated.", "source"),
		SourceOK:      g("source_last_success_timestamp_seconds", "Service time of a source's last successful refresh.", "source"),
		SourceErrors:  c("source_errors_total", "Source refreshes or files that failed.", "source"),
		HTTP:          c("http_requests_total", "HTTP requests by route and status code.", "route", "code"),
		Leader:        prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "yieldvault", Name: "lease_held", Help: "1 while this process holds the scheduler lease."}),
		Recovered:     prometheus.NewCounter(prometheus.CounterOpts{Namespace: "yieldvault", Name: "intents_recovered_total", Help: "Unfinished intents re-run at start."}),
		ServiceTime:   prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "yieldvault", Name: "service_time_seconds", Help: "The service clock (simulated in replay mode)."}),
		WriteBlocked: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "yieldvault", Name: "store_write_blocked",
			Help: "1 while this process cannot write the state database within the write deadline (another process, say a hung lease holder, keeps the write lock)."}),
		WriteDeadline: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "yieldvault", Name: "store_write_deadline_exceeded_total",
			Help: "State database writes that could not take the write lock or finish within the write deadline (rolled back)."}),
	}
	r.MustRegister(m.Leader, m.Recovered, m.ServiceTime, m.WriteBlocked, m.WriteDeadline, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
