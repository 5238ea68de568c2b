package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// The matchers page of a map: how much of the workspace's traffic each
// stage and touchpoint claims over the last days, with sample events, and
// which events no matcher claims.

// matcherPeriods are the periods the page offers, in days; the first
// default is 30.
var matcherPeriods = []int{7, 30, 90}

const defaultMatcherDays = 30

// mapBook is the maps of the workspace; the one place the page gets them.

type matchersData struct {
	Entry   journeymap.Entry
	Days    int
	Periods []matcherPeriod
	// From and To bound the period (To excluded), in the workspace's zone;
	// FromDay and ToDay are its first and last day, as lang writes dates.
	From, To       time.Time
	FromDay, ToDay string
	Zone           string
	// Invalid is the error of matchers that do not compile; nothing is
	// counted then.
	Invalid  string
	Warnings []string
	// NoEvents: the workspace has no event at all.
	NoEvents      bool
	Usage         *analytics.Usage
	Matched       string // share of the events placed on the map
	Stages        []stageUsage
	Unmatch       []unmatchedRow
	Unplaced      int64  // events no matcher claims
	UnplacedShare string // of all events
}

type matcherPeriod struct {
	Days    int
	Current bool
}

type stageUsage struct {
	Name, Target      string
	Events, Customers int64
	Share             string // of all events
	// Own is the stage's own matcher, shown when it has one or claimed
	// something.
	Own         *placeRow
	Touchpoints []placeRow
}

type placeRow struct {
	Name, Target      string
	Channel           journeymap.Channel
	Expected          bool
	Rule              string
	HasRule           bool
	Edit              bool   // the user may add a matcher
	Href              string // the part's page
	Events, Customers int64
	Share             string // of the stage's events
	Samples           []sampleRow
}

type sampleRow struct {
	Time, ISO, Type, Name, Source, Path string
	User                                string
	Anonymous                           bool   // User is an anonymousId
	UserLink                            string // the live events of this user
}

type unmatchedRow struct {
	Type, Name, Source string
	Events, Customers  int64
	Share              string // of all events
	Sample             sampleRow
	EventsLink         string // the live events of this group
}

func (s *server) mapMatchersPage(q *req) error {
	book := s.book()
	e, err := book.Get(q.ctx, q.ws.ID, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	d := &matchersData{Entry: e, Days: defaultMatcherDays}
	if n, err := strconv.Atoi(q.r.URL.Query().Get("days")); err == nil {
		for _, p := range matcherPeriods {
			if n == p {
				d.Days = n
			}
		}
	}
	for _, p := range matcherPeriods {
		d.Periods = append(d.Periods, matcherPeriod{p, p == d.Days})
	}
	now := s.now().In(q.loc)
	d.To = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, q.loc)
	d.From = d.To.AddDate(0, 0, -d.Days)
	d.FromDay = d.From.Format(i18n.T(q.lang, "fmt.date"))
	d.ToDay = d.To.AddDate(0, 0, -1).Format(i18n.T(q.lang, "fmt.date"))
	p := q.page("matchers.title", "nav.journeys", d).withTitleArgs(e.Name)
	d.Zone = p.Zone()

	c, err := book.Classifier(q.ctx, q.ws.ID, e.Map)
	var invalid journeymap.Errors
	switch {
	case errors.As(err, &invalid):
		d.Invalid = invalid.Error()
		s.render(q, http.StatusOK, "map_matchers", p)
		return nil
	case err != nil:
		return err
	}
	d.Warnings = c.Warnings
	total, err := s.events.Count(q.ctx, eventstore.Filter{WorkspaceID: q.ws.ID})
	if err != nil {
		return err
	}
	if d.NoEvents = total == 0; d.NoEvents {
		s.render(q, http.StatusOK, "map_matchers", p)
		return nil
	}
	u, err := s.mapUsage(q, e, c, d.From, d.To)
	if err != nil {
		return err
	}
	_, names, err := s.sourceNames(q)
	if err != nil {
		return err
	}
	fillMatchers(q, d, u, names)
	s.render(q, http.StatusOK, "map_matchers", p)
	return nil
}

