package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// AlertsFile configures where alerts go besides the log, the metrics and
// the API.
type AlertsFile struct {
	Webhooks []WebhookFile `yaml:"webhooks"`
}

// WebhookFile is one webhook: Alertmanager's API (POST
// /api/v2/alerts) or a generic JSON POST.
type WebhookFile struct {
	URL string `yaml:"url"`
	// Format is alertmanager or generic (default).
	Format string `yaml:"format"`
	// Timeout bounds one attempt (default 5s).
	Timeout string `yaml:"timeout"`
}

// WebhookSpec is a checked webhook.
type WebhookSpec struct {
	URL     string
	Format  string
	Timeout time.Duration
}

// Webhook formats.
const (
	WebhookGeneric      = "generic"
	WebhookAlertmanager = "alertmanager"
)

func (l *cfgLoader) webhooks(c *Config, f AlertsFile) error {
	for i, w := range f.Webhooks {
		p := fmt.Sprintf("$.alerts.webhooks[%d]", i)
		if !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			return l.errf(p+".url", adapters.KindInvalid, "webhook url %q must be http:// or https://", w.URL)
		}
		sp := WebhookSpec{URL: w.URL, Format: w.Format}
		if sp.Format == "" {
			sp.Format = WebhookGeneric
		}
		if sp.Format != WebhookGeneric && sp.Format != WebhookAlertmanager {
			return l.errf(p+".format", adapters.KindInvalid, "webhook format %q is not generic or alertmanager", w.Format)
		}
		var err error
		if sp.Timeout, err = parseDuration(w.Timeout); err != nil {
			return l.errf(p+".timeout", adapters.KindInvalid, "webhook timeout: %v", err)
		}
		if sp.Timeout == 0 {
			sp.Timeout = 5 * time.Second
		}
		c.Webhooks = append(c.Webhooks, sp)
	}
	return nil
}

// Alert is one change of a monitor: it started firing (or fires on other
// markets), or it resolved.
type Alert struct {
	Vault    string    `json:"vault"`
	Monitor  string    `json:"monitor"`
	Status   string    `json:"status"` // firing or resolved
	Severity string    `json:"severity"`
	Action   string    `json:"action"`
	Markets  []string  `json:"markets"`
	When     string    `json:"when"`
	Summary  string    `json:"summary"`
	Time     time.Time `json:"time"`      // service time (simulated in replay)
	WallTime time.Time `json:"wall_time"` // when the service saw it
}

// notifier sends alerts to the webhooks from one goroutine: Send never
// blocks (a full queue drops the alert, logged and counted), and each
// webhook is retried with exponential backoff (1s, 2s, 4s, 8s: 5
// attempts) before the alert is given up for it.
type notifier struct {
	hooks   []WebhookSpec
	log     *slog.Logger
	m       *Metrics
	client  *http.Client
	q       chan Alert
	stop    chan struct{}
	done    sync.WaitGroup
	backoff time.Duration
}

const notifyQueue = 256

func newNotifier(hooks []WebhookSpec, log *slog.Logger, m *Metrics) *notifier {
	n := &notifier{hooks: hooks, log: log, m: m, client: &http.Client{}, q: make(chan Alert, notifyQueue), stop: make(chan struct{}), backoff: time.Second}
	if len(hooks) > 0 {
		n.done.Add(1)
		go n.run()
	}
	return n
}

// Send queues an alert for the webhooks without blocking.
func (n *notifier) Send(a Alert) {
	if len(n.hooks) == 0 {
		return
	}
	select {
	case n.q <- a:
	default:
		n.m.Notifications.WithLabelValues("dropped").Inc()
		n.log.Error("alert queue full: alert dropped", "vault", a.Vault, "monitor", a.Monitor, "status", a.Status)
	}
}

// Close stops sending (alerts still queued are dropped).
func (n *notifier) Close() {
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
	n.done.Wait()
}

func (n *notifier) run() {
	defer n.done.Done()
	for {
		select {
		case <-n.stop:
			return
		case a := <-n.q:
			for _, h := range n.hooks {
				n.deliver(h, a)
			}
		}
	}
}

// deliver posts one alert to one webhook, retrying with backoff.
func (n *notifier) deliver(h WebhookSpec, a Alert) {
	body, err := webhookBody(h.Format, a)
	if err != nil {
		n.m.Notifications.WithLabelValues("failed").Inc()
		n.log.Error("alert webhook: encoding", "err", err)
		return
	}
	wait := n.backoff
	for attempt := 1; ; attempt++ {
		err := n.post(h, body)
		if err == nil {
			n.m.Notifications.WithLabelValues("sent").Inc()
			return
		}
		if attempt == 5 {
			n.m.Notifications.WithLabelValues("failed").Inc()
			n.log.Error("alert webhook failed: giving up", "url", redactURL(h.URL), "attempts", attempt, "vault", a.Vault, "monitor", a.Monitor, "err", err)
			return
		}
		n.log.Warn("alert webhook failed: retrying", "url", redactURL(h.URL), "attempt", attempt, "in", wait, "err", err)
		select {
		case <-n.stop:
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (n *notifier) post(h WebhookSpec, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// webhookBody is the request body of an alert: Alertmanager's
// postableAlerts (labels alertname, vault, monitor, severity, action;
// annotations summary, markets, when; startsAt, and endsAt when
// resolved, in wall time), or the Alert itself as JSON.
func webhookBody(format string, a Alert) ([]byte, error) {
	if format != WebhookAlertmanager {
		return json.Marshal(a)
	}
	am := map[string]any{
		"labels": map[string]string{"alertname": "YieldvaultMonitor", "vault": a.Vault, "monitor": a.Monitor, "severity": a.Severity, "action": a.Action},
		"annotations": map[string]string{"summary": a.Summary, "markets": strings.Join(a.Markets, ","), "when": a.When,
			"service_time": a.Time.UTC().Format(time.RFC3339)},
		"startsAt": a.WallTime.UTC().Format(time.RFC3339),
	}
	if a.Status == "resolved" {
		am["endsAt"] = a.WallTime.UTC().Format(time.RFC3339)
	}
	return json.Marshal([]any{am})
}

// redactURL drops a URL's query and user info (they may hold a secret).
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			u = u[:j+3] + u[i+1:]
		}
	}
	return u
}
