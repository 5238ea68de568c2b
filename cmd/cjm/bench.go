package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cjmhq/cjm/demo"
	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

func cmdBench(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "import" {
		return cmdBenchImport(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "analytics" {
		return cmdBenchAnalytics(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "ingest" {
		return usageError{"bench: want a benchmark: ingest, import or analytics"}
	}
	f := newFlags("bench ingest", e)
	duration := f.String("duration", "60s", "how long to send")
	conc := f.Int("concurrency", 16, "concurrent HTTP clients")
	rate := f.Int("rate", 50000, "offered load in messages/s, spread over the clients (0: as fast as the server answers)")
	batch := f.Int("batch", 100, "messages per batch")
	dir := f.String("data", "", "data directory for the server under test (default: a new temporary one, removed afterwards)")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	d, err := time.ParseDuration(*duration)
	if err != nil {
		return usageError{"--duration: " + err.Error()}
	}
	return benchIngest(ctx, e, *dir, d, *conc, *batch, *rate)
}

// benchIngest runs `cjm serve` as a child process on a fresh data directory
// and sends it batches from concurrent clients over loopback HTTP, measuring
// throughput, acknowledgement latency and the server's memory; at the end it
// checks that every acknowledged message was stored exactly once.
//
// With a rate, the clients send on a fixed schedule (open loop) and latency
// is measured from when a batch was due, so a slow server cannot hide its
// queueing by slowing the clients down.
func benchIngest(ctx context.Context, e *env, dir string, d time.Duration, conc, batchSize, rate int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cjm-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	a, err := openApp(ctx, e, dir)
	if err != nil {
		return err
	}
	w, err := a.DefaultWorkspace(ctx)
	if err != nil {
		a.Close()
		return err
	}
	src := opstore.Source{WorkspaceID: w.ID, Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Channel: opstore.Website}
	if err := a.Ops.CreateSource(ctx, &src); err != nil {
		a.Close()
		return err
	}
	before, _ := a.Events.Count(ctx, eventstore.Filter{})
	a.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"serve", "--data", dir, "--addr", addr, "--rate-limit", "10000000"}
	if p := os.Getenv("CJM_BENCH_PPROF"); p != "" {
		args = append(args, "--pprof", p)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	base := "http://" + addr
	if err := waitHealthy(ctx, base, 30*time.Second); err != nil {
		return err
	}
	offered := "as fast as answered"
	if rate > 0 {
		offered = fmt.Sprintf("offered %d messages/s", rate)
	}
	fmt.Fprintf(e.stdout, "bench ingest: %d clients, %d messages/batch, %s, %s, server pid %d at %s\n", conc, batchSize, offered, d, cmd.Process.Pid, base)

	var (
		sent, acked atomic.Int64
		failures    atomic.Int64
		mu          sync.Mutex
		lat         []time.Duration
		peakRSS     atomic.Int64
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}, Timeout: 30 * time.Second}
	stop := time.Now().Add(d)
	done := make(chan struct{})
	go func() { // sample the server's resident memory
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if rss := rssKB(cmd.Process.Pid); rss > peakRSS.Load() {
					peakRSS.Store(rss)
				}
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var body bytes.Buffer
			var interval time.Duration
			if rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(conc*batchSize) / float64(rate))
			}
			due := start.Add(time.Duration(c) * interval / time.Duration(conc))
			for n := 0; time.Now().Before(stop) && ctx.Err() == nil; n++ {
				body.Reset()
				benchBatch(&body, c, n, batchSize)
				if interval > 0 {
					time.Sleep(time.Until(due))
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/batch", bytes.NewReader(body.Bytes()))
				req.SetBasicAuth(src.WriteKey, "")
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				if interval > 0 {
					t0 = due
					due = due.Add(interval)
				}
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				el := time.Since(t0)
				sent.Add(int64(batchSize))
				if resp.StatusCode != http.StatusOK {
					failures.Add(1)
					continue
				}
				acked.Add(int64(batchSize))
				mine = append(mine, el)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	hwm := hwmKB(cmd.Process.Pid)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("server exit: %w", err)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	achieved := float64(acked.Load()) / elapsed.Seconds()
	fmt.Fprintf(e.stdout, "acknowledged %d messages in %.1fs: %.0f messages/s (%d failed requests)\n", acked.Load(), elapsed.Seconds(), achieved, failures.Load())
	fmt.Fprintf(e.stdout, "ack latency: p50 %s  p90 %s  p99 %s  max %s\n", pct(0.5).Round(time.Microsecond), pct(0.9).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	fmt.Fprintf(e.stdout, "server memory: peak RSS sampled %.0f MB, high-water mark %.0f MB\n", float64(peakRSS.Load())/1024, float64(hwm)/1024)

	a, err = openApp(ctx, e, dir)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Pipeline.Flush(ctx); err != nil {
		return err
	}
	after, err := a.Events.Count(ctx, eventstore.Filter{})
	if err != nil {
		return err
	}
	stored := after - before
	fmt.Fprintf(e.stdout, "stored after shutdown: %d (acknowledged %d)\n", stored, acked.Load())
	if stored != acked.Load() {
		return fmt.Errorf("stored %d messages but %d were acknowledged", stored, acked.Load())
	}
	return nil
}

// benchBatch writes a batch of realistic e-commerce track calls (~450 bytes
// each) with unique messageIds, cheaply, so the load generator leaves the CPU
// to the server under test.
func benchBatch(b *bytes.Buffer, client, n, size int) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var num [20]byte
	it := func(v int) { b.Write(strconv.AppendInt(num[:0], int64(v), 10)) }
	b.WriteString(`{"batch":[`)
	for i := range size {
		if i > 0 {
			b.WriteByte(',')
		}
		user := (client*7919 + n*size + i) % 100000
		b.WriteString(`{"type":"track","messageId":"bench-`)
		b.WriteString(runID)
		b.WriteByte('-')
		it(client)
		b.WriteByte('-')
		it(n)
		b.WriteByte('-')
		it(i)
		b.WriteString(`","anonymousId":"anon-`)
		it(user)
		b.WriteString(`","userId":"user-`)
		it(user)
		b.WriteString(`","event":"Product Viewed","properties":{"product_id":"SKU-`)
		it(i)
		b.WriteString(`","category":"Túi xách","price":1290000,"currency":"VND"},"context":{"page":{"path":"/san-pham/tui-`)
		it(i)
		b.WriteString(`","url":"https://maybouti.vn/san-pham/tui-`)
		it(i)
		b.WriteString(`"},"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)","locale":"vi-VN","sessionId":`)
		it(n)
		b.WriteString(`},"timestamp":"`)
		b.WriteString(now)
		b.WriteString(`"}`)
	}
	b.WriteString(`],"sentAt":"` + now + `","context":{"library":{"name":"cjm-bench","version":"1"}}}`)
}

// runID makes the messageIds of one bench run unique against earlier runs on the same data.
var runID = strconv.FormatInt(time.Now().UnixNano(), 36)

func waitHealthy(ctx context.Context, base string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("server did not become healthy")
}

func rssKB(pid int) int64 { return procStatus(pid, "VmRSS:") }
func hwmKB(pid int) int64 { return procStatus(pid, "VmHWM:") }

func procStatus(pid int, key string) int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func cmdBenchImport(ctx context.Context, e *env, args []string) error {
	f := newFlags("bench import", e)
	lines := f.Int("lines", 1000000, "lines in the generated JSONL file")
	file := f.String("file", "", "import this file instead of generating one")
	if err := f.parse(args); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cjm-bench-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path := *file
	if path == "" {
		path = filepath.Join(tmp, "events.jsonl")
		t0 := time.Now()
		n, size, err := writeDemoJSONL(ctx, path, *lines)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "generated %d demo messages as JSONL (%.0f MB, %.0f bytes/line) in %s\n", n, float64(size)/1e6, float64(size)/float64(n), time.Since(t0).Round(time.Millisecond))
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, "import", "--data", filepath.Join(tmp, "data"), "--json", path)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cjm import: %w\n%s", err, out.String())
	}
	wall := time.Since(t0)
	var sums []struct {
		Lines    int     `json:"lines"`
		Accepted int     `json:"accepted"`
		Ingest   float64 `json:"ingest_seconds"`
		Seconds  float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out.Bytes(), &sums); err != nil || len(sums) != 1 {
		return fmt.Errorf("cjm import printed %q", out.String())
	}
	s := sums[0]
	fmt.Fprintf(e.stdout, "cjm import: %d lines, %d stored\n", s.Lines, s.Accepted)
	fmt.Fprintf(e.stdout, "  durably ingested in %.2fs: %.0f messages/s\n", s.Ingest, float64(s.Lines)/s.Ingest)
	fmt.Fprintf(e.stdout, "  queryable in the event store after %.2fs: %.0f messages/s\n", s.Seconds, float64(s.Lines)/s.Seconds)
	fmt.Fprintf(e.stdout, "  whole command (start, import, load, close) %.2fs\n", wall.Seconds())
	return nil
}

// writeDemoJSONL writes the first n messages of the demo data set as
// Segment-spec JSONL: realistic messages for the import benchmark.
func writeDemoJSONL(ctx context.Context, path string, n int) (int, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	written := 0
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errDone := errors.New("done")
	_, err = demo.Generate(ctx, demo.Options{Customers: n/10 + 1000, Seed: 1}, func(_ string, msgs []event.Message) error {
		for i := range msgs {
			if written == n {
				return errDone
			}
			if err := enc.Encode(&msgs[i]); err != nil {
				return err
			}
			written++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return written, 0, err
	}
	if err := w.Flush(); err != nil {
		return written, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return written, 0, err
	}
	return written, st.Size(), nil
}