// fillMatchers lays u out along the map of d.
func fillMatchers(q *req, d *matchersData, u *analytics.Usage, sources map[string]string) {
	d.Usage = u
	d.Matched = percent(q.lang, u.Matched, u.Events)
	d.Unplaced = u.Events - u.Matched
	d.UnplacedShare = percent(q.lang, d.Unplaced, u.Events)
	edit := q.role.Can(opstore.Editor)
	sample := func(sm analytics.Sample) sampleRow {
		r := sampleRow{Time: when(q.lang, q.loc, sm.Timestamp), ISO: sm.Timestamp.In(q.loc).Format(time.RFC3339),
			Type: sm.Type, Name: sm.Name, Source: sourceName(sources, sm.SourceID), Path: sm.Path, User: sm.UserID}
		if r.User == "" {
			r.User, r.Anonymous = sm.AnonymousID, true
		}
		if r.User != "" {
			r.UserLink = withQuery("/events", eventFilter{User: r.User}.query())
		}
		return r
	}
	place := func(target string, pu analytics.PlaceUsage, of int64, m *journeymap.Matcher) placeRow {
		r := placeRow{Target: target, Href: "/journeys/" + d.Entry.ID + "/part/" + target, Edit: edit,
			Events: pu.Events, Customers: pu.Customers, Share: percent(q.lang, pu.Events, of), Rule: i18n.T(q.lang, "matchers.no_matcher")}
		if m != nil {
			r.Rule, r.HasRule = describeMatcher(q.lang, m), true
		}
		for _, sm := range pu.Sample {
			r.Samples = append(r.Samples, sample(sm))
		}
		return r
	}
	for si, st := range d.Entry.Map.Stages {
		su := u.Stage(si)
		row := stageUsage{Name: st.Name, Target: "stage:" + st.Key, Events: su.Events, Customers: su.Customers,
			Share: percent(q.lang, su.Events, u.Events)}
		if own := u.OwnStage(si); st.Match != nil || own.Events > 0 {
			r := place(row.Target, own, su.Events, st.Match)
			r.Name = st.Name
			row.Own = &r
		}
		for ti, tp := range st.Touchpoints {
			r := place("touchpoint:"+tp.Key, u.Touchpoint(si, ti), su.Events, tp.Match)
			r.Name, r.Channel, r.Expected = tp.Name, tp.Channel, tp.Expected
			row.Touchpoints = append(row.Touchpoints, r)
		}
		d.Stages = append(d.Stages, row)
	}
	for _, g := range u.Unmatched {
		d.Unmatch = append(d.Unmatch, unmatchedRow{Type: g.Type, Name: g.Name, Source: sourceName(sources, g.SourceID),
			Events: g.Events, Customers: g.Customers, Share: percent(q.lang, g.Events, u.Events), Sample: sample(g.Sample),
			EventsLink: withQuery("/events", eventFilter{Source: g.SourceID, Type: g.Type, Event: g.Name}.query())})
	}
}

func sourceName(names map[string]string, id string) string {
	if n := names[id]; n != "" {
		return n
	}
	return id
}

// percent is part of whole as a percentage with one decimal, written the
// way lang writes decimals ("12,5%" in Vietnamese); "—" when whole is 0.
func percent(lang string, part, whole int64) string {
	if whole == 0 {
		return "—"
	}
	s := strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64)
	return strings.Replace(s, ".", i18n.T(lang, "fmt.decimal"), 1) + "%"
}

// describeMatcher is describeRule with the matcher's precedence, if set.
func describeMatcher(lang string, m *journeymap.Matcher) string {
	s := describeRule(lang, m.Rule)
	if m.Precedence != 0 {
		s += " · " + i18n.T(lang, "matchers.rule_precedence", m.Precedence)
	}
	return s
}

// describeRule writes a rule on one line, for people: "event = Order
// Completed · source: Shopee Mall · properties.total ≥ 100000".
func describeRule(lang string, r journeymap.Rule) string {
	var parts []string
	add := func(key string, args ...any) { parts = append(parts, i18n.T(lang, key, args...)) }
	if r.Type != "" {
		add("matchers.rule_type", r.Type)
	}
	if r.Event != "" {
		add("matchers.rule_event", r.Event)
	}
	if r.Path != "" {
		add("matchers.rule_path", r.Path)
	}
	if r.Source != "" {
		add("matchers.rule_source", r.Source)
	}
	if r.Channel != "" {
		add("matchers.rule_channel", i18n.T(lang, "channel."+r.Channel))
	}
	for _, c := range r.Where {
		parts = append(parts, describeCondition(lang, c))
	}
	sub := func(rs []journeymap.Rule, sep string) string {
		out := make([]string, len(rs))
		for i, x := range rs {
			out[i] = describeRule(lang, x)
		}
		return strings.Join(out, sep)
	}
	if len(r.All) > 0 {
		add("matchers.rule_all", sub(r.All, "; "))
	}
	if len(r.Any) > 0 {
		add("matchers.rule_any", sub(r.Any, " | "))
	}
	if len(parts) == 0 {
		return i18n.T(lang, "matchers.rule_everything")
	}
	return strings.Join(parts, " · ")
}

// conditionOps are the symbols of the operators that read as symbols.
var conditionOps = map[journeymap.Op]string{
	journeymap.OpEq: "=", journeymap.OpNe: "≠", journeymap.OpGt: ">", journeymap.OpGte: "≥", journeymap.OpLt: "<", journeymap.OpLte: "≤",
}

func describeCondition(lang string, c journeymap.Condition) string {
	if sym, ok := conditionOps[c.Op]; ok {
		return c.Field + " " + sym + " " + c.Value
	}
	switch c.Op {
	case journeymap.OpIn:
		return i18n.T(lang, "matchers.op_in", c.Field, strings.Join(c.Values, ", "))
	case journeymap.OpNotIn:
		return i18n.T(lang, "matchers.op_not_in", c.Field, strings.Join(c.Values, ", "))
	case journeymap.OpContains:
		return i18n.T(lang, "matchers.op_contains", c.Field, c.Value)
	case journeymap.OpRegex:
		return i18n.T(lang, "matchers.op_regex", c.Field, c.Value)
	case journeymap.OpExists:
		return i18n.T(lang, "matchers.op_exists", c.Field)
	case journeymap.OpNotExists:
		return i18n.T(lang, "matchers.op_not_exists", c.Field)
	}
	return fmt.Sprintf("%s %s %s", c.Field, c.Op, c.Value)
}

