// Package chpeer runs a private ClickHouse server as the side-by-side peer
// of cjm's funnel benchmark (`cjm bench analytics`): it starts
// clickhouse-server on a temporary directory and loopback ports, loads
// events into a MergeTree table over the HTTP interface and times
// windowFunnel over them. It targets the ClickHouse of Debian bookworm,
// 18.16.1, and talks to it with net/http only.
//
// # The table
//
// Load creates
//
//	CREATE TABLE name (actor UInt32, ts DateTime, name String)
//	ENGINE = MergeTree ORDER BY (actor, ts)
//
// with no partition key: the funnel groups all of an actor's rows, so
// partitions by month only add parts (3 instead of 1 for 90 days) and were
// no faster on the benchmark's data. Load ends with OPTIMIZE ... FINAL (one
// part; under half a second for 10M rows) so a query never races a
// background merge. name stays String: LowCardinality is experimental in
// 18.16 and was no clear gain. The server runs with max_threads=2 (the
// benchmark machine's cores) and the UTC time zone.
//
// # Seconds, not milliseconds
//
// In 18.16 windowFunnel keeps timestamps as UInt32 seconds (its first
// argument must be DateTime or UInt32, and its window parameter is in
// seconds), so Load stores Event.TS floored to the second and WindowFunnel
// floors the window to whole seconds. cjm's funnel works in milliseconds.
// On data whose times are whole seconds (the benchmark's) both agree
// exactly: a gap of g whole seconds is within a window of w milliseconds
// when 1000g <= w, that is g <= floor(w/1000). On data with milliseconds
// they can differ: two events 400ms apart across a second boundary are a
// second apart here. From and To are rounded up to the next whole second,
// which keeps "ts >= From" and "ts < To" exact for whole-second data.
//
// 18.16 also compares times as Int32 internally, so Load rejects times from
// 2038-01-19 on, and windows over 68 years are cut to 68 years (the same
// thing for any data Load accepts).
//
// # Where windowFunnel agrees with cjm's ordered funnel
//
// For the query WindowFunnel sends, that is the steps as event names, no
// exclusions, no breakdown, counted by actor:
//
//   - An event of step 1 opens a window measured from that event; step k+1
//     must come after step k and at most the window after the step-1 event,
//     inclusive (windowFunnel: ts <= start + window; cjm: T <= start + Window).
//   - Other events may come between the steps (cjm's "ordered", not
//     "strict").
//   - Every step-1 event opens an attempt and the actor counts at its best
//     one: windowFunnel returns the deepest level any window reached, which
//     is cjm's best attempt's Reached (a later, better attempt wins in both).
//   - count[k] is the actors whose level is at least k+1, like cjm's
//     cumulative StepResult.Count; actors without a step-1 event count
//     nowhere.
//   - From and To bound every event read ([From, To), as cjm's View.Funnel
//     does), so a step after To does not count and an actor whose step-1
//     event is before From only counts from a later step-1 event.
//   - One event matching two steps (a funnel that repeats a name) fills only
//     one step of a given attempt in both: 18.16 adds the event once per
//     matching condition, highest step first, and a stable sort keeps that
//     order, so the event can extend an earlier attempt and also open a new
//     one, but cannot be steps k and k+1 of the same attempt.
//
// # Where they differ
//
//   - Equal timestamps: cjm orders events of the same millisecond by their
//     order in the event log and lets a later one be the next step. 18.16
//     sorts by timestamp with a stable sort over the order rows are read, and
//     a MergeTree keeps no insertion order among rows with the same
//     (actor, ts), so with ties the result depends on storage order. With
//     seconds precision ties are far more common than with milliseconds;
//     benchmark data should avoid an actor's events sharing a second.
//   - Precision: seconds here, milliseconds in cjm (see above).
//   - Only what WindowFunnel asks is compared: cjm's strict and unordered
//     orders, exclusions, breakdowns, attribution and times between steps
//     have no counterpart in 18.16's windowFunnel (its 'strict' and
//     'strict_order' modes came in later versions).
//   - At most 32 steps in both, but 18.16 returns UInt8 levels and takes
//     the window as UInt32 seconds.
package chpeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned by Start when no ClickHouse binary is found.
var ErrNotInstalled = errors.New("chpeer: no ClickHouse binary (clickhouse-server or clickhouse) found; apt-get install clickhouse-server")

// startTimeout bounds how long Start waits for /ping.
const startTimeout = 60 * time.Second

