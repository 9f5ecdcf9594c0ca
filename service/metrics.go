package service

import (
	"runtime/debug"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/yieldvault/yieldvault/vault/monitor"
)

// Metrics are the service's Prometheus metrics, on their own registry.
// Money gauges carry the vault's base asset as the label asset (ETH,
// USD, BTC: a sum across vaults must group by it); every counter is
// exported at 0 for each of its label sets from the start (Init), so
// that increase() has a series before the first event.
type Metrics struct {
	Registry *prometheus.Registry

	BuildInfo     *prometheus.GaugeVec
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
	JobDuration   *prometheus.HistogramVec
	SourceRows    *prometheus.CounterVec
	SourceOK      *prometheus.GaugeVec
	SourceErrors  *prometheus.CounterVec
	HTTP          *prometheus.CounterVec
	HTTPDuration  *prometheus.HistogramVec
	// MonitorFiring is 1 while a vault's risk monitor fires;
	// MonitorFired counts the times it started firing; Notifications
	// counts the webhook deliveries by outcome.
	MonitorFiring *prometheus.GaugeVec
	MonitorFired  *prometheus.CounterVec
	Notifications *prometheus.CounterVec
	Leader        prometheus.Gauge
	Recovered     prometheus.Counter
	ServiceTime   prometheus.Gauge
	// WriteBlocked is 1 while this process cannot write the state
	// database within the write deadline (a hung lease holder keeps the
	// write lock); WriteDeadline counts the writes that ran out of time.
	WriteBlocked  prometheus.Gauge
	WriteDeadline prometheus.Counter
	// Fenced counts the signed transactions the execution journal
	// refused to record (so never broadcast) because this process no
	// longer held the lease (send mode).
	Fenced prometheus.Counter
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
	h := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "yieldvault", Name: name, Help: help, Buckets: buckets}, labels)
		r.MustRegister(v)
		return v
	}
	m := &Metrics{
		Registry:      r,
		BuildInfo:     g("build_info", "Always 1: the version, VCS revision and Go version the binary was built from.", "version", "revision", "goversion"),
		NAV:           g("vault_nav", "Vault total assets, in units of its base asset (label asset).", "vault", "asset"),
		SharePrice:    g("vault_share_price", "Assets (label asset) per share of the vault, a share being 10^decimals_offset share units as an ERC-4626 vault with a decimals offset shows it (1 at the first deposit).", "vault", "asset"),
		APY:           g("vault_apy_ratio", "Value-weighted net APY of the vault's positions (fraction a year; idle earns 0).", "vault"),
		PositionValue: g("vault_position_value", "Position value at the vault's pricing, in units of its base asset (label asset).", "vault", "market", "asset"),
		LastHarvest:   g("vault_last_harvest_timestamp_seconds", "Service time of the last harvest that ran.", "vault"),
		LastRebalance: g("vault_last_rebalance_timestamp_seconds", "Service time of the last rebalance that traded.", "vault"),
		DataAge:       g("vault_data_age_seconds", "Age of the stalest market observation of the vault at its last action.", "vault"),
		Paused:        g("vault_paused", "1 when the vault is paused.", "vault"),
		Decisions:     c("decisions_total", "Decisions by action and outcome.", "vault", "action", "outcome"),
		Stale:         c("vault_stale_total", "Rebalances and exit checks refused because market data was older than the staleness limit.", "vault"),
		JobRuns:       c("job_runs_total", "Scheduled job runs.", "job"),
		JobErrors:     c("job_errors_total", "Scheduled job runs that failed.", "job"),
		JobPanics:     c("job_panics_total", "Scheduled job runs that panicked (recovered).", "job"),
		JobDuration:   h("job_duration_seconds", "Wall time of a scheduled job run (all the ticks it caught up).", []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60}, "job"),
		SourceRows:    c("source_rows_imported_total", "Observations a source inserted or updated.", "source"),
		SourceOK:      g("source_last_success_timestamp_seconds", "Service time of a source's last successful refresh.", "source"),
		SourceErrors:  c("source_errors_total", "Source refreshes or files that failed.", "source"),
		HTTP:          c("http_requests_total", "HTTP requests by route and status code.", "route", "code"),
		HTTPDuration:  h("http_request_duration_seconds", "Wall time to answer an HTTP request, by route.", prometheus.DefBuckets, "route"),
		MonitorFiring: g("monitor_firing", "1 while a vault's risk monitor fires on at least one market.", "vault", "monitor", "severity", "action"),
		MonitorFired:  c("monitor_fired_total", "Times a vault's risk monitor started firing (or changed markets).", "vault", "monitor"),
		Notifications: c("alert_notifications_total", "Alert webhook deliveries by outcome: sent, failed (after retries), dropped (queue full).", "outcome"),
		Leader:        prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "yieldvault", Name: "lease_held", Help: "1 while this process holds the scheduler lease."}),
		Recovered:     prometheus.NewCounter(prometheus.CounterOpts{Namespace: "yieldvault", Name: "intents_recovered_total", Help: "Unfinished intents re-run at start."}),
		ServiceTime:   prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "yieldvault", Name: "service_clock_timestamp_seconds", Help: "The service clock (simulated in replay mode)."}),
		WriteBlocked: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "yieldvault", Name: "store_write_blocked",
			Help: "1 while this process cannot write the state database within the write deadline (another process, say a hung lease holder, keeps the write lock)."}),
		WriteDeadline: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "yieldvault", Name: "store_write_deadline_exceeded_total",
			Help: "State database writes that could not take the write lock or finish within the write deadline (rolled back)."}),
		Fenced: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "yieldvault", Name: "send_fenced_total",
			Help: "Signed transactions not recorded, so not broadcast, because this process no longer held the lease (send mode)."}),
	}
	r.MustRegister(m.Leader, m.Recovered, m.ServiceTime, m.WriteBlocked, m.WriteDeadline, m.Fenced, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetBuildInfo sets yieldvault_build_info from the binary's build
// information; version, when set, overrides the module's version.
func (m *Metrics) SetBuildInfo(version string) {
	rev, gov := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		gov = bi.GoVersion
		if version == "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				rev = s.Value
			}
		}
	}
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	m.BuildInfo.WithLabelValues(version, rev, gov).Set(1)
}

