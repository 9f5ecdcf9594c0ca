package strategies

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

func TestParseSchedule(t *testing.T) {
	from := time.Date(2024, 6, 1, 1, 30, 0, 0, time.UTC)
	tests := []struct {
		spec    string
		want    time.Time // Next(from); zero when an error is wanted
		wantErr string
	}{
		{spec: "0 */6 * * *", want: time.Date(2024, 6, 1, 6, 0, 0, 0, time.UTC)},
		{spec: "  15 2 * * MON  ", want: time.Date(2024, 6, 3, 2, 15, 0, 0, time.UTC)},
		{spec: "@daily", want: time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)},
		{spec: "@hourly", want: time.Date(2024, 6, 1, 2, 0, 0, 0, time.UTC)},
		{spec: "@every 6h", want: from.Add(6 * time.Hour)},
		{spec: "CRON_TZ=UTC 0 12 * * *", want: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)},
		{spec: "TZ=UTC @weekly", want: time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)},
		{spec: "", wantErr: "empty schedule"},
		{spec: "TZ=", wantErr: "time zone but no spec"},
		{spec: "CRON_TZ=", wantErr: "time zone but no spec"},
		{spec: "TZ=Europe/Paris 0 1 * * *", wantErr: `time zone "Europe/Paris" is not allowed`},
		{spec: "CRON_TZ=Local 0 1 * * *", wantErr: `time zone "Local" is not allowed`},
		{spec: "TZ= 0 1 * * *", wantErr: `time zone "" is not allowed`},
		{spec: "61 * * * *", wantErr: "above maximum"},
		{spec: "* * * *", wantErr: "expected exactly 5 fields"},
		{spec: "0 0 0 * * *", wantErr: "expected exactly 5 fields"},
		{spec: "*/0 * * * *", wantErr: "step of range"},
		{spec: "0 0 30 2 *", wantErr: "never fires"},
		{spec: "@every 0s", wantErr: "at least 1s"},
		{spec: "@every -1h", wantErr: "at least 1s"},
		{spec: "@every soon", wantErr: "bad @every duration"},
		{spec: "@fortnightly", wantErr: "unrecognized descriptor"},
		{spec: "0 0 * * \x00", wantErr: "control character"},
		{spec: strings.Repeat("1,", 200) + "1 * * * *", wantErr: "longer than 256"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec)
			if tc.wantErr != "" {
				if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSchedule(%q) error = %v, want kind %v containing %q", tc.spec, err, adapters.KindInvalid, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tc.spec, err)
			}
			if got := s.Next(from); !got.Equal(tc.want) {
				t.Errorf("Next(%v) = %v, want %v", from, got, tc.want)
			}
		})
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 */6 * * *", "@daily", "@every 6h", "TZ=", "CRON_TZ=UTC 0 1 * * *", "TZ=Europe/Paris 1 2 3 4 5",
		"*/0 * * * *", "0 0 30 2 *", "1-5/2 * * JAN-MAR SUN", "? ? ? ? ?", "CRON_TZ=UTC TZ=", "@every 1ns"} {
		f.Add(s)
	}
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec)
		if err != nil {
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("ParseSchedule(%q) error %v is not KindInvalid", spec, err)
			}
			return
		}
		if next := s.Next(from); !next.After(from) {
			t.Fatalf("ParseSchedule(%q).Next(%v) = %v, not after it", spec, from, next)
		}
	})
}