// Available reports whether a ClickHouse binary is installed, and its path:
// clickhouse-server (Debian puts it in /usr/sbin, which a non-root PATH may
// lack), else the single clickhouse binary run as `clickhouse server`.
func Available() (path string, ok bool) {
	for _, name := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "clickhouse", "/usr/bin/clickhouse"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Server is a running private clickhouse-server.
type Server struct {
	// URL is the HTTP interface, http://127.0.0.1:PORT/.
	URL string
	// TCPPort is the native protocol port (for clickhouse-client --port).
	TCPPort int

	dir    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // the process's exit, set before exited is closed
	client *http.Client

	closeOnce sync.Once
	closeErr  error
}

// errPortTaken is a start that failed because a port was taken meanwhile.
var errPortTaken = errors.New("port taken")

// Start runs a private clickhouse-server with its data, logs and config
// under dir, on free loopback ports, and waits until it answers a query (at most
// a minute). A start that loses a port to another process is retried on new
// ports. The server outlives ctx; Close stops it.
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, ok := Available()
	if !ok {
		return nil, ErrNotInstalled
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, bin, dir)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 5 {
			return s, err
		}
	}
}

func start(ctx context.Context, bin, dir string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	// The display name comes back in every query's
	// X-ClickHouse-Server-Display-Name: it tells our server from another
	// process that got the port first.
	name := fmt.Sprintf("cjm-chpeer-%d-%d", os.Getpid(), time.Now().UnixNano())
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	config := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(config, []byte(configXML(dir, name, ports[0], ports[1])), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o644); err != nil {
		return nil, err
	}
	// The server logs to log/server*.log once its logger is up; what it
	// prints before (a bad config) goes to log/stdout.log.
	out, err := os.OpenFile(filepath.Join(dir, "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own copy
	logs := []string{out.Name(), filepath.Join(dir, "log", "server.log")}
	marks := make([]int64, len(logs)) // where this start's lines begin
	for i, l := range logs {
		if fi, err := os.Stat(l); err == nil {
			marks[i] = fi.Size()
		}
	}

	args := []string{"--config-file=" + config}
	if filepath.Base(bin) == "clickhouse" {
		args = append([]string{"server"}, args...)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chpeer: start %s: %w", bin, err)
	}
	s := &Server{
		URL:     fmt.Sprintf("http://127.0.0.1:%d/", ports[0]),
		TCPPort: ports[1],
		dir:     dir,
		cmd:     cmd,
		exited:  make(chan struct{}),
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 2 * time.Second}},
	}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.ping(ctx, name) {
			return s, nil
		}
		select {
		case <-s.exited:
			tail := logTail(logs, marks)
			s.Close()
			err := fmt.Errorf("chpeer: clickhouse-server exited on start (%v); log:\n%s", s.err, tail)
			if strings.Contains(tail, "Address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return nil, err
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("chpeer: clickhouse-server did not answer /ping on %s: %w; log:\n%s", s.URL, ctx.Err(), logTail(logs, marks))
		case <-tick.C:
		}
	}
}

// ping reports whether our server answers: /ping answers without the
// display name, so ping asks a query.
func (s *Server) ping(ctx context.Context, name string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"?query=SELECT%201", nil)
	if err != nil {
		return false
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK && resp.Header.Get("X-ClickHouse-Server-Display-Name") == name
}

// freePorts returns n distinct loopback ports free at the time of asking.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("chpeer: find a free port: %w", err)
		}
		defer l.Close() // held until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// logTail returns the last lines each log gained since its mark.
func logTail(logs []string, marks []int64) string {
	var b strings.Builder
	for i, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil || int64(len(data)) <= marks[i] {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data[marks[i]:]), "\n"), "\n")
		lines = lines[max(0, len(lines)-20):]
		fmt.Fprintf(&b, "%s:\n%s\n", l, strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "(empty)"
	}
	return b.String()
}

