package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/opstore"
)

const (
	eventsPageSize = 50
	feedMax        = 200
	// receivedApart is how far the receive time may be from the event time
	// before the list shows both.
	receivedApart = time.Minute
)

// eventFilter is the filter of the live events page, from its query string.
type eventFilter struct {
	Source, Type, Event, User string
}

func parseEventFilter(v url.Values) eventFilter {
	f := eventFilter{Source: v.Get("source"), Type: v.Get("type"), Event: v.Get("event"), User: v.Get("user")}
	if !event.Type(f.Type).Valid() {
		f.Type = ""
	}
	return f
}

func (f eventFilter) store(ws string) eventstore.Filter {
	return eventstore.Filter{WorkspaceID: ws, SourceID: f.Source, Type: event.Type(f.Type), Event: f.Event, User: f.User}
}

// query is the filter as a query string (without "?"), extra appended.
func (f eventFilter) query(extra ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"source": f.Source, "type": f.Type, "event": f.Event, "user": f.User} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

// Active reports whether any filter is set.
func (f eventFilter) Active() bool { return f != eventFilter{} }

// Count is the number of filters set.
func (f eventFilter) Count() int {
	n := 0
	for _, s := range []string{f.Source, f.Type, f.Event, f.User} {
		if s != "" {
			n++
		}
	}
	return n
}

type eventsData struct {
	Filter  eventFilter
	Sources []opstore.Source
	Types   []event.Type
	Names   []eventstore.NameCount
	Rows    []eventRow
	Live    bool   // the newest page, updated as events arrive
	After   uint64 // the highest Seq shown
	Older   string // the URL of the next older page, "" at the end
	Newest  string // the URL of the newest page
	FeedURL string
	// ExportURL is the export form of the Import & export page with the
	// page's filters.
	ExportURL string
	Zone      string
}

// eventRow is one message as the list shows it. The list is in the order
// messages arrived (Seq); the time it shows is the event's own, with the
// receive time under it when the two are apart.
type eventRow struct {
	Seq         uint64     `json:"seq"`
	Type        event.Type `json:"type"`
	Label       string     `json:"label"`
	UserID      string     `json:"userId,omitempty"`
	AnonymousID string     `json:"anonymousId,omitempty"`
	SourceID    string     `json:"sourceId"`
	Source      string     `json:"source"`
	Timestamp   time.Time  `json:"timestamp"`
	Time        string     `json:"time"` // in the workspace's time zone, as the page shows it
	ISO         string     `json:"-"`
	ReceivedAt  time.Time  `json:"receivedAt"`
	// Received is the receive time as the page shows it, when it is more
	// than receivedApart from the event time (an import, a late batch).
	Received    string          `json:"received,omitempty"`
	ReceivedISO string          `json:"-"`
	Message     json.RawMessage `json:"message"`
	Pretty      string          `json:"-"`
}

func (s *server) sourceNames(q *req) ([]opstore.Source, map[string]string, error) {
	sources, err := s.ops.Sources(q.ctx, q.ws.ID)
	if err != nil {
		return nil, nil, err
	}
	sortSources(sources)
	names := make(map[string]string, len(sources))
	for _, src := range sources {
		names[src.ID] = src.Name
	}
	return sources, names, nil
}

func (q *req) eventRows(msgs []event.Message, names map[string]string) ([]eventRow, error) {
	rows := make([]eventRow, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		pretty, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return nil, err
		}
		src := names[m.SourceID]
		if src == "" {
			src = m.SourceID
		}
		row := eventRow{
			Seq: m.Seq, Type: m.Type, Label: m.Label(), UserID: m.UserID, AnonymousID: m.AnonymousID,
			SourceID: m.SourceID, Source: src, Timestamp: m.Timestamp, Time: when(q.lang, q.loc, m.Timestamp), ISO: m.Timestamp.In(q.loc).Format(time.RFC3339),
			ReceivedAt: m.ReceivedAt, Message: raw, Pretty: string(pretty),
		}
		if d := m.ReceivedAt.Sub(m.Timestamp); !m.ReceivedAt.IsZero() && (d > receivedApart || d < -receivedApart) {
			row.Received = when(q.lang, q.loc, m.ReceivedAt)
			row.ReceivedISO = m.ReceivedAt.In(q.loc).Format(time.RFC3339)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (s *server) eventsPage(q *req) error {
	v := q.r.URL.Query()
	d := eventsData{Filter: parseEventFilter(v), Types: event.Types}
	before, _ := strconv.ParseUint(v.Get("before"), 10, 64)
	d.Live = before == 0
	var names map[string]string
	var err error
	if d.Sources, names, err = s.sourceNames(q); err != nil {
		return err
	}
	if d.Names, err = s.events.EventNames(q.ctx, q.ws.ID, 200); err != nil {
		return err
	}
	f := d.Filter.store(q.ws.ID)
	f.BeforeSeq = before
	msgs, err := s.events.Recent(q.ctx, f, eventsPageSize+1)
	if err != nil {
		return err
	}
	more := len(msgs) > eventsPageSize
	if more {
		msgs = msgs[:eventsPageSize]
	}
	if d.Rows, err = q.eventRows(msgs, names); err != nil {
		return err
	}
	if len(msgs) > 0 {
		d.After = msgs[0].Seq
		if more {
			d.Older = withQuery("/events", d.Filter.query("before", strconv.FormatUint(msgs[len(msgs)-1].Seq, 10)))
		}
	} else if d.Live {
		// Nothing yet: follow from the end of the store.
		if d.After, err = s.events.LastSeq(q.ctx); err != nil {
			return err
		}
	}
	d.FeedURL = withQuery("/events/feed", d.Filter.query())
	d.Newest = withQuery("/events", d.Filter.query())
	d.ExportURL = withQuery("/data", d.Filter.query()) + "#export"
	p := q.page("events.title", "nav.events", &d)
	d.Zone = p.Zone()
	s.render(q, http.StatusOK, "events", p)
	return nil
}

// feed is the answer of GET /events/feed: messages newer than after= that
// match the filters, newest first, also as rendered rows for the page.
type feed struct {
	Events []eventRow `json:"events"`
	Last   uint64     `json:"last"` // the after= of the next poll
	HTML   string     `json:"html"`
}

func (s *server) eventsFeed(q *req) error {
	v := q.r.URL.Query()
	after, err := strconv.ParseUint(v.Get("after"), 10, 64)
	if v.Get("after") != "" && err != nil {
		http.Error(q.w, "after must be a number", http.StatusBadRequest)
		return nil
	}
	f := parseEventFilter(v).store(q.ws.ID)
	f.AfterSeq = after
	msgs, err := s.events.Recent(q.ctx, f, feedMax)
	if err != nil {
		return err
	}
	_, names, err := s.sourceNames(q)
	if err != nil {
		return err
	}
	out := feed{Last: after, Events: []eventRow{}}
	if out.Events, err = q.eventRows(msgs, names); err != nil {
		return err
	}
	if len(msgs) > 0 {
		out.Last = msgs[0].Seq
		if out.HTML, err = s.partial(q, "events", "event_rows", out.Events); err != nil {
			return err
		}
	}
	q.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	q.w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(q.w).Encode(out)
}

func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}
