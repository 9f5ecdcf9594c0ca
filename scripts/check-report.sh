#!/usr/bin/env bash
# check-report.sh REPORT.html [SCREENSHOT.png]
#
# Renders a backtest's report.html in headless Chromium, offline, and checks
# that it loads without console errors and that the four charts are in the
# rendered DOM. With a second argument it also saves a screenshot.
#
# Needs chromium (Debian: apt-get install chromium). Exit status: 0 when
# the report passes, 1 when a check fails, 2 on a usage error or when no
# Chromium is installed.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 REPORT.html [SCREENSHOT.png]" >&2
  exit 2
fi
report=$1
shot=${2:-}
if [ ! -f "$report" ]; then
  echo "check-report: $report: no such file" >&2
  exit 2
fi

chrome=""
for c in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$c" >/dev/null 2>&1; then chrome=$(command -v "$c"); break; fi
done
if [ -z "$chrome" ]; then
  echo "check-report: no Chromium found (apt-get install chromium)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --no-default-browser-check
  --disable-extensions --disable-dev-shm-usage)

# Render and dump the DOM after load, with the console on stderr.
"$chrome" "${flags[@]}" --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
  --virtual-time-budget=2000 --dump-dom "$url" >"$work/dom.html" 2>"$work/console.log" || {
  echo "check-report: chromium failed:" >&2
  cat "$work/console.log" >&2
  exit 1
}

fail=0
# Console messages from the page are logged as "CONSOLE(...)" or
# ":INFO:CONSOLE"; errors also as "Uncaught". Chromium's own start-up noise
# (dbus, GPU, crash reporter) is not the page's and is ignored.
if grep -E 'CONSOLE|Uncaught|ERR_|Failed to load resource' "$work/console.log" | grep -v -i 'dbus' >"$work/errors.log"; then
  if [ -s "$work/errors.log" ]; then
    echo "check-report: console errors:" >&2
    cat "$work/errors.log" >&2
    fail=1
  fi
fi
if [ ! -s "$work/dom.html" ]; then
  echo "check-report: empty DOM dump" >&2
  fail=1
fi
for id in chart-equity chart-drawdown chart-allocation chart-attribution; do
  if ! grep -q "<svg id=\"$id\"" "$work/dom.html"; then
    echo "check-report: chart $id missing from the rendered DOM" >&2
    fail=1
  fi
done

if [ -n "$shot" ]; then
  "$chrome" "${flags[@]}" --user-data-dir="$work/profile2" --hide-scrollbars \
    --window-size=1100,2600 --screenshot="$shot" "$url" >/dev/null 2>&1 || {
    echo "check-report: screenshot failed" >&2
    fail=1
  }
  [ -f "$shot" ] && echo "check-report: screenshot $shot"
fi

if [ $fail -ne 0 ]; then
  exit 1
fi
echo "check-report: $report ok (no console errors, 4 charts rendered)"