// configXML is the server config of 18.16: a <yandex> root, only the
// listeners asked for (no interserver port: nothing is replicated), every
// path under dir, and caches sized for a benchmark, not a production host.
func configXML(dir, name string, httpPort, tcpPort int) string {
	p := func(sub string) string { return xmlText(filepath.Join(dir, sub) + "/") }
	return fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>%s</log>
        <errorlog>%s</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <display_name>%s</display_name>
    <listen_host>127.0.0.1</listen_host>
    <http_port>%d</http_port>
    <tcp_port>%d</tcp_port>
    <path>%s</path>
    <tmp_path>%s</tmp_path>
    <user_files_path>%s</user_files_path>
    <format_schema_path>%s</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_concurrent_queries>20</max_concurrent_queries>
    <mark_cache_size>536870912</mark_cache_size>
    <uncompressed_cache_size>536870912</uncompressed_cache_size>
    <mlock_executable>false</mlock_executable>
</yandex>
`, xmlText(filepath.Join(dir, "log", "server.log")), xmlText(filepath.Join(dir, "log", "server.err.log")),
		xmlText(name), httpPort, tcpPort, p("data"), p("tmp"), p("user_files"), p("format_schemas"))
}

// usersXML has the one user, default, without a password and reachable
// from loopback only; 18.16 wants a profile and a quota for every user.
const usersXML = `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_threads>2</max_threads>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Close stops the server (SIGTERM, then a kill after 15 seconds) and waits
// for it. It reports a server that had died before, or had to be killed.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.client.CloseIdleConnections() // open connections delay its shutdown
		select {
		case <-s.exited:
			if s.err != nil {
				s.closeErr = fmt.Errorf("chpeer: clickhouse-server had exited: %w", s.err)
			}
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.closeErr = errors.New("chpeer: clickhouse-server did not stop within 15s of SIGTERM; killed")
		}
	})
	return s.closeErr
}

// Query runs sql on the HTTP interface and returns the answer. With a body,
// sql goes in the URL and the body is the data (an INSERT's rows). Errors
// carry ClickHouse's message.
func (s *Server) Query(ctx context.Context, sql string, body io.Reader) (string, error) {
	return s.query(ctx, sql, body, nil)
}

