package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

type sourceRow struct {
	opstore.Source
	Events int64
}

type sourcesData struct {
	Sources []sourceRow
	Form    *form
}

func (s *server) sourcesPage(q *req) error {
	f := newForm(nil)
	f.Values.Set("channel", string(opstore.Website))
	return s.sourcesRender(q, f, http.StatusOK)
}

func (s *server) sourcesRender(q *req, f *form, status int) error {
	sources, err := s.ops.Sources(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	sortSources(sources)
	d := sourcesData{Form: f}
	for _, src := range sources {
		n, err := s.events.Count(q.ctx, eventstore.Filter{WorkspaceID: q.ws.ID, SourceID: src.ID})
		if err != nil {
			return err
		}
		d.Sources = append(d.Sources, sourceRow{Source: src, Events: n})
	}
	s.render(q, status, "sources", q.page("sources.title", "nav.sources", d))
	return nil
}

func (s *server) createSource(q *req) error {
	f := newForm(q.r.PostForm)
	checkName(f, "name")
	ch := opstore.Channel(f.Get("channel"))
	if !ch.Valid() {
		f.Fail("channel", "err.channel")
	}
	if f.OK() {
		if _, err := s.ops.SourceByName(q.ctx, q.ws.ID, f.Get("name")); err == nil {
			f.Fail("name", "err.source_taken")
		} else if !errors.Is(err, opstore.ErrNotFound) {
			return err
		}
	}
	if !f.OK() {
		return s.sourcesRender(q, f, http.StatusUnprocessableEntity)
	}
	src := opstore.Source{WorkspaceID: q.ws.ID, Name: f.Get("name"), Channel: ch}
	if err := s.ops.CreateSource(q.ctx, &src); errors.Is(err, opstore.ErrConflict) {
		f.Fail("name", "err.source_taken")
		return s.sourcesRender(q, f, http.StatusUnprocessableEntity)
	} else if err != nil {
		return err
	}
	s.log.Info("source created", "workspace", q.ws.ID, "source", src.ID, "user", q.user.ID)
	return q.redirect("/sources/"+src.ID, "flash.source_created")
}

// source returns the source of the path in the user's workspace.
func (s *server) source(q *req) (opstore.Source, error) {
	src, err := s.ops.Source(q.ctx, q.r.PathValue("id"))
	if err != nil {
		return src, err
	}
	if src.WorkspaceID != q.ws.ID {
		return src, errNotFound
	}
	return src, nil
}

type sourceData struct {
	Source   opstore.Source
	Events   int64
	Base     string
	Snippets []snippet
}

type snippet struct {
	ID, Key string // element id, catalog key of the title
	Code    string
}

func (s *server) sourcePage(q *req) error {
	src, err := s.source(q)
	if err != nil {
		return err
	}
	n, err := s.events.Count(q.ctx, eventstore.Filter{WorkspaceID: q.ws.ID, SourceID: src.ID})
	if err != nil {
		return err
	}
	base := s.baseURL(q.r)
	d := sourceData{Source: src, Events: n, Base: base, Snippets: snippets(base, src.WriteKey)}
	s.render(q, http.StatusOK, "source", q.page("source.title", "nav.sources", d).withTitleArgs(src.Name))
	return nil
}

func (s *server) rotateKey(q *req) error {
	src, err := s.source(q)
	if err != nil {
		return err
	}
	if _, err := s.ops.RotateWriteKey(q.ctx, src.ID); err != nil {
		return err
	}
	s.log.Info("write key rotated", "workspace", q.ws.ID, "source", src.ID, "user", q.user.ID)
	return q.redirect("/sources/"+src.ID, "flash.key_rotated")
}

func (s *server) setSourceEnabled(q *req) error {
	src, err := s.source(q)
	if err != nil {
		return err
	}
	switch q.r.PostFormValue("enabled") {
	case "true":
		src.Disabled = false
	case "false":
		src.Disabled = true
	default:
		return errNotFound
	}
	if err := s.ops.UpdateSource(q.ctx, src); err != nil {
		return err
	}
	flash := "flash.source_enabled"
	if src.Disabled {
		flash = "flash.source_disabled"
	}
	return q.redirect("/sources/"+src.ID, flash)
}

// baseURL is the address the browser reached this server at.
func (s *server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.secure || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// snippets are ready-to-paste ways to send a first event with key.
func snippets(base, key string) []snippet {
	r := strings.NewReplacer("BASE", base, "WRITEKEY", key)
	return []snippet{
		{ID: "snippet-curl", Key: "source.snippet_curl", Code: r.Replace(`curl -u WRITEKEY: -H 'Content-Type: application/json' \
  -d '{"userId": "user-123", "event": "Order Completed", "properties": {"revenue": 250000, "currency": "VND"}}' \
  BASE/v1/track`)},
		{ID: "snippet-browser", Key: "source.snippet_browser", Code: r.Replace(`<script>
// cjm: send events from the browser
(function () {
  var KEY = 'WRITEKEY', URL = 'BASE/v1/t';
  function uuid() {
    return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  }
  var anon = localStorage.getItem('cjm_aid') || uuid();
  localStorage.setItem('cjm_aid', anon);
  window.cjmTrack = function (event, properties) {
    var body = JSON.stringify({
      writeKey: KEY, type: 'track', event: event, properties: properties || {},
      anonymousId: anon, messageId: uuid(), timestamp: new Date().toISOString(),
      context: { page: { url: location.href, title: document.title, referrer: document.referrer } }
    });
    // text/plain keeps this a simple request (no CORS preflight)
    fetch(URL, { method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' } });
  };
})();
cjmTrack('Product Viewed', { product_id: 'SKU-001', price: 250000, currency: 'VND' });
</script>`)},
		{ID: "snippet-node", Key: "source.snippet_node", Code: r.Replace(`// npm install @segment/analytics-node
import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({ writeKey: 'WRITEKEY', host: 'BASE' })

analytics.track({
  userId: 'user-123',
  event: 'Order Completed',
  properties: { revenue: 250000, currency: 'VND' },
})
await analytics.closeAndFlush()`)},
		{ID: "snippet-go", Key: "source.snippet_go", Code: r.Replace(`// go get gopkg.in/segmentio/analytics-go.v3
package main

import "gopkg.in/segmentio/analytics-go.v3"

func main() {
	client, err := analytics.NewWithConfig("WRITEKEY", analytics.Config{Endpoint: "BASE"})
	if err != nil {
		panic(err)
	}
	defer client.Close() // sends what is queued

	client.Enqueue(analytics.Track{
		UserId:     "user-123",
		Event:      "Order Completed",
		Properties: analytics.NewProperties().Set("revenue", 250000).Set("currency", "VND"),
	})
}`)},
	}
}
