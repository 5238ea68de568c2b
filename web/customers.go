package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/profile"
)

// The customers pages: the list (search, filters, sorting, paging, CSV
// export) and a customer's profile (identifiers, computed attributes,
// traits with history, current stage on each map, persona, staff notes,
// consent and privacy, and the omnichannel timeline).

// customerPages serve the customers pages with the profile service.
type customerPages struct {
	*server
	svc *profile.Service
	// slots reads what the profile page's consent and privacy parts show
	// (privacyPages.profileSlots); nil leaves them empty.
	slots func(*req, identity.ProfileID) (*profilePrivacy, error)
}

// customerRoutes registers the customers pages over svc; slots fills the
// consent and privacy parts of the profile page (nil: none).
func (s *server) customerRoutes(svc *profile.Service, slots func(*req, identity.ProfileID) (*profilePrivacy, error)) {
	c := &customerPages{server: s, svc: svc, slots: slots}
	s.route("GET /customers", member, "", c.listPage)
	s.route("GET /customers/export.csv", member, "", c.exportCSV)
	s.route("GET /customers/{id}", member, "", c.profilePage)
	s.route("POST /customers/{id}/notes", member, opstore.Editor, c.addNote)
	s.route("POST /customers/{id}/notes/{note}/delete", member, opstore.Editor, c.deleteNote)
}

const (
	customersPageSize = 50
	timelinePageSize  = 50
)

// seenPeriods are the "last seen within" choices, in days.
var seenPeriods = []int{7, 30, 90, 365}

// customerFilter is the list's query string: what the form shows and
// what the service is asked.
type customerFilter struct {
	Text, Channel, Stage, Orders, Revenue, Days, Sort string
}

func parseCustomerFilter(v url.Values) customerFilter {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := customerFilter{Text: g("q"), Channel: g("channel"), Stage: g("stage"), Orders: g("orders"), Revenue: g("revenue"), Days: g("days"), Sort: g("sort")}
	if !opstore.Channel(f.Channel).Valid() {
		f.Channel = ""
	}
	switch opstore.ProfileSort(f.Sort) {
	case opstore.SortRevenue, opstore.SortOrders, opstore.SortName:
	default:
		f.Sort = ""
	}
	return f
}

// values is the filter as a query string's values, without the empty ones.
func (f customerFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Text, "channel": f.Channel, "stage": f.Stage, "orders": f.Orders, "revenue": f.Revenue, "days": f.Days, "sort": f.Sort} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Active reports whether anything but the order is chosen.
func (f customerFilter) Active() bool {
	g := f
	g.Sort = ""
	return g != customerFilter{}
}

// Count is the number of filters set (the search box and the order aside).
func (f customerFilter) Count() int {
	n := 0
	for _, s := range []string{f.Channel, f.Stage, f.Orders, f.Revenue, f.Days} {
		if s != "" {
			n++
		}
	}
	return n
}

// query is what the service is asked; the form's errors are catalog keys
// by field.
func (f customerFilter) query(currency string) (profile.Query, map[string]string) {
	q := profile.Query{Text: f.Text, Channel: opstore.Channel(f.Channel), Sort: opstore.ProfileSort(f.Sort)}
	errs := map[string]string{}
	if m, st, ok := strings.Cut(f.Stage, ":"); ok {
		q.MapID, q.Stage = m, st
	}
	if f.Orders != "" {
		n, err := strconv.ParseInt(f.Orders, 10, 64)
		if err != nil || n < 0 {
			errs["orders"] = "customers.err_number"
		}
		q.MinOrders = n
	}
	if f.Revenue != "" {
		v, ok := parseAmount(f.Revenue, profile.MinorDigits(currency))
		if !ok {
			errs["revenue"] = "customers.err_number"
		}
		q.MinRevenue = v
	}
	if f.Days != "" {
		n, err := strconv.Atoi(f.Days)
		if err != nil || n <= 0 {
			errs["days"] = "customers.err_number"
		}
		q.SeenWithinDays = n
	}
	return q, errs
}

type customersData struct {
	Filter   customerFilter
	Errs     map[string]string
	Periods  []int
	Maps     []stageGroup
	Rows     []customerRow
	Total    int64
	Capped   bool
	Currency string
	// None: the workspace has no customer at all (as opposed to none
	// matching the filters).
	None      bool
	NextURL   string // the next page, "" on the last
	FirstURL  string // the first page, "" on it
	ExportURL string
}

// stageGroup lists a map's stages for the stage filter.
type stageGroup struct {
	Name   string
	Stages []stageOption
}

type stageOption struct{ Value, Name string }

type customerRow struct {
	ID, Display, Initial string
	Anonymous            bool
	Email, Phone         string
	Channels             []opstore.Channel
	Orders               int64
	Revenue              string
	LastSeen             time.Time
}

