package main

// End-to-end tests of the cjm binary: the test binary re-executes itself as
// `cjm` (TestMain, CJM_E2E_RUN=1), so these tests run the real server as a
// child process on 127.0.0.1, kill it, restart it and read its data back with
// the real `cjm export`, without a separate build.

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
	"os/signal"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"
)

func TestMain(m *testing.M) {
	if os.Getenv("CJM_E2E_RUN") == "1" {
		// Acting as the cjm binary for an end-to-end test, exactly as main does.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// cjmCommand is `cjm args...`: this test binary re-executed as cjm.
func cjmCommand(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), "CJM_E2E_RUN=1")
	return cmd
}

// runCLI runs a short cjm command to completion (at most a minute) and
// returns its output and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := cjmCommand(ctx, t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	t0 := time.Now()
	err := cmd.Run()
	t.Logf("cjm %s: %s", args[0], time.Since(t0).Round(time.Millisecond))
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	default:
		t.Fatalf("cjm %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), code
}

// createSource runs `cjm source create --json` and returns the write key.
func createSource(t *testing.T, dir, name string) string {
	t.Helper()
	out, errOut, code := runCLI(t, "source", "create", "--data", dir, "--name", name, "--channel", "website", "--json")
	if code != 0 {
		t.Fatalf("source create: exit %d\n%s", code, errOut)
	}
	var src struct {
		WriteKey string `json:"write_key"`
	}
	if err := json.Unmarshal([]byte(out), &src); err != nil || src.WriteKey == "" {
		t.Fatalf("source create --json printed %q: %v", out, err)
	}
	return src.WriteKey
}

// freeAddr returns a loopback address with a port free right now; the tests
// keep it across server restarts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a child's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a `cjm serve` child process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	out    *lockedBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// startServer runs `cjm serve` on dir and addr and waits until /healthz answers.
func startServer(t *testing.T, dir, addr string) *server {
	t.Helper()
	s := &server{t: t, base: "http://" + addr, out: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = cjmCommand(context.Background(), t, "serve", "--data", dir, "--addr", addr)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("output of server pid %d:\n%s", s.cmd.Process.Pid, s.out.String())
		}
	})
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.exited:
			t.Fatalf("cjm serve exited before it was healthy: %v\n%s", s.err, s.out.String())
		default:
		}
		resp, err := hc.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cjm serve not healthy at %s after 30s (last error %v)\n%s", s.base, err, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("SIGKILL: %v", err)
	}
	<-s.exited
}

// stop sends SIGTERM and checks the server drains and exits 0 within limit.
func (s *server) stop(limit time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(limit):
		s.t.Fatalf("server did not exit within %s of SIGTERM\n%s", limit, s.out.String())
	}
	if s.err != nil {
		s.t.Fatalf("server exit after SIGTERM: %v (want exit code 0)\n%s", s.err, s.out.String())
	}
	return time.Since(start)
}

