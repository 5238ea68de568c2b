// Package collect is cjm's HTTP collector: the Segment HTTP tracking API
// (POST /v1/track|identify|page|screen|group|alias|batch, the browser short
// forms /v1/t|i|p|s|g|a|b) in front of the ingestion pipeline.
//
// A 2xx answer means every accepted message is durably in the event log.
// Invalid messages in a batch are reported by index and kept in the rejected
// store; the valid ones next to them are stored.
package collect

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/ingest"
	"github.com/cjmhq/cjm/opstore"
)

// SourceFinder finds the source of a write key (opstore.Store does).
type SourceFinder interface {
	SourceByWriteKey(ctx context.Context, writeKey string) (opstore.Source, error)
}

// Options configure the collector.
type Options struct {
	Sources  SourceFinder
	Pipeline *ingest.Pipeline
	Logger   *slog.Logger
	// RateLimit is the default messages per second per write key (a source's
	// own RateLimit wins); 0 means 100,000. Bursts of up to 2 s are allowed.
	RateLimit int
	// KeyTTL is how long a write key lookup is cached (default 10 s), so a
	// disabled or rotated key stops working within that time.
	KeyTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Collector serves the tracking API.
type Collector struct {
	o       Options
	mu      sync.Mutex
	keys    map[string]*keyEntry
	unknown map[string]time.Time // unknown write keys, until when
}

type keyEntry struct {
	src     opstore.Source
	err     error
	expires time.Time
	limiter *rate.Limiter
}

// New returns a collector.
func New(o Options) *Collector {
	if o.RateLimit <= 0 {
		o.RateLimit = 100000
	}
	if o.KeyTTL <= 0 {
		o.KeyTTL = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Collector{o: o, keys: map[string]*keyEntry{}, unknown: map[string]time.Time{}}
}

// endpoints maps a path name to the type it implies ("" for a batch).
var endpoints = map[string]event.Type{
	"track": event.Track, "t": event.Track,
	"identify": event.Identify, "i": event.Identify,
	"page": event.Page, "p": event.Page,
	"screen": event.Screen, "s": event.Screen,
	"group": event.Group, "g": event.Group,
	"alias": event.Alias, "a": event.Alias,
	"batch": "", "b": "", "import": "",
}

// Register mounts the collector's routes on mux.
func (c *Collector) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/{kind}", c.serve)
	mux.HandleFunc("OPTIONS /v1/{kind}", c.preflight)
}

func cors(w http.ResponseWriter, r *http.Request) {
	// Any site may send events (the write key authorises them); no cookies
	// are involved, so credentials are never allowed.
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

func (c *Collector) preflight(w http.ResponseWriter, r *http.Request) {
	if _, ok := endpoints[r.PathValue("kind")]; !ok {
		http.NotFound(w, r)
		return
	}
	cors(w, r)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, X-Retry-Count")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// apiError is the error body: {"error": {"code", "message"}}.
type apiError struct {
	status     int
	retryAfter int    // seconds, for 429
	Code       string `json:"code"`
	Message    string `json:"message"`
}

func (e *apiError) Error() string { return e.Message }

func fail(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// response is the success body. "success" is what Segment answers.
type response struct {
	Success    bool               `json:"success"`
	Accepted   int                `json:"accepted"`
	Duplicates int                `json:"duplicates"`
	Rejected   []ingest.Rejection `json:"rejected,omitempty"`
}

// errorResponse is the error body; for a batch whose every message was
// invalid it also lists them.
type errorResponse struct {
	Error    *apiError          `json:"error"`
	Rejected []ingest.Rejection `json:"rejected,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	typ, ok := endpoints[r.PathValue("kind")]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorResponse{Error: fail(404, "not_found", "unknown endpoint %s", r.URL.Path)})
		return
	}
	res, err := c.handle(r, typ, r.PathValue("kind"))
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			c.o.Logger.Error("collector", "err", err)
			ae = fail(http.StatusServiceUnavailable, "unavailable", "the event could not be stored, retry later")
		}
		if ae.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
		}
		writeJSON(w, ae.status, errorResponse{Error: ae, Rejected: res.Rejected})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (c *Collector) handle(r *http.Request, typ event.Type, kind string) (response, error) {
	var res response
	received := c.o.Now().UTC()
	isBatch := typ == ""
	limit := int64(event.MaxMessageBytes)
	if isBatch {
		limit = event.MaxBatchBytes
	}
	body, err := c.readBody(r, limit)
	if err != nil {
		return res, err
	}
	key, _, ok := r.BasicAuth()
	if !ok || key == "" {
		key = event.WriteKeyOf(body)
	}
	if key == "" {
		return res, fail(http.StatusUnauthorized, "missing_write_key", "no write key: send it as the Basic auth user name or as writeKey in the body")
	}
	ke, err := c.source(r.Context(), key)
	if err != nil {
		return res, err
	}
	var raws []json.RawMessage
	var d = event.Defaults{Type: typ, ReceivedAt: received}
	if isBatch {
		b, e := event.DecodeBatch(body)
		if e != nil {
			status := http.StatusBadRequest
			if e.Code == "batch_too_large" {
				status = http.StatusRequestEntityTooLarge
			}
			return res, fail(status, e.Code, "%s", e.Error())
		}
		raws, d.Context, d.SentAt = b.Messages, b.Context, b.SentAt
	} else {
		raws = []json.RawMessage{body}
	}
	if n := len(raws); n > 0 {
		if r := ke.limiter.ReserveN(received, n); !r.OK() {
			return res, fail(http.StatusRequestEntityTooLarge, "batch_too_large", "batch of %d messages exceeds this write key's rate limit burst", n)
		} else if delay := r.DelayFrom(received); delay > 0 {
			r.CancelAt(received)
			e := fail(http.StatusTooManyRequests, "rate_limited", "too many messages for this write key (limit %d/s), retry later", int(ke.limiter.Limit()))
			e.retryAfter = int(math.Ceil(delay.Seconds()))
			return res, e
		}
	}
	msgs := make([]event.Message, 0, len(raws))
	var rejected []opstore.Rejected
	for i, raw := range raws {
		m, e := event.Normalize(raw, d)
		if e != nil {
			res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Error: *e})
			rejected = append(rejected, opstore.Rejected{
				WorkspaceID: ke.src.WorkspaceID, SourceID: ke.src.ID, ReceivedAt: received,
				Origin: "POST /v1/" + kind, Index: map[bool]int{true: i, false: -1}[isBatch], Code: e.Code, Field: e.Field, Reason: e.Reason, Payload: string(raw), // Index -1: not in a batch
			})
			continue
		}
		m.WorkspaceID, m.SourceID = ke.src.WorkspaceID, ke.src.ID
		msgs = append(msgs, m)
	}
	out, err := c.o.Pipeline.Submit(r.Context(), msgs, rejected)
	if err != nil {
		return res, err
	}
	res.Accepted, res.Duplicates = out.Accepted, out.Duplicates
	if len(msgs) == 0 && len(rejected) > 0 {
		first := res.Rejected[0]
		msg := first.Error.Error()
		if isBatch {
			msg = fmt.Sprintf("all %d messages were rejected; first (index %d): %s", len(rejected), first.Index, msg)
		}
		return res, fail(http.StatusBadRequest, first.Code, "%s", msg)
	}
	res.Success = true
	return res, nil
}

// readBody reads the request body, un-gzipping it, up to limit bytes.
func (c *Collector) readBody(r *http.Request, limit int64) ([]byte, error) {
	// The compressed body is bounded too, so a stream of empty gzip members
	// cannot keep a request reading.
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, 4*limit+1024)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "invalid_gzip", "body is not valid gzip: %v", err)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, fail(http.StatusUnsupportedMediaType, "unsupported_encoding", "content encoding %q is not supported (use gzip or none)", enc)
	}
	body, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fail(http.StatusBadRequest, "invalid_gzip", "body could not be read: %v", err)
		}
		return nil, fail(http.StatusBadRequest, "bad_body", "body could not be read: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, fail(http.StatusRequestEntityTooLarge, "body_too_large", "request body is larger than the limit of %d bytes", limit)
	}
	return body, nil
}

// source resolves a write key through a short-lived cache.
func (c *Collector) source(ctx context.Context, key string) (*keyEntry, error) {
	now := c.o.Now()
	c.mu.Lock()
	ke := c.keys[key]
	unknownUntil, isUnknown := c.unknown[key]
	c.mu.Unlock()
	if ke == nil && isUnknown && now.Before(unknownUntil) {
		return nil, fail(http.StatusUnauthorized, "invalid_write_key", "unknown write key")
	}
	if ke == nil || now.After(ke.expires) {
		src, err := c.o.Sources.SourceByWriteKey(ctx, key)
		if err != nil && !errors.Is(err, opstore.ErrNotFound) {
			return nil, err
		}
		c.mu.Lock()
		old := c.keys[key]
		ke = &keyEntry{src: src, err: err, expires: now.Add(c.o.KeyTTL)}
		limit := src.RateLimit
		if limit <= 0 {
			limit = c.o.RateLimit
		}
		if old != nil && old.limiter != nil && int(old.limiter.Limit()) == limit {
			ke.limiter = old.limiter
		} else {
			burst := max(2*limit, event.MaxBatchMessages)
			ke.limiter = rate.NewLimiter(rate.Limit(limit), burst)
		}
		switch {
		case err != nil:
			// Unknown keys are remembered apart, so a flood of random keys
			// cannot evict the known ones (and reset their rate limits).
			if len(c.unknown) > 10000 {
				clear(c.unknown)
			}
			c.unknown[key] = ke.expires
		default:
			if len(c.keys) > 100000 {
				clear(c.keys)
			}
			c.keys[key] = ke
		}
		c.mu.Unlock()
	}
	if ke.err != nil {
		return nil, fail(http.StatusUnauthorized, "invalid_write_key", "unknown write key")
	}
	if ke.src.Disabled {
		return nil, fail(http.StatusForbidden, "source_disabled", "the source %q of this write key is disabled", ke.src.Name)
	}
	return ke, nil
}