// usageCache keeps the usage of recent page views for a minute, so that
// reloading the page does not scan the events again. A new version of the
// map, another period or a new day is another key.
var usageCache = &usages{m: map[usageKey]cachedUsage{}}

const (
	usageTTL     = time.Minute
	usageEntries = 64
)

type usageKey struct {
	ws, id   string
	version  int
	from, to int64
}

type cachedUsage struct {
	u  *analytics.Usage
	at time.Time
}

type usages struct {
	mu sync.Mutex
	m  map[usageKey]cachedUsage
}

func (c *usages) get(k usageKey, now time.Time) (*analytics.Usage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) >= usageTTL || now.Before(e.at) {
		return nil, false
	}
	return e.u, true
}

func (c *usages) put(k usageKey, u *analytics.Usage, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= usageEntries {
		for k, e := range c.m {
			if now.Sub(e.at) >= usageTTL || now.Before(e.at) {
				delete(c.m, k)
			}
		}
	}
	for k := range c.m {
		if len(c.m) < usageEntries {
			break
		}
		delete(c.m, k)
	}
	c.m[k] = cachedUsage{u, now}
}

// mapUsage is what the matchers of map e (compiled as c) claim in [from, to),
// kept for a minute per map version and period.
func (s *server) mapUsage(q *req, e journeymap.Entry, c *journeymap.Classifier, from, to time.Time) (*analytics.Usage, error) {
	now := s.now()
	key := usageKey{ws: q.ws.ID, id: e.ID, version: e.Version, from: from.Unix(), to: to.Unix()}
	if u, ok := usageCache.get(key, now); ok {
		return u, nil
	}
	u, err := analytics.MatcherUsage(q.ctx, s.events, c, q.ws.ID, from, to)
	if err != nil {
		return nil, err
	}
	usageCache.put(key, u, now)
	return u, nil
}

// partUsage is what one stage or touchpoint claimed in the last 30 days,
// for its page: touchpoint j of stage i, or with j = -1 what the stage's own
// matcher claimed, with j = -2 everything placed on stage i. It is nil when
// the map's matchers do not compile.
func (s *server) partUsage(q *req, e journeymap.Entry, stage, touchpoint int) (*analytics.PlaceUsage, error) {
	c, err := s.book().Classifier(q.ctx, q.ws.ID, e.Map)
	if err != nil {
		return nil, nil //nolint:nilerr // an invalid matcher is shown by the editor, not here
	}
	now := s.now().In(q.loc)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, q.loc)
	u, err := s.mapUsage(q, e, c, to.AddDate(0, 0, -defaultMatcherDays), to)
	if err != nil {
		return nil, err
	}
	var p analytics.PlaceUsage
	switch {
	case touchpoint >= 0:
		p = u.Touchpoint(stage, touchpoint)
	case touchpoint == -1:
		p = u.OwnStage(stage)
	default:
		p = u.Stage(stage)
	}
	return &p, nil
}

// mapMeasures computes the measured text of each stage and touchpoint of
// map e over the last 30 days: the customers placed there and, for a
// touchpoint, their share of the stage's customers. It is empty when the
// matchers do not compile or the workspace has no events.
func (s *server) mapMeasures(q *req, e journeymap.Entry) (map[string]string, error) {
	out := map[string]string{}
	c, err := s.book().Classifier(q.ctx, q.ws.ID, e.Map)
	if err != nil {
		return out, nil //nolint:nilerr // an invalid matcher measures nothing; the editor shows why
	}
	now := s.now().In(q.loc)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, q.loc)
	u, err := s.mapUsage(q, e, c, to.AddDate(0, 0, -defaultMatcherDays), to)
	if err != nil {
		return nil, err
	}
	lang := e.Map.Lang
	if q.lang != "" {
		lang = q.lang
	}
	for si, st := range e.Map.Stages {
		su := u.Stage(si)
		out[st.Key] = i18n.N(lang, "measure.stage", su.Customers, i18n.Number(lang, su.Customers))
		for ti, tp := range st.Touchpoints {
			tu := u.Touchpoint(si, ti)
			if tp.Match == nil {
				continue
			}
			out[tp.Key] = i18n.N(lang, "measure.touchpoint", tu.Customers, i18n.Number(lang, tu.Customers), percent(lang, tu.Customers, su.Customers))
		}
	}
	return out, nil
}

// mapMeasuresJSON serves mapMeasures to the map page, which fills its
// "Measured" row after it has loaded.
func (s *server) mapMeasuresJSON(q *req) error {
	e, err := s.book().Get(q.ctx, q.ws.ID, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := s.mapMeasures(q, e)
	if err != nil {
		return err
	}
	return writeJSON(q, http.StatusOK, m)
}