func (c *customerPages) listPage(q *req) error {
	v := q.r.URL.Query()
	f := parseCustomerFilter(v)
	d := &customersData{Filter: f, Periods: seenPeriods, Currency: q.ws.Currency}
	entries, err := c.book().List(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	for _, e := range entries {
		g := stageGroup{Name: e.Name}
		for _, st := range e.Map.Stages {
			g.Stages = append(g.Stages, stageOption{Value: e.ID + ":" + st.Key, Name: st.Name})
		}
		d.Maps = append(d.Maps, g)
	}
	pq, errs := f.query(q.ws.Currency)
	d.Errs = errs
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		pq.After, pq.Limit = v.Get("after"), customersPageSize
		page, err := c.svc.Search(q.ctx, q.ws.ID, pq)
		if errors.Is(err, profile.ErrBadCursor) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		d.Total, d.Capped = page.Total, page.Capped
		for _, p := range page.Customers {
			d.Rows = append(d.Rows, customerRow{ID: p.ID, Display: p.Display, Initial: initialOf(p.Display), Anonymous: p.Anonymous, Email: p.Email,
				Phone: displayPhone(p.Phone), Channels: p.Channels, Orders: p.Orders, Revenue: money(q.lang, p.Revenue, q.ws.Currency), LastSeen: p.LastSeen})
		}
		if page.Next != "" {
			nv := f.values()
			nv.Set("after", page.Next)
			d.NextURL = "/customers?" + nv.Encode()
		}
		if v.Get("after") != "" {
			d.FirstURL = withQuery("/customers", f.values().Encode())
		}
		if len(d.Rows) == 0 && !f.Active() && v.Get("after") == "" {
			d.None = true
		}
	}
	d.ExportURL = withQuery("/customers/export.csv", f.values().Encode())
	c.render(q, status, "customers", q.page("customers.title", "nav.customers", d))
	return nil
}

// exportCSV streams the customers the list's filters select as CSV.
func (c *customerPages) exportCSV(q *req) error {
	f := parseCustomerFilter(q.r.URL.Query())
	pq, errs := f.query(q.ws.Currency)
	if len(errs) > 0 {
		http.Error(q.w, "bad filter", http.StatusBadRequest)
		return nil
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", attachment("cjm-customers-"+c.now().In(q.loc).Format("20060102")+".csv"))
	h.Set("Cache-Control", "no-store")
	// Excel reads a CSV file as UTF-8 only after a byte order mark.
	out := &downloadWriter{w: q.w, prefix: []byte("\ufeff")}
	w := csv.NewWriter(out)
	digits := profile.MinorDigits(q.ws.Currency)
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(q.loc).Format(time.RFC3339)
	}
	header := []string{"profile_id", "name", "email", "phone", "first_seen", "last_seen", "events", "orders",
		"revenue_" + strings.ToLower(q.ws.Currency), "channels", "last_order_at"}
	if err := w.Write(header); err != nil {
		return out.failed(q, err)
	}
	n := 0
	err := c.svc.Export(q.ctx, q.ws.ID, pq, func(p profile.Summary) error {
		chs := make([]string, len(p.Channels))
		for i, ch := range p.Channels {
			chs[i] = string(ch)
		}
		n++
		if err := w.Write([]string{p.ID, p.Name, p.Email, p.Phone, ts(p.FirstSeen), ts(p.LastSeen), strconv.FormatInt(p.Events, 10),
			strconv.FormatInt(p.Orders, 10), decimal(p.Revenue, digits, "."), strings.Join(chs, ";"), ts(p.LastOrderAt)}); err != nil {
			return err
		}
		if n%1000 == 0 {
			w.Flush()
			return w.Error()
		}
		return nil
	})
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	if err != nil {
		return out.failed(q, err)
	}
	c.log.Info("customers exported", "workspace", q.ws.ID, "user", q.user.ID, "customers", n)
	return nil
}

type customerData struct {
	ID          identity.ProfileID
	P           *profile.Profile
	Display     string
	Initial     string
	Anonymous   bool   // nothing is known but an anonymousId
	Phone       string // as people write it
	Identifiers []identifierRow
	Stats       statCards
	Traits      []traitRow
	PersonaMaps []profile.MapRef // maps drawn for the customer's persona
	Days        []timelineDay
	Timeline    int    // events on this page of the timeline
	OlderURL    string // the next (older) page of the timeline
	NewestURL   string // the newest page, when on an older one
	NoteForm    *form
	// Privacy is what the consent and privacy slots show (nil: none).
	Privacy *profilePrivacy
	Zone    string
}

type identifierRow struct {
	Kind, Value string
	Shared      bool
}

type statCards struct {
	Revenue, AOV, LTV string
	DaysSince         int
	HasOrder          bool
}