// exported is a message of `cjm export --format jsonl`.
type exported struct {
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`
	Event       string          `json:"event"`
	Name        string          `json:"name"`
	UserID      string          `json:"userId"`
	AnonymousID string          `json:"anonymousId"`
	Properties  json.RawMessage `json:"properties"`
	Traits      json.RawMessage `json:"traits"`
	Context     json.RawMessage `json:"context"`
}

// exportAll runs `cjm export --format jsonl` on dir (the server must be
// stopped) and counts every messageId.
func exportAll(t *testing.T, dir string) (map[string]exported, map[string]int) {
	t.Helper()
	out, errOut, code := runCLI(t, "export", "--data", dir, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	msgs := map[string]exported{}
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var m exported
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("export line %d: %v: %s", line, err, sc.Text())
		}
		msgs[m.MessageID] = m
		counts[m.MessageID]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs, counts
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// The messages the Segment clients send: mostly track, every tenth an
// identify, every tenth a page, each with its own messageId.
const segmentMessages = 10000

var trackNames = []string{"Product Viewed", "Product Added", "Checkout Started", "Order Completed"}

func goMessageID(n int) string { return fmt.Sprintf("go-e2e-%05d", n) }

func goTrackProps(n int) analytics.Properties {
	return analytics.Properties{"n": n, "sku": fmt.Sprintf("TUI-%03d", n%97), "price": 1290000 + n, "currency": "VND",
		"title": "Túi xách da “Mây” — size M", "tags": []string{"túi", "da"}}
}

func goMessage(n int) analytics.Message {
	id, user := goMessageID(n), fmt.Sprintf("kh-%04d", n%500)
	switch n % 10 {
	case 7:
		return analytics.Identify{MessageId: id, UserId: user, Traits: analytics.NewTraits().SetName("Nguyễn Thị Mai").SetEmail(user + "@example.vn")}
	case 9:
		return analytics.Page{MessageId: id, AnonymousId: fmt.Sprintf("anon-%05d", n), Name: "Trang chủ",
			Properties: analytics.NewProperties().SetPath("/").SetTitle("Mây Boutique")}
	}
	return analytics.Track{MessageId: id, UserId: user, Event: trackNames[n%len(trackNames)], Properties: goTrackProps(n)}
}

func goMessageIDOf(m analytics.Message) string {
	switch m := m.(type) {
	case analytics.Track:
		return m.MessageId
	case analytics.Identify:
		return m.MessageId
	case analytics.Page:
		return m.MessageId
	}
	return fmt.Sprintf("unexpected %T", m)
}

// clientLog records what the Segment client reports: acknowledged and
// dropped messages, and its error log.
type clientLog struct {
	acked    atomic.Int64
	ackedAt  int64         // signal ackedCh when acked reaches this
	ackedCh  chan struct{} // closed once
	mu       sync.Mutex
	ok       map[string]int
	failures []string
	dropped  int
	errs     int
	firstErr []string
}

func (c *clientLog) Success(m analytics.Message) {
	c.mu.Lock()
	c.ok[goMessageIDOf(m)]++
	c.mu.Unlock()
	if c.acked.Add(1) == c.ackedAt {
		close(c.ackedCh)
	}
}

func (c *clientLog) Failure(m analytics.Message, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped++
	if len(c.failures) < 5 {
		c.failures = append(c.failures, fmt.Sprintf("%s: %v", goMessageIDOf(m), err))
	}
}

func (c *clientLog) done() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.acked.Load()) + c.dropped
}

func (c *clientLog) Logf(format string, args ...any) {}

func (c *clientLog) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs++
	if len(c.firstErr) < 3 {
		c.firstErr = append(c.firstErr, fmt.Sprintf(format, args...))
	}
}

// countingTransport counts the client's HTTP requests and how they went,
// and the attempts of each batch (analytics-go gives a batch a messageId of
// its own and sends the same body on every attempt).
type countingTransport struct {
	base            http.RoundTripper
	netErrs, non2xx atomic.Int64
	duplicates      atomic.Int64 // messages the collector answered as already stored
	mu              sync.Mutex
	requests        int
	statuses        map[int]int
	attempts        map[string]int // batch messageId -> requests
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	var b struct {
		MessageID string `json:"messageId"`
	}
	_ = json.Unmarshal(body, &b)
	c.mu.Lock()
	c.requests++
	c.attempts[b.MessageID]++
	c.mu.Unlock()
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		c.netErrs.Add(1)
		return nil, err
	}
	if resp.StatusCode >= 300 {
		c.non2xx.Add(1)
		c.mu.Lock()
		c.statuses[resp.StatusCode]++
		c.mu.Unlock()
		return resp, nil
	}
	// The collector says how many messages of the batch it had already stored.
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.netErrs.Add(1)
		return nil, err
	}
	var res struct {
		Duplicates int64 `json:"duplicates"`
	}
	_ = json.Unmarshal(rb, &res)
	c.duplicates.Add(res.Duplicates)
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	return resp, nil
}

// retries sums up the attempts: batches, batches sent more than once, and
// the most attempts of one batch.
func (c *countingTransport) retries() (batches, retried, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.attempts {
		batches++
		if n > 1 {
			retried++
		}
		most = max(most, n)
	}
	return batches, retried, most
}

// serverDown is how long a killed server stays down before its restart, on
// top of the restart itself: long enough for several batches to fail.
const serverDown = 500 * time.Millisecond

func TestE2ESegmentGoClient(t *testing.T) { segmentGo(t, false) }

func TestE2ESegmentGoClientServerKilled(t *testing.T) { segmentGo(t, true) }

// segmentGo sends 10,000 messages with Segment's Go client (analytics-go
// v3.1.0) to a `cjm serve` child; with kill, the server is SIGKILLed once
// mid-stream and restarted on the same address and data directory. Every
// message must then be stored exactly once, as sent.
//
// What analytics-go v3.1.0 does (analytics.go): a full batch is sent at once
// on its own goroutine (up to 1,000 concurrent requests); a failed upload
// (network error or any status >= 300) is retried 10 times in all, waiting
// RetryAfter(i) after attempt i; then the batch is dropped and
// Callback.Failure called for each message. Close drops a batch that is
// waiting to retry, so the test waits for every callback before Close.
func segmentGo(t *testing.T, kill bool) {
	dir := t.TempDir()
	key := createSource(t, dir, "Go")
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)

	cl := &clientLog{ok: map[string]int{}, ackedAt: 3000, ackedCh: make(chan struct{})}
	tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), statuses: map[int]int{}, attempts: map[string]int{}}
	client, err := analytics.NewWithConfig(key, analytics.Config{
		Endpoint:  srv.base,
		BatchSize: 100,
		Interval:  50 * time.Millisecond,
		// 50 ms, 100 ms, ... capped at 2 s: the 10 attempts span about 9 s,
		// several times what a restart takes.
		RetryAfter: func(i int) time.Duration { return min(50*time.Millisecond<<i, 2*time.Second) },
		Callback:   cl,
		Logger:     cl,
		Transport:  tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			client.Close()
		}
	}()

	start := time.Now()
	var enqueued atomic.Int64
	producerErr := make(chan error, 1)
	go func() {
		for n := range segmentMessages {
			if err := client.Enqueue(goMessage(n)); err != nil {
				producerErr <- fmt.Errorf("enqueue %d: %w", n, err)
				return
			}
			enqueued.Add(1)
			// With a kill, send over about 2 s, so the client keeps sending
			// while the server is down and after it is back.
			if kill && n%100 == 99 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		producerErr <- nil
	}()

	var killedAt, restart time.Duration // restart: from the kill until healthy again
	var enqueuedAtKill int64
	if kill {
		select {
		case <-cl.ackedCh:
		case <-time.After(60 * time.Second):
			t.Fatalf("3,000 messages not acknowledged within 60 s (acked %d)", cl.acked.Load())
		}
		ackedAtKill := cl.acked.Load()
		enqueuedAtKill = enqueued.Load()
		killedAt = time.Since(start)
		srv.kill()
		t0 := time.Now()
		time.Sleep(serverDown)
		srv = startServer(t, dir, addr)
		restart = time.Since(t0)
		t.Logf("SIGKILLed the server at %s with %d acknowledged and %d enqueued; back after %s (%s down on purpose)",
			killedAt.Round(time.Millisecond), ackedAtKill, enqueuedAtKill, restart.Round(time.Millisecond), serverDown)
	}
	select {
	case err := <-producerErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("enqueueing 10,000 messages took more than 60 s")
	}
	// Wait for every message's callback: Close would drop batches still waiting to retry.
	deadline := time.Now().Add(60 * time.Second)
	for cl.done() < segmentMessages {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s only %d of %d messages were acknowledged or dropped", cl.done(), segmentMessages)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	sent := time.Since(start)
	drain := srv.stop(15 * time.Second)

	batches, retried, most := tr.retries()
	tr.mu.Lock()
	t.Logf("analytics-go: %d messages in %s: %d HTTP requests for %d batches, %d batches retried, at most %d attempts; %d network errors, %d non-2xx %v, %d messages answered as duplicates; client error log (%d) begins %q",
		segmentMessages, sent.Round(time.Millisecond), tr.requests, batches, retried, most, tr.netErrs.Load(), tr.non2xx.Load(), tr.statuses,
		tr.duplicates.Load(), cl.errs, cl.firstErr)
	tr.mu.Unlock()
	t.Logf("server exited 0, %s after SIGTERM", drain.Round(time.Millisecond))

	if cl.dropped > 0 {
		t.Fatalf("the Segment client gave up on %d messages (retries exhausted), e.g. %q", cl.dropped, cl.failures)
	}
	if kill {
		if enqueuedAtKill >= segmentMessages {
			t.Errorf("the kill came after the client had enqueued every message: it did not hit the stream mid-way")
		}
		if retried == 0 {
			t.Errorf("no batch was retried although the server was killed: the kill missed the stream")
		}
	} else if retried > 0 {
		t.Errorf("%d batches were retried without a kill (%d network errors, non-2xx %v)", retried, tr.netErrs.Load(), tr.statuses)
	}
	for n := range segmentMessages {
		if c := cl.ok[goMessageID(n)]; c != 1 {
			t.Fatalf("client acknowledged %s %d times, want 1", goMessageID(n), c)
		}
	}

	msgs, counts := exportAll(t, dir)
	if len(msgs) != segmentMessages {
		t.Errorf("export holds %d distinct messages, want %d", len(msgs), segmentMessages)
	}
	bad := 0
	for n := range segmentMessages {
		id := goMessageID(n)
		if counts[id] != 1 {
			if bad++; bad <= 10 {
				t.Errorf("%s stored %d times, want once", id, counts[id])
			}
			continue
		}
		m := msgs[id]
		want := goMessage(n)
		switch w := want.(type) {
		case analytics.Track:
			props, _ := json.Marshal(w.Properties)
			if m.Type != "track" || m.Event != w.Event || m.UserID != w.UserId || !sameJSON(m.Properties, props) {
				if bad++; bad <= 10 {
					t.Errorf("%s stored as %s %q user %q properties %s; sent track %q user %q properties %s",
						id, m.Type, m.Event, m.UserID, m.Properties, w.Event, w.UserId, props)
				}
			}
		case analytics.Identify:
			traits, _ := json.Marshal(w.Traits)
			if m.Type != "identify" || m.UserID != w.UserId || !sameJSON(m.Traits, traits) {
				if bad++; bad <= 10 {
					t.Errorf("%s stored as %s user %q traits %s; sent identify user %q traits %s", id, m.Type, m.UserID, m.Traits, w.UserId, traits)
				}
			}
		case analytics.Page:
			if m.Type != "page" || m.Name != w.Name || m.AnonymousID != w.AnonymousId {
				if bad++; bad <= 10 {
					t.Errorf("%s stored as %s %q anonymousId %q; sent page %q anonymousId %q", id, m.Type, m.Name, m.AnonymousID, w.Name, w.AnonymousId)
				}
			}
		}
		// The batch context (the library) is merged into every message.
		var ctx struct {
			Library struct{ Name string } `json:"library"`
		}
		if err := json.Unmarshal(m.Context, &ctx); err != nil || ctx.Library.Name != "analytics-go" {
			if bad++; bad <= 10 {
				t.Errorf("%s context %s: want library analytics-go from the batch context", id, m.Context)
			}
		}
	}
	for id, c := range counts {
		if !strings.HasPrefix(id, "go-e2e-") {
			if bad++; bad <= 10 {
				t.Errorf("export holds %q (%d times), which the test never sent", id, c)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d problems in all", bad)
	}
}

// TestE2EDrainOnSIGTERM posts batches from concurrent clients, sends the
// server SIGTERM while they post, and checks that every message of a batch
// answered 200 is in the store afterwards, once.
func TestE2EDrainOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	key := createSource(t, dir, "Drain")
	srv := startServer(t, dir, freeAddr(t))

	const clients, batchSize = 8, 50
	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		sent      = map[string]bool{}
		statuses  = map[string]int{}
		ackedN    atomic.Int64
		termed    atomic.Bool
		afterTerm atomic.Int64 // batches answered 200 after SIGTERM was sent
		wg        sync.WaitGroup
	)
	hc := &http.Client{Timeout: 20 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				ids := make([]string, batchSize)
				var b strings.Builder
				b.WriteString(`{"batch":[`)
				for i := range ids {
					ids[i] = fmt.Sprintf("drain-%d-%d-%d", c, n, i)
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"type":"track","messageId":%q,"userId":"kh-%d","event":"Order Completed","properties":{"revenue":%d,"currency":"VND"}}`,
						ids[i], i, 100000*(i+1))
				}
				b.WriteString(`]}`)
				mu.Lock()
				for _, id := range ids {
					sent[id] = true
				}
				mu.Unlock()
				req, _ := http.NewRequest(http.MethodPost, srv.base+"/v1/batch", strings.NewReader(b.String()))
				req.SetBasicAuth(key, "")
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					mu.Lock()
					statuses["network error"]++
					mu.Unlock()
					if termed.Load() {
						return // the server is gone
					}
					continue
				}
				var body struct {
					Accepted int `json:"accepted"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				mu.Lock()
				statuses[strconv.Itoa(resp.StatusCode)]++
				if resp.StatusCode == http.StatusOK {
					for _, id := range ids {
						acked[id] = true
					}
				}
				mu.Unlock()
				if resp.StatusCode == http.StatusOK {
					ackedN.Add(int64(body.Accepted))
					if termed.Load() {
						afterTerm.Add(1)
					}
				}
				if n > 10000 {
					return // bound the loop whatever happens
				}
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for ackedN.Load() < 5000 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages acknowledged in 30 s", ackedN.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	atTerm := ackedN.Load()
	termed.Store(true)
	drain := srv.stop(15 * time.Second)
	wg.Wait()
	t.Logf("SIGTERM with %d messages acknowledged; server exited 0 after %s; %d batches answered 200 after SIGTERM; responses %v",
		atTerm, drain.Round(time.Millisecond), afterTerm.Load(), statuses)

	msgs, counts := exportAll(t, dir)
	missing, extra := 0, 0
	for id := range acked {
		if counts[id] != 1 {
			if missing++; missing <= 10 {
				t.Errorf("acknowledged message %s stored %d times, want once", id, counts[id])
			}
		}
	}
	for id, c := range counts {
		if !sent[id] || c != 1 {
			t.Errorf("export holds %s %d times (sent: %v)", id, c, sent[id])
		}
		if !acked[id] {
			extra++
		}
	}
	if missing > 10 {
		t.Errorf("%d acknowledged messages missing or duplicated in all", missing)
	}
	t.Logf("%d messages acknowledged, %d exported (%d stored without a 200 reaching the client)", len(acked), len(msgs), extra)
}

// TestE2ELockedDataDir runs CLI commands against a data directory a running
// server holds: each must say the directory is in use, name the server's
// process and exit 1, and the server must keep working.
func TestE2ELockedDataDir(t *testing.T) {
	dir := t.TempDir()
	key := createSource(t, dir, "Locked")
	srv := startServer(t, dir, freeAddr(t))
	file := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(file, []byte(`{"type":"track","messageId":"imp-1","userId":"kh-1","event":"Order Completed"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(srv.cmd.Process.Pid)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"source_list", []string{"source", "list", "--data", dir}},
		{"source_create", []string{"source", "create", "--data", dir, "--name", "Other"}},
		{"export", []string{"export", "--data", dir, "--format", "jsonl"}},
		{"import", []string{"import", "--data", dir, file}},
		{"demo", []string{"demo", "--data", dir, "--customers", "1", "--no-serve"}},
		{"serve", []string{"serve", "--data", dir, "--addr", freeAddr(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			out, errOut, code := runCLI(t, args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if !strings.Contains(errOut, "in use") || !strings.Contains(errOut, "process "+pid) {
				t.Errorf("stderr does not say the directory is in use by process %s:\n%s", pid, errOut)
			}
			if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine ") {
				t.Errorf("crashed:\n%s", errOut)
			}
			if strings.Contains(out, "Generating") || strings.Contains(out, "running at") {
				t.Errorf("went on despite the lock:\n%s", out)
			}
		})
	}

	// The server is unharmed: it still takes events, and drains them on SIGTERM.
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/v1/track",
		strings.NewReader(`{"messageId":"after-lock","userId":"kh-1","event":"Order Completed"}`))
	req.SetBasicAuth(key, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("track after the CLI attempts: %d %s", resp.StatusCode, body)
	}
	srv.stop(15 * time.Second)
	_, counts := exportAll(t, dir)
	if len(counts) != 1 || counts["after-lock"] != 1 {
		t.Errorf("export holds %v, want only after-lock once (nothing from the refused commands)", counts)
	}
}
