package web

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/opstore"
)

// The filter every analysis page shares: the events of one source or of
// one channel's sources, the people of a persona, the people who did
// something (a segment), and only the events with a field's value. It is
// part of each page's GET form (the same query parameters on every page,
// so a funnel's filter comes along to its people and its paths), is read
// by parseFilter, drawn by the "analytics-filter" partial
// (templates/layout/analytics_filter.html) with the active filters as
// chips above the results, and applied by filteredView before the
// analysis runs.

// The filter's query parameters, in the order the page shows them, and
// the names of their chips.
var (
	filterParams = []string{"src", "channel", "persona", "segment", "where"}
	filterChips  = map[string]string{"src": "filter.chip_src", "channel": "filter.chip_channel", "persona": "filter.chip_persona",
		"segment": "filter.chip_segment", "where": "filter.chip_where"}
)

// maxFilterText is the longest persona or FIELD=VALUE accepted.
const maxFilterText = 200

// filterForm is the filter as entered.
type filterForm struct {
	Source  string // a source id
	Channel string // website, app, pos, ...: the sources of that channel
	Persona string // traits.persona, the latest value
	Segment string // FIELD=VALUE: the people with at least one such event
	Where   string // FIELD=VALUE: only the events with that value
}

func parseFilterForm(v url.Values) filterForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return filterForm{Source: g("src"), Channel: g("channel"), Persona: g("persona"), Segment: g("segment"), Where: g("where")}
}

// get returns the value of the query parameter k.
func (f filterForm) get(k string) string {
	switch k {
	case "src":
		return f.Source
	case "channel":
		return f.Channel
	case "persona":
		return f.Persona
	case "segment":
		return f.Segment
	case "where":
		return f.Where
	}
	return ""
}

// addTo sets the filter's parameters in v (replacing any there), the
// empty ones left out.
func (f filterForm) addTo(v url.Values) {
	for _, k := range filterParams {
		if val := f.get(k); val != "" {
			v.Set(k, val)
		} else {
			v.Del(k)
		}
	}
}

// Count is how many filters are set.
func (f filterForm) Count() int {
	n := 0
	for _, k := range filterParams {
		if f.get(k) != "" {
			n++
		}
	}
	return n
}

// filterBlock is what the "analytics-filter" partial shows: the form, the
// choices, the page's errors, and the chips of the active filters.
type filterBlock struct {
	Form     filterForm
	F        *form // the page's errors by field
	Sources  []option
	Channels []option
	Personas []option
	Chips    []filterChip
}

// Open reports whether the block starts unfolded: a filter is set, or one
// is wrong.
func (b *filterBlock) Open() bool {
	if b.Form.Count() > 0 {
		return true
	}
	return slices.ContainsFunc(filterParams, func(k string) bool { return b.F.Err(k) != "" })
}

// filterChip is an active filter: what it keeps, and the page without it.
type filterChip struct {
	Label, Value string
	Href         string
}