type traitRow struct {
	Name, Value string
	At          time.Time
	Source      string
	History     []traitValueRow // every earlier value, newest first
}

type traitValueRow struct {
	Value  string
	At     time.Time
	Source string
}

type timelineDay struct {
	Label, ISO string
	Events     []timelineRow
}

type timelineRow struct {
	Seq                    uint64
	Time, ISO, Type, Label string
	Source                 string
	Channel                opstore.Channel
	Places                 []profile.Place
	Actor                  string
	Anonymous              bool
	UserLink               string // the live events of the actor
	Pretty                 string
}

func (c *customerPages) profilePage(q *req) error {
	id := identity.ProfileID(q.r.PathValue("id"))
	return c.renderProfile(q, id, newForm(nil), http.StatusOK)
}

func (c *customerPages) renderProfile(q *req, id identity.ProfileID, nf *form, status int) error {
	p, err := c.svc.Get(q.ctx, q.ws.ID, id)
	var merged *profile.MergedError
	if errors.As(err, &merged) {
		http.Redirect(q.w, q.r, "/customers/"+url.PathEscape(string(merged.Into)), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	_, sources, err := c.sourceNames(q)
	if err != nil {
		return err
	}
	actor := string(id)
	if len(p.Actors) > 0 {
		actor = p.Actors[0].ID
	}
	d := &customerData{ID: id, P: p, Display: profile.DisplayName(p.Name, p.Email, displayPhone(p.Phone), actor), Phone: displayPhone(p.Phone), NoteForm: nf}
	d.Initial = initialOf(d.Display)
	d.Anonymous = p.Name == "" && p.Email == "" && p.Phone == "" && len(p.Actors) > 0 && p.Actors[0].Kind == opstore.ActorAnonymous
	for _, l := range p.Identifiers {
		d.Identifiers = append(d.Identifiers, identifierRow{Kind: string(l.Kind), Value: l.Value, Shared: l.Shared})
	}
	cur := p.Stats.Currency
	d.Stats = statCards{Revenue: money(q.lang, p.Stats.Revenue, cur), AOV: money(q.lang, p.Stats.AverageOrder(), cur),
		LTV: money(q.lang, p.Stats.LifetimeValue(), cur)}
	d.Stats.DaysSince, d.Stats.HasOrder = p.Stats.DaysSinceOrder(c.now())
	sourceName := func(id string) string {
		if n := sources[id]; n != "" {
			return n
		}
		return id
	}
	for _, t := range p.Traits {
		row := traitRow{Name: t.Name, Value: t.Value, At: t.At, Source: sourceName(t.SourceID)}
		for _, h := range p.History[t.Name][1:] {
			row.History = append(row.History, traitValueRow{Value: h.Value, At: h.At, Source: sourceName(h.SourceID)})
		}
		d.Traits = append(d.Traits, row)
	}
	if p.Persona != "" {
		entries, err := c.book().List(q.ctx, q.ws.ID)
		if err != nil {
			return err
		}
		d.PersonaMaps = personaMaps(entries, p.Persona)
	}
	before := q.r.URL.Query().Get("before")
	tl, err := c.svc.Timeline(q.ctx, q.ws.ID, id, before, timelinePageSize)
	if errors.Is(err, profile.ErrBadCursor) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	channels, err := c.sourceChannels(q)
	if err != nil {
		return err
	}
	d.Timeline = len(tl.Events)
	for _, ev := range tl.Events {
		local := ev.Timestamp.In(q.loc)
		day := local.Format(time.DateOnly)
		if n := len(d.Days); n == 0 || d.Days[n-1].ISO != day {
			d.Days = append(d.Days, timelineDay{Label: local.Format(i18n.T(q.lang, "fmt.date")), ISO: day})
		}
		pretty, err := json.MarshalIndent(&ev.Message, "", "  ")
		if err != nil {
			return err
		}
		row := timelineRow{Seq: ev.Seq, Time: local.Format("15:04"), ISO: local.Format(time.RFC3339), Type: string(ev.Type), Label: ev.Label(),
			Source: sourceName(ev.SourceID), Channel: channels[ev.SourceID], Places: ev.Places, Actor: ev.Actor.ID,
			Anonymous: ev.Actor.Kind == opstore.ActorAnonymous, UserLink: "/events?" + url.Values{"user": {ev.Actor.ID}}.Encode(), Pretty: string(pretty)}
		d.Days[len(d.Days)-1].Events = append(d.Days[len(d.Days)-1].Events, row)
	}
	base := "/customers/" + url.PathEscape(string(id))
	if tl.Next != "" {
		d.OlderURL = base + "?" + url.Values{"before": {tl.Next}}.Encode() + "#timeline"
	}
	if before != "" {
		d.NewestURL = base + "#timeline"
	}
	if c.slots != nil {
		if d.Privacy, err = c.slots(q, id); err != nil {
			return err
		}
	}
	pg := q.page("profile.title", "nav.customers", d).withTitleArgs(d.Display)
	d.Zone = pg.Zone()
	c.render(q, status, "customer", pg)
	return nil
}

// personaMaps are the maps drawn for a persona: whose persona's segment
// or name is the persona trait (case and diacritics aside).
func personaMaps(entries []journeymap.Entry, persona string) []profile.MapRef {
	key := profile.Fold(persona)
	var out []profile.MapRef
	for _, e := range entries {
		for _, p := range []*journeymap.Persona{e.Map.Persona, e.Map.ComparePersona} {
			if p != nil && (profile.Fold(p.Segment) == key || profile.Fold(p.Name) == key) {
				out = append(out, profile.MapRef{ID: e.ID, Name: e.Name})
				break
			}
		}
	}
	return out
}

// sourceChannels maps the workspace's source ids to their channels.
func (c *customerPages) sourceChannels(q *req) (map[string]opstore.Channel, error) {
	srcs, err := c.ops.Sources(q.ctx, q.ws.ID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]opstore.Channel, len(srcs))
	for _, s := range srcs {
		out[s.ID] = s.Channel
	}
	return out, nil
}

// maxNote is the longest staff note, in characters.
const maxNote = 4000

func (c *customerPages) addNote(q *req) error {
	id := identity.ProfileID(q.r.PathValue("id"))
	if _, err := c.svc.Get(q.ctx, q.ws.ID, id); err != nil {
		var merged *profile.MergedError
		if errors.As(err, &merged) {
			return errNotFound
		}
		return err
	}
	f := newForm(q.r.PostForm)
	body := f.Get("body")
	switch {
	case body == "":
		f.Fail("body", "err.required")
	case len([]rune(body)) > maxNote:
		f.Fail("body", "profile.err_note_long")
	}
	if !f.OK() {
		return c.renderProfile(q, id, f, http.StatusUnprocessableEntity)
	}
	name := q.user.Name
	if name == "" {
		name = q.user.Email
	}
	if _, err := c.svc.AddNote(q.ctx, q.ws.ID, id, q.user.ID, name, body); err != nil {
		return err
	}
	return q.redirect("/customers/"+url.PathEscape(string(id))+"#notes", "flash.note_added")
}

func (c *customerPages) deleteNote(q *req) error {
	id := identity.ProfileID(q.r.PathValue("id"))
	n, err := strconv.ParseInt(q.r.PathValue("note"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := c.svc.DeleteNote(q.ctx, q.ws.ID, id, n); err != nil {
		return err
	}
	return q.redirect("/customers/"+url.PathEscape(string(id))+"#notes", "flash.note_deleted")
}

// parseAmount reads an amount in major units as people type it into
// minor units: for a currency without minor units (VND) every separator
// is a thousands separator ("1.500.000", "1,500,000"); else "." is the
// decimal point and "," separates thousands ("12.50", "1,200.5").
func parseAmount(s string, digits int) (int64, bool) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '\u00a0' || r == ',' || digits == 0 && r == '.':
			return -1
		}
		return r
	}, s)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v > 1e15 {
		return 0, false
	}
	return int64(math.Round(v * math.Pow10(digits))), true
}

