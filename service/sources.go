package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
)

// source is a market data source at run time.
type source struct {
	s    *Service
	spec SourceSpec
	// client fetches URL sources (tests may replace it).
	client *http.Client
}

// RefreshResult is what one refresh of a source did.
type RefreshResult struct {
	Files    int // files imported (folder sources)
	Skipped  int // files already processed
	Failed   int // files that failed to import
	Inserted int // observations inserted or updated
}

// refresh runs one refresh and records it in source_state. New data
// runs every vault's exit check at once (monitors and exit rule), each
// as its own intent "<vault>/exit_check/refresh/<source>/<time>".
func (src *source) refresh(ctx context.Context, now time.Time) error {
	res, err := src.refreshAndRecord(ctx, now)
	if err != nil || res.Inserted == 0 {
		return err
	}
	return src.s.checkAfterRefresh(ctx, src.spec.Name, now)
}

// checkAfterRefresh runs an exit check on every vault after new data.
func (s *Service) checkAfterRefresh(ctx context.Context, source string, now time.Time) error {
	for _, id := range s.order {
		rt := s.vaults[id]
		if !s.isLeader() {
			return &adapters.Error{Op: "service.refresh", Kind: adapters.KindPaused, Err: ErrNotLeader}
		}
		if _, err := s.store.Vault(ctx, id); err != nil {
			continue // not created yet: its first job creates it
		}
		in := Intent{Key: id + "/exit_check/refresh/" + source + "/" + now.UTC().Format(time.RFC3339), VaultID: id, Action: ActExitCheck, Tick: now, Source: SourceSystem}
		if _, err := rt.do(ctx, in); err != nil && (!isDomain(err) || errors.Is(err, ErrNotLeader)) {
			return err
		}
	}
	return nil
}

func (src *source) refreshAndRecord(ctx context.Context, now time.Time) (RefreshResult, error) {
	var res RefreshResult
	var err error
	if src.spec.Folder != "" {
		res, err = src.refreshFolder(ctx, now)
	} else {
		res, err = src.refreshURL(ctx)
	}
	m := src.s.metrics
	name := src.spec.Name
	if res.Inserted > 0 {
		m.SourceRows.WithLabelValues(name).Add(float64(res.Inserted))
		src.s.histGen.Add(1)
	}
	if res.Failed > 0 {
		m.SourceErrors.WithLabelValues(name).Add(float64(res.Failed))
	}
	msg := ""
	if err != nil {
		m.SourceErrors.WithLabelValues(name).Inc()
		msg = err.Error()
	} else {
		m.SourceOK.WithLabelValues(name).Set(float64(now.Unix()))
	}
	e := src.s.store.write(ctx, func(tx *sql.Tx) error {
		_, err := src.s.store.exec(ctx, tx, `INSERT INTO source_state (name, last_run, last_ok, inserted, error) VALUES (?, ?, CASE WHEN ? = '' THEN CAST(? AS BIGINT) END, ?, ?)
ON CONFLICT(name) DO UPDATE SET last_run = excluded.last_run, last_ok = COALESCE(excluded.last_ok, source_state.last_ok), inserted = source_state.inserted + excluded.inserted, error = excluded.error`,
			name, now.Unix(), msg, now.Unix(), res.Inserted, msg)
		return err
	})
	if err == nil {
		err = e
	}
	if err == nil {
		// An idle refresh (nothing new) logs at DEBUG, one that imported
		// or failed something at INFO.
		lvl := slog.LevelDebug
		if res.Inserted > 0 || res.Failed > 0 {
			lvl = slog.LevelInfo
		}
		src.s.log.Log(ctx, lvl, "source refreshed", "source", name, "files", res.Files, "skipped", res.Skipped, "failed", res.Failed, "rows", res.Inserted)
	}
	return res, err
}

// Refresh runs one refresh of the named source now (tests and tools).
func (s *Service) Refresh(ctx context.Context, name string) (RefreshResult, error) {
	for _, src := range s.sources {
		if src.spec.Name == name {
			return src.refreshAndRecord(ctx, s.clock.Now())
		}
	}
	return RefreshResult{}, adapters.E("service.Refresh", adapters.KindNotFound, "no source %q", name)
}

