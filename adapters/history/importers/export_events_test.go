package importers

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// TestImportExport_Events: an export's events are checked as its rows are,
// so a batch the importer returns is one the store takes. An export of
// events only used to pass an unknown market ("0") and an empty event
// through (found by FuzzExportJSON).
func TestImportExport_Events(t *testing.T) {
	tests := []struct {
		name, in string
		kind     adapters.ErrorKind // KindOther: no error
		errPart  string
	}{
		{"events only, known market", `{"market":{"id":"kelp/rseth"},"events":[{"time":"2024-04-24T00:00:00Z","type":"depeg","size":0.02}]}`, adapters.KindOther, ""},
		{"events only, unknown market", `{"market":{"id":"0"},"events":[{"time":"2024-04-24T00:00:00Z","type":"depeg","size":0.02}]}`, adapters.KindNotFound, `unknown market "0"`},
		{"an empty event", `{"market":{"id":"kelp/rseth"},"events":[{}]}`, adapters.KindInvalid, "f.json:event 1"},
		{"a size above 1", `{"market":{"id":"kelp/rseth"},"events":[{"time":"2024-04-24T00:00:00Z","type":"slash","size":2}]}`, adapters.KindInvalid, "size 2"},
		{"a time before Ethereum", `{"market":{"id":"kelp/rseth"},"events":[{"time":"1970-01-02T00:00:00Z","type":"slash","size":0.1}]}`, adapters.KindInvalid, "f.json:event 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ImportReader(context.Background(), "f.json", bytes.NewReader([]byte(tt.in)), FormatExport, Options{})
			if tt.kind == adapters.KindOther {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				if hs, _ := history.CheckBatch(b); len(hs) > 0 {
					t.Fatalf("the batch does not check: %v", hs)
				}
				return
			}
			if err == nil || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.errPart) {
				t.Fatalf("error %v, want a %v error mentioning %q", err, tt.kind, tt.errPart)
			}
		})
	}
}