// initialOf is the first letter of a name, for an avatar.
func initialOf(name string) string {
	for _, r := range strings.TrimSpace(name) {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// displayPhone writes an E.164 number the way people read it: a
// Vietnamese mobile number as 0912 345 678, others as they are.
func displayPhone(e164 string) string {
	if !strings.HasPrefix(e164, "+84") {
		return e164
	}
	n := "0" + e164[3:]
	if len(n) == 10 {
		return n[:4] + " " + n[4:7] + " " + n[7:]
	}
	if len(n) == 11 {
		return n[:3] + " " + n[3:7] + " " + n[7:]
	}
	return n
}

// decimal writes an amount of minor units with digits decimals.
func decimal(minor int64, digits int, point string) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	p := int64(math.Pow10(digits))
	s := strconv.FormatInt(minor/p, 10)
	if digits > 0 {
		frac := strconv.FormatInt(minor%p, 10)
		s += point + strings.Repeat("0", digits-len(frac)) + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

// money writes an amount of minor units of currency the way lang writes
// numbers: 1.290.000 VND, 1,290,000 VND, 12.50 USD.
func money(lang string, minor int64, currency string) string {
	digits := profile.MinorDigits(currency)
	p := int64(math.Pow10(digits))
	major, frac := minor/p, minor%p
	if frac < 0 {
		frac = -frac
	}
	s := i18n.Number(lang, major)
	if digits > 0 {
		f := strconv.FormatInt(frac, 10)
		s += i18n.T(lang, "fmt.decimal") + strings.Repeat("0", digits-len(f)) + f
	}
	return s + " " + currency
}