// httpRoutes are the API's routes and the status codes each can answer
// (the label sets of http_requests_total exported from the start).
var httpRoutes = func() map[string][]int {
	get := []int{200, 500}
	vget := []int{200, 400, 404, 500, 503}
	post := []int{200, 400, 401, 404, 409, 413, 422, 500, 503}
	m := map[string][]int{
		"GET /healthz": get, "GET /readyz": {200, 503}, "GET /metrics": get, "GET /openapi.yaml": {200},
		"GET /v1/vaults": {200, 500, 503}, "GET /v1/vaults/{id}": vget,
		"GET /v1/vaults/{id}/decisions": vget, "GET /v1/vaults/{id}/plan": vget, "GET /v1/vaults/{id}/monitors": {200, 404}, "GET /v1/vaults/{id}/series": {200, 404},
		"GET /{$}": {200}, "GET /dashboard.js": {200},
		"GET /v1/vaults/{id}/proposals": vget, "GET /v1/vaults/{id}/proposals/{name}": vget,
		"other": {404},
	}
	for _, a := range postActions {
		m["POST /v1/vaults/{id}/"+string(a)] = post
	}
	return m
}()

// postActions are the actions the API can ask for.
var postActions = []Action{ActRebalance, ActHarvest, ActDeposit, ActWithdraw, ActPause, ActResume}

// Init exports every counter at 0 for each label set the service can
// produce (the vaults' actions and outcomes, their jobs, the sources and
// the routes), and the timestamps of things that have not happened yet
// (last harvest, last rebalance, a source's last success) at 0.
func (m *Metrics) Init(vaults, sources []string) {
	for _, v := range vaults {
		m.Stale.WithLabelValues(v)
		m.LastHarvest.WithLabelValues(v)   // 0 until the first harvest
		m.LastRebalance.WithLabelValues(v) // 0 until the first rebalance that traded
		m.Paused.WithLabelValues(v)
		for a, outs := range Outcomes {
			for _, o := range outs {
				m.Decisions.WithLabelValues(v, string(a), o)
			}
		}
		for _, a := range []Action{ActExitCheck, ActHarvest, ActRebalance} {
			m.initJob("vault/" + v + "/" + string(a))
		}
	}
	for _, s := range sources {
		m.SourceRows.WithLabelValues(s)
		m.SourceErrors.WithLabelValues(s)
		m.SourceOK.WithLabelValues(s) // 0 until the first successful refresh
		m.initJob("source/" + s)
	}
	for _, o := range []string{"sent", "failed", "dropped"} {
		m.Notifications.WithLabelValues(o)
	}
	for route, codes := range httpRoutes {
		m.HTTPDuration.WithLabelValues(route)
		for _, c := range codes {
			m.HTTP.WithLabelValues(route, strconv.Itoa(c))
		}
	}
}

func (m *Metrics) initJob(name string) {
	m.JobRuns.WithLabelValues(name)
	m.JobErrors.WithLabelValues(name)
	m.JobPanics.WithLabelValues(name)
	m.JobDuration.WithLabelValues(name)
}

// InitMonitors exports a vault's monitors at 0 (not firing, never fired).
func (m *Metrics) InitMonitors(vault string, ms []monitor.Monitor) {
	for _, mo := range ms {
		m.MonitorFiring.WithLabelValues(vault, mo.Name, mo.Severity, mo.Action)
		m.MonitorFired.WithLabelValues(vault, mo.Name)
	}
}