// refreshFolder imports the folder's new files. A file is processed once
// per (path, size, mtime); a file whose content (sha256) was already
// processed under the same path is recorded and not imported again. A
// file that fails to import is recorded as failed (and retried only when
// it changes).
func (src *source) refreshFolder(ctx context.Context, now time.Time) (RefreshResult, error) {
	var res RefreshResult
	st := src.s.store
	var paths []string
	if _, err := os.Stat(src.spec.Folder); errors.Is(err, fs.ErrNotExist) {
		return res, nil // nothing dropped yet
	}
	err := filepath.WalkDir(src.spec.Folder, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != src.spec.Folder && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			return nil
		}
		if importers.SkipReason(p) == "" && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return res, adapters.Wrap("service.source", adapters.KindNotFound, err)
	}
	sort.Strings(paths)
	var mapping *importers.Mapping
	if src.spec.Mapping != "" {
		if mapping, err = importers.LoadMapping(src.spec.Mapping); err != nil {
			return res, err
		}
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			continue // removed while we looked
		}
		size, mtime := fi.Size(), fi.ModTime().UnixNano()
		var n int
		if err := st.queryRow(ctx, nil, "SELECT count(*) FROM processed_files WHERE history = ? AND path = ? AND size = ? AND mtime = ?", src.s.histID, p, size, mtime).Scan(&n); err != nil {
			return res, err
		}
		if n > 0 {
			res.Skipped++
			continue
		}
		sum, err := fileSHA256(p)
		if err != nil {
			continue
		}
		if err := st.queryRow(ctx, nil, "SELECT count(*) FROM processed_files WHERE history = ? AND path = ? AND sha256 = ? AND status = 'imported'", src.s.histID, p, sum).Scan(&n); err != nil {
			return res, err
		}
		status, rows, msg := "imported", 0, ""
		if n > 0 {
			status = "unchanged"
			res.Skipped++
		} else {
			b, err := importers.ImportFile(ctx, p, importers.Options{Catalog: src.s.cfg.Catalog, Market: src.spec.Market, Mapping: mapping})
			var wr history.WriteResult
			if err == nil {
				wr, err = src.s.hist.Write(ctx, b)
			}
			if err != nil {
				if adapters.KindOf(err) == adapters.KindOther && ctx.Err() != nil {
					return res, err
				}
				status, msg = "failed", err.Error()
				res.Failed++
				src.s.log.Warn("source file failed", "source", src.spec.Name, "file", p, "err", err)
			} else {
				rows = wr.Inserted + wr.Updated
				res.Files++
				res.Inserted += rows
			}
		}
		if err := st.write(ctx, func(tx *sql.Tx) error {
			_, err := src.s.store.exec(ctx, tx, `INSERT INTO processed_files (history, path, size, mtime, sha256, status, rows, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(history, path, size, mtime) DO UPDATE SET sha256 = excluded.sha256, status = excluded.status, rows = excluded.rows, error = excluded.error, at = excluded.at`,
				src.s.histID, p, size, mtime, sum, status, rows, msg, now.Unix())
			return err
		}); err != nil {
			return res, err
		}
	}
	return res, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// errTooLarge is returned for a response over the source's max_bytes.
var errTooLarge = errors.New("response too large")

// refreshURL fetches DefiLlama chart JSON from the source's URL, within
// its timeout and size limit, and writes it to the history (rows already
// stored are merged; re-fetching the same data changes nothing).
func (src *source) refreshURL(ctx context.Context) (RefreshResult, error) {
	const op = "service.source"
	var res RefreshResult
	cl := src.client
	if cl == nil {
		cl = &http.Client{Timeout: src.spec.Timeout}
	}
	// The source's timeout bounds the fetch; the history write that follows
	// has the write deadline of its own (a slow disk is not a slow source).
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, src.spec.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.spec.URL, nil)
	if err != nil {
		return res, adapters.Wrap(op, adapters.KindInvalid, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := cl.Do(req)
	if err != nil {
		return res, adapters.E(op, adapters.KindOther, "source %s: fetch: %v", src.spec.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return res, adapters.E(op, adapters.KindOther, "source %s: fetch: HTTP %d", src.spec.Name, resp.StatusCode)
	}
	if resp.ContentLength > src.spec.MaxBytes {
		return res, adapters.E(op, adapters.KindInvalid, "source %s: %v: %d bytes, the limit is %d", src.spec.Name, errTooLarge, resp.ContentLength, src.spec.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, src.spec.MaxBytes+1))
	if err != nil {
		return res, adapters.E(op, adapters.KindOther, "source %s: read: %v", src.spec.Name, err)
	}
	if int64(len(body)) > src.spec.MaxBytes {
		return res, adapters.E(op, adapters.KindInvalid, "source %s: %v: over the limit of %d bytes", src.spec.Name, errTooLarge, src.spec.MaxBytes)
	}
	cancel()
	wctx, wcancel := context.WithTimeout(parent, src.s.cfg.WriteDeadline)
	defer wcancel()
	b, err := importers.ImportReader(wctx, src.spec.URL, bytes.NewReader(body), importers.FormatDefiLlama, importers.Options{Catalog: src.s.cfg.Catalog, Market: src.spec.Market})
	if err != nil {
		return res, fmt.Errorf("source %s: %w", src.spec.Name, err)
	}
	wr, err := src.s.hist.Write(wctx, b)
	if err != nil {
		return res, fmt.Errorf("source %s: %w", src.spec.Name, err)
	}
	res.Files, res.Inserted = 1, wr.Inserted+wr.Updated
	return res, nil
}
