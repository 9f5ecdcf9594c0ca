package backtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/internal/headless"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// TestReport_HeadlessChromium renders a real run's report.html in headless
// Chromium, offline: no console error, exception or failed load, every
// chart present and drawn with a size, and a full-page screenshot that
// decodes as a PNG of the page's width.
func TestReport_HeadlessChromium(t *testing.T) {
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-06-01")
	res, err := Run(context.Background(), Spec{Strategy: s, Data: defaultWindow(t, s, from, to), From: from, To: to,
		Capital: decimal.NewFromInt(100), Source: "embedded"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteRun(dir, res); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, ReportFile)

	br := headless.Open(t, "report.html", 1100, 900)
	ctx := br.Ctx

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+report), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("loading %s: %v", report, err)
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg")))
	if err != nil {
		t.Fatal(err)
	}
	ids := append(append([]string(nil), ChartIDs...), ChartCosts, ChartAPY, ChartPeg)
	if len(nodes) < len(ids) {
		t.Errorf("%d svg elements rendered, want at least %d", len(nodes), len(ids))
	}
	for _, id := range ids {
		size, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](fmt.Sprintf(
			`(() => { const e = document.getElementById(%q); if (!e) return {w: 0, h: 0}; const r = e.getBoundingClientRect(); return {w: r.width, h: r.height}; })()`, id)))
		if err != nil {
			t.Fatalf("measuring %s: %v", id, err)
		}
		if size["w"] < 100 || size["h"] < 40 {
			t.Errorf("chart %s is drawn %vx%v px, want a visible chart", id, size["w"], size["h"])
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range br.Problems() {
		t.Errorf("report.html in Chromium: %s", p)
	}
	img, err := jpegOrPNG(shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 2000 {
		t.Errorf("screenshot is %dx%d, want the whole page (at least 1000x2000)", b.Dx(), b.Dy())
	}
	if out := os.Getenv("YIELDVAULT_REPORT_SHOT"); out != "" {
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// jpegOrPNG decodes a screenshot (chromedp writes JPEG at a quality
// below 100, PNG at 100).
func jpegOrPNG(b []byte) (image.Image, error) {
	if img, err := png.Decode(bytes.NewReader(b)); err == nil {
		return img, nil
	}
	return jpeg.Decode(bytes.NewReader(b))
}

// TestReport_MonitorsHeadlessChromium renders the steth-2022 replay's
// report with the peg monitor bound to exit in headless Chromium: no
// console error, the monitors table has a row per monitor, and the
// equity chart draws a visible marker per step a monitor started firing.
func TestReport_MonitorsHeadlessChromium(t *testing.T) {
	res := runSteth2022(t, monitor.File{Rules: []monitor.Rule{{Name: "peg-below", Action: monitor.Exit}}})
	dir := t.TempDir()
	if err := WriteRun(dir, res); err != nil {
		t.Fatal(err)
	}
	steps := map[int64]bool{}
	for _, ev := range res.MonitorEvents {
		if ev.Status == "firing" {
			steps[ev.Time.Unix()] = true
		}
	}
	br := headless.Open(t, "report.html", 1100, 900)
	ctx := br.Ctx
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(dir, ReportFile)), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
		const rows = document.querySelectorAll("#monitors tr").length - 1;
		const marks = document.querySelectorAll("#`+ChartEquity+` line.monitor");
		let h = 0;
		if (marks.length) { h = marks[0].getBoundingClientRect().height; }
		return {rows: rows, marks: marks.length, h: h};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if int(got["rows"]) != len(res.Monitors) {
		t.Errorf("monitors table: %v rows, want %d", got["rows"], len(res.Monitors))
	}
	if int(got["marks"]) != len(steps) || got["h"] < 50 {
		t.Errorf("equity chart: %v monitor markers (first %v px high), want %d visible", got["marks"], got["h"], len(steps))
	}
	for _, p := range br.Problems() {
		t.Errorf("report.html in Chromium: %s", p)
	}
}