// parseFilter checks the filter entered against the workspace's sources,
// and returns the analytics.Filter it asks for, the block that shows it
// (its errors in F) and the errors by field (the query parameters' names).
// path and base are the page and its query string, for the chips.
func (s *server) parseFilter(q *req, ff filterForm, F *form, path string, base url.Values) (analytics.Filter, *filterBlock, map[string]fieldMsg, error) {
	var flt analytics.Filter
	errs := map[string]fieldMsg{}
	b := &filterBlock{Form: ff, F: F}
	sources, names, err := s.sourceNames(q)
	if err != nil {
		return flt, nil, nil, err
	}
	present := map[opstore.Channel]bool{}
	for _, src := range sources {
		b.Sources = append(b.Sources, option{src.ID, src.Name})
		present[src.Channel] = true
	}
	for _, c := range opstore.Channels {
		if present[c] {
			b.Channels = append(b.Channels, option{string(c), i18n.T(q.lang, "channel."+string(c))})
		}
	}
	if b.Personas, err = s.personaOptions(q); err != nil {
		return flt, nil, nil, err
	}

	if ff.Source != "" {
		if _, ok := names[ff.Source]; !ok {
			errs["src"] = fieldMsg{"filter.err_source", nil}
		}
	}
	if ch := opstore.Channel(ff.Channel); ch != "" && !present[ch] {
		errs["channel"] = fieldMsg{"filter.err_channel", nil}
	}
	if len(errs) == 0 {
		switch {
		case ff.Source != "" && ff.Channel != "":
			for _, src := range sources {
				if src.ID == ff.Source && string(src.Channel) != ff.Channel {
					errs["channel"] = fieldMsg{"filter.err_source_channel", []any{src.Name, i18n.T(q.lang, "channel."+ff.Channel)}}
				}
			}
			flt.Sources = []string{ff.Source}
		case ff.Source != "":
			flt.Sources = []string{ff.Source}
		case ff.Channel != "":
			for _, src := range sources {
				if string(src.Channel) == ff.Channel {
					flt.Sources = append(flt.Sources, src.ID)
				}
			}
		}
	}
	if len(ff.Persona) > maxFilterText {
		errs["persona"] = fieldMsg{"filter.err_long", []any{maxFilterText}}
	}
	flt.Persona = ff.Persona
	if fe, m, ok := parseFieldEquals(ff.Segment); !ok {
		errs["segment"] = m
	} else if ff.Segment != "" {
		flt.HasEvent = &fe
	}
	if fe, m, ok := parseFieldEquals(ff.Where); !ok {
		errs["where"] = m
	} else if ff.Where != "" {
		flt.Where = []analytics.FieldEquals{fe}
	}

	for _, k := range filterParams {
		val := ff.get(k)
		if val == "" {
			continue
		}
		shown := val
		switch k {
		case "src":
			shown = names[val]
		case "channel":
			shown = i18n.T(q.lang, "channel."+val)
		}
		without := url.Values{}
		for key, vals := range base {
			without[key] = slices.Clone(vals)
		}
		without.Del(k)
		href := path
		if len(without) > 0 {
			href += "?" + without.Encode()
		}
		b.Chips = append(b.Chips, filterChip{Label: i18n.T(q.lang, filterChips[k]), Value: cmp.Or(shown, val), Href: href})
	}
	return flt, b, errs, nil
}

// parseFieldEquals reads a FIELD=VALUE filter ("" is none); when it is
// wrong, the error says so.
func parseFieldEquals(s string) (analytics.FieldEquals, fieldMsg, bool) {
	if s == "" {
		return analytics.FieldEquals{}, fieldMsg{}, true
	}
	if len(s) > maxFilterText {
		return analytics.FieldEquals{}, fieldMsg{"filter.err_long", []any{maxFilterText}}, false
	}
	fe, err := analytics.ParseFieldEquals(s)
	if err != nil || fe.Value == "" || strings.ContainsAny(fe.Field, " \t") {
		return analytics.FieldEquals{}, fieldMsg{"filter.err_field_equals", []any{s}}, false
	}
	return fe, fieldMsg{}, true
}

// personaOptions are the suggestions of the persona field: the personas of
// the workspace's journey maps (their segments, else their names).
func (s *server) personaOptions(q *req) ([]option, error) {
	maps, err := s.book().List(q.ctx, q.ws.ID)
	if err != nil {
		return nil, err
	}
	var out []option
	for _, e := range maps {
		for _, o := range livePersonas(e.Map) {
			if !slices.ContainsFunc(out, func(x option) bool { return x.Value == o.Value }) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// filteredView is the workspace's events as they are now in ix, narrowed
// by the filter: what every analysis page computes on.
func filteredView(q *req, ix *analytics.Indexes, f analytics.Filter) (*analytics.View, error) {
	v, err := ix.View(q.ctx, q.ws.ID)
	if err != nil {
		return nil, err
	}
	return v.Filter(q.ctx, f)
}

// mergeErrs adds the errors of from to errs, keeping those already there.
func mergeErrs(errs, from map[string]fieldMsg) {
	for k, m := range from {
		if _, ok := errs[k]; !ok {
			errs[k] = m
		}
	}
}