func (s *Server) query(ctx context.Context, sql string, body io.Reader, settings url.Values) (string, error) {
	params := url.Values{}
	for k, v := range settings {
		params[k] = v
	}
	if body != nil {
		params.Set("query", sql)
	} else {
		body = strings.NewReader(sql)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"?"+params.Encode(), body)
	if err != nil {
		return "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("chpeer: %s: %w", short(sql), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("chpeer: %s: read the answer: %w", short(sql), err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("chpeer: %s: %s: %s", short(sql), resp.Status, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// short is the start of a query, for error messages.
func short(sql string) string {
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 80 {
		return sql[:80] + "..."
	}
	return sql
}

// Event is one row of the benchmark table.
type Event struct {
	Actor uint32
	TS    int64 // unix milliseconds, UTC; stored floored to the second
	Name  string
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkTable(name string) error {
	if !tableName.MatchString(name) {
		return fmt.Errorf("chpeer: table name %q: want letters, digits and _", name)
	}
	return nil
}

// Load creates (replacing) table name and streams the rows of next into it
// until next returns false, as TabSeparated over one HTTP request: rows are
// written to the request as they come, never held all at once. It then
// merges the table's parts into one. It returns the rows loaded; on an
// error the table may hold some of them.
func (s *Server) Load(ctx context.Context, name string, next func() (Event, bool)) (int64, error) {
	if err := checkTable(name); err != nil {
		return 0, err
	}
	for _, sql := range []string{
		"DROP TABLE IF EXISTS " + name,
		"CREATE TABLE " + name + " (actor UInt32, ts DateTime, name String) ENGINE = MergeTree ORDER BY (actor, ts)",
	} {
		if _, err := s.Query(ctx, sql, nil); err != nil {
			return 0, err
		}
	}

	pr, pw := io.Pipe()
	var n int64
	done := make(chan error, 1)
	go func() {
		err := writeRows(pw, next, &n)
		pw.CloseWithError(err) // nil: a clean end of the body
		done <- err
	}()
	_, qerr := s.Query(ctx, "INSERT INTO "+name+" FORMAT TabSeparated", pr)
	pr.CloseWithError(errors.New("insert ended")) // unblocks the writer if the request ended early
	werr := <-done
	var bad badEvent
	switch {
	case errors.As(werr, &bad):
		return n, werr // the cause of qerr, if any
	case qerr != nil:
		return n, qerr
	case werr != nil:
		return n, werr
	}
	if _, err := s.Query(ctx, "OPTIMIZE TABLE "+name+" FINAL", nil); err != nil {
		return n, err
	}
	return n, nil
}

// badEvent is an event Load cannot store.
type badEvent struct{ msg string }

func (e badEvent) Error() string { return e.msg }

// writeRows writes next's events to w as TabSeparated rows, counting them
// in n.
func writeRows(w io.Writer, next func() (Event, bool), n *int64) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var row []byte
	for {
		e, ok := next()
		if !ok {
			break
		}
		sec := e.TS / 1000
		if e.TS%1000 < 0 {
			sec-- // floor
		}
		if sec < 0 || sec > math.MaxInt32 {
			return badEvent{fmt.Sprintf("chpeer: event %d of actor %d at %d ms: ClickHouse 18.16's windowFunnel takes times from 1970 to 2038-01-19", *n+1, e.Actor, e.TS)}
		}
		row = strconv.AppendUint(row[:0], uint64(e.Actor), 10)
		row = append(row, '\t')
		// DateTime as text is a date or a unix time of exactly 10 digits.
		row = append(row, "0000000000"[:10-digits(sec)]...)
		row = strconv.AppendInt(row, sec, 10)
		row = append(row, '\t')
		row = appendTSV(row, e.Name)
		row = append(row, '\n')
		if _, err := bw.Write(row); err != nil {
			return err
		}
		*n++
	}
	return bw.Flush()
}

func digits(v int64) int {
	d := 1
	for ; v >= 10; v /= 10 {
		d++
	}
	return d
}

// appendTSV appends s escaped for a TabSeparated field.
func appendTSV(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case 0:
			b = append(b, `\0`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// quote returns s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// WindowFunnel runs windowFunnel over table name for steps (event names)
// with the window from each step-1 event (floored to whole seconds), over
// the events in [from, to) (a zero time leaves that side open). It returns
// count[k], the actors that reached at least step k+1; the query's elapsed
// time as the server measured it (the statistics of FORMAT JSON: 18.16 has
// no X-ClickHouse-Summary header); and the wall time of the HTTP round trip
// measured here.
func (s *Server) WindowFunnel(ctx context.Context, name string, steps []string, window time.Duration, from, to time.Time) (counts []int64, server, wall time.Duration, err error) {
	sql, err := funnelSQL(name, steps, window, from, to)
	if err != nil {
		return nil, 0, 0, err
	}
	start := time.Now()
	out, err := s.query(ctx, sql, nil, url.Values{"output_format_json_quote_64bit_integers": {"0"}})
	wall = time.Since(start)
	if err != nil {
		return nil, 0, wall, err
	}
	var res struct {
		Data       [][2]int64
		Statistics struct{ Elapsed float64 }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, 0, wall, fmt.Errorf("chpeer: windowFunnel answer: %w", err)
	}
	counts = make([]int64, len(steps))
	for _, r := range res.Data {
		for k := 0; k < int(r[0]) && k < len(counts); k++ {
			counts[k] += r[1]
		}
	}
	return counts, time.Duration(res.Statistics.Elapsed * float64(time.Second)), wall, nil
}

// funnelSQL is the windowFunnel query: the level each actor reached, then
// the actors per level. It does not filter on name first: events of no step
// change no level, and on the benchmark's data (half the events in a step)
// the filter cost more than it saved (570ms against 450ms for 10M rows).
func funnelSQL(name string, steps []string, window time.Duration, from, to time.Time) (string, error) {
	if err := checkTable(name); err != nil {
		return "", err
	}
	if len(steps) < 1 || len(steps) > 32 {
		return "", fmt.Errorf("chpeer: a funnel has 1 to 32 steps, not %d", len(steps))
	}
	if window <= 0 {
		return "", errors.New("chpeer: the conversion window must be positive")
	}
	// Times stay below 2^31 s and 18.16 adds the window to a time in 32
	// bits: a longer window than this would wrap around.
	w := min(int64(window/time.Second), math.MaxInt32)
	conds := make([]string, len(steps))
	for i, st := range steps {
		conds[i] = "name = " + quote(st)
	}
	var where []string
	if !from.IsZero() {
		where = append(where, fmt.Sprintf("ts >= toDateTime(%d)", ceilSecond(from)))
	}
	if !to.IsZero() {
		where = append(where, fmt.Sprintf("ts < toDateTime(%d)", ceilSecond(to)))
	}
	filter := ""
	if len(where) > 0 {
		filter = " WHERE " + strings.Join(where, " AND ")
	}
	return fmt.Sprintf(`SELECT level, count() FROM (
    SELECT windowFunnel(%d)(ts, %s) AS level
    FROM %s%s
    GROUP BY actor
) GROUP BY level ORDER BY level FORMAT JSONCompact`,
		w, strings.Join(conds, ", "), name, filter), nil
}

// ceilSecond is the first whole second at or after t, clamped to the
// range of DateTime: for whole-second times ts, ts >= t in milliseconds
// exactly when ts >= ceilSecond(t).
func ceilSecond(t time.Time) int64 {
	ms := t.UnixMilli()
	s := ms / 1000
	if ms%1000 > 0 {
		s++
	}
	return min(max(s, 0), math.MaxUint32)
}
