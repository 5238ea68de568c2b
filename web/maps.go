package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cjmhq/cjm/analytics"
	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/journeymap/draw"
	"github.com/cjmhq/cjm/opstore"
)

// The journey map pages: the list, a new map from a template, the map
// itself (grid and table views, inline editing), a part's page (evidence,
// comments, matcher), versions and diffs, sharing and the activity log.

func (s *server) mapRoutes() {
	s.route("GET /journeys", member, "", s.mapsPage)
	s.route("GET /journeys/new", member, opstore.Editor, s.newMapPage)
	s.route("POST /journeys", member, opstore.Editor, s.createMap)
	s.uploadRoute("POST /journeys/import", opstore.Editor, s.importMap)
	s.route("GET /journeys/{id}", member, "", s.mapPage)
	s.route("POST /journeys/{id}/edit", member, opstore.Editor, s.editMap)
	s.route("POST /journeys/{id}/duplicate", member, opstore.Editor, s.duplicateMap)
	s.route("POST /journeys/{id}/delete", member, opstore.Editor, s.deleteMap)
	s.route("GET /journeys/{id}/about", member, "", s.mapAboutPage)
	s.route("POST /journeys/{id}/about", member, opstore.Editor, s.saveMapAbout)
	s.route("GET /journeys/{id}/part/{target}", member, "", s.mapPartPage)
	s.route("POST /journeys/{id}/part/{target}/match", member, opstore.Editor, s.saveMatcher)
	s.route("POST /journeys/{id}/part/{target}/services", member, opstore.Editor, s.saveServices)
	s.route("POST /journeys/{id}/evidence", member, opstore.Editor, s.addEvidence)
	s.route("POST /journeys/{id}/comments", member, "", s.addComment)
	s.route("POST /journeys/{id}/comments/{cid}/resolve", member, "", s.resolveComment)
	s.route("GET /journeys/{id}/versions", member, "", s.mapVersionsPage)
	s.route("GET /journeys/{id}/versions/{v}", member, "", s.mapVersionPage)
	s.route("POST /journeys/{id}/versions/{v}/restore", member, opstore.Editor, s.restoreMap)
	s.route("GET /journeys/{id}/compare", member, "", s.compareMapPage)
	s.route("GET /journeys/{id}/share", member, "", s.mapSharePage)
	s.route("POST /journeys/{id}/share", member, opstore.Editor, s.createShare)
	s.route("POST /journeys/{id}/share/{sid}/revoke", member, opstore.Editor, s.revokeShare)
	s.route("GET /journeys/{id}/export/{format}", member, "", s.exportMap)
	s.route("GET /journeys/{id}/matchers", member, "", s.mapMatchersPage)
	s.route("GET /journeys/{id}/measures", member, "", s.liveMeasuresJSON)
	s.route("GET /journeys/{id}/live", member, "", s.liveMapPage)
	s.route("GET /share/{token}", public, "", s.sharedMapPage)
	s.route("GET /share/{token}/export/{format}", public, "", s.sharedMapExport)
}

func (s *server) book() *journeymap.Book { return journeymap.NewBook(s.ops) }

func (q *req) change(action string) opstore.MapChange {
	name := q.user.Name
	if name == "" {
		name = q.user.Email
	}
	return opstore.MapChange{AuthorID: q.user.ID, AuthorName: name, Action: action}
}

// mapsPage lists the workspace's maps.
func (s *server) mapsPage(q *req) error {
	list, err := s.book().List(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	mentions, err := s.ops.MentionsOf(q.ctx, q.ws.ID, q.user.ID, 10)
	if err != nil {
		return err
	}
	s.render(q, 200, "maps", q.page("maps.title", "nav.journeys", mapsData{Maps: list, Mentions: mentions}))
	return nil
}

// mapsData is the list of maps, with the errors of a failed import.
type mapsData struct {
	Maps       []journeymap.Entry
	Mentions   []opstore.MapComment // comments that mention the user
	ImportFile string
	Errors     journeymap.Errors
}

type newMapData struct {
	Templates []journeymap.TemplateInfo
	Form      *form
	Maps      []journeymap.Entry
}

func (s *server) newMapPage(q *req) error {
	return s.renderNewMap(q, 200, newForm(q.r.URL.Query()))
}

func (s *server) renderNewMap(q *req, status int, f *form) error {
	if f.Get("lang") == "" {
		f.Values.Set("lang", q.lang)
	}
	if f.Get("template") == "" {
		f.Values.Set("template", "retail")
	}
	list, err := s.book().List(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	s.render(q, status, "map_new", q.page("maps.new_title", "nav.journeys", newMapData{journeymap.Templates, f, list}))
	return nil
}

// createMap starts a map from a template or as a copy of another.
func (s *server) createMap(q *req) error {
	f := newForm(q.r.PostForm)
	var m *journeymap.Map
	if from := f.Get("from"); from != "" {
		e, err := s.book().Get(q.ctx, q.ws.ID, from)
		if err != nil {
			f.Fail("from", "maps.err_from")
		} else {
			m = e.Map.Clone()
		}
	} else {
		var err error
		if m, err = journeymap.FromTemplate(f.Get("template"), f.Get("lang")); err != nil {
			f.Fail("template", "maps.err_template")
		}
	}
	name := f.Get("name")
	if name == "" {
		f.Fail("name", "maps.err_name")
	}
	if !f.OK() {
		return s.renderNewMap(q, 422, f)
	}
	m.Name = name
	action := "created"
	if f.Get("from") != "" {
		action = "duplicated"
	}
	e, err := s.book().Create(q.ctx, q.ws.ID, m, q.change(action))
	if errors.Is(err, opstore.ErrConflict) {
		f.Fail("name", "maps.err_name_taken")
		return s.renderNewMap(q, 409, f)
	}
	if err != nil {
		return err
	}
	return q.redirect("/journeys/"+e.ID, "flash.maps_created")
}

// importMap stores an uploaded YAML map as a new map or a new version.
func (s *server) importMap(q *req) error {
	if q.file == nil {
		return q.redirect("/journeys", "flash.maps_import_nofile")
	}
	data, err := io.ReadAll(io.LimitReader(q.file, 4<<20))
	if err != nil {
		return err
	}
	e, _, err := s.book().Import(q.ctx, q.ws.ID, data, q.change("imported"))
	var errs journeymap.Errors
	if errors.As(err, &errs) {
		list, lerr := s.book().List(q.ctx, q.ws.ID)
		if lerr != nil {
			return lerr
		}
		s.render(q, 422, "maps", q.page("maps.title", "nav.journeys", mapsData{Maps: list, ImportFile: q.file.FileName(), Errors: errs}))
		return nil
	}
	if err != nil {
		return err
	}
	return q.redirect("/journeys/"+e.ID, "flash.maps_imported")
}

// mapData is what the map page and the shared page draw.
type mapData struct {
	journeymap.Entry
	Edit     bool   // the viewer may edit
	Shared   bool   // seen through a share link
	Token    string // the share token, on a shared page
	View     string // grid or table
	Comments map[string]int
	Open     []opstore.MapComment // open comments on the map as a whole
	Lanes    []laneRow
	Curve    curve
	Coverage map[string]journeymap.Coverage
	Total    journeymap.Coverage
	Icons    map[journeymap.Channel]string
	Members  []opstore.Member
	Compare  *journeymap.Entry
}

type laneRow struct {
	Key  string // lane key, "touchpoints" or "emotion"
	Show bool
}

// Grid geometry shared by the template and the emotion curve.
const (
	colWidth = 264
	curveH   = 150
)

func (s *server) loadMap(q *req) (journeymap.Entry, error) {
	return s.book().Get(q.ctx, q.ws.ID, q.r.PathValue("id"))
}

func (s *server) mapView(q *req, e journeymap.Entry, shared bool) (*mapData, error) {
	d := &mapData{Entry: e, Shared: shared, View: q.r.URL.Query().Get("view"), Icons: map[journeymap.Channel]string{}}
	if d.View != "table" {
		d.View = "grid"
	}
	for _, c := range journeymap.Channels {
		d.Icons[c] = draw.IconPath(c)
	}
	d.Coverage, d.Total = journeymap.EvidenceCoverage(e.Map)
	d.Curve = emotionCurve(e.Map)
	for _, k := range journeymap.LaneKeys {
		show := !shared
		for _, st := range e.Map.Stages {
			if len(*st.Lanes.Cards(k)) > 0 {
				show = true
			}
		}
		d.Lanes = append(d.Lanes, laneRow{Key: k, Show: show})
	}
	if !shared {
		cs, err := s.ops.MapComments(q.ctx, q.ws.ID, e.ID)
		if err != nil {
			return nil, err
		}
		d.Comments = map[string]int{}
		for _, c := range cs {
			if c.ResolvedAt.IsZero() {
				_, key, _ := strings.Cut(c.Target, ":")
				d.Comments[key]++
				if c.Target == "" {
					d.Open = append(d.Open, c)
				}
			}
		}
		d.Edit = q.role.Can(opstore.Editor)
	}
	return d, nil
}

func (s *server) mapPage(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	d, err := s.mapView(q, e, false)
	if err != nil {
		return err
	}
	if d.Members, err = s.ops.Members(q.ctx, q.ws.ID); err != nil {
		return err
	}
	s.render(q, 200, "map", q.page("map.title", "nav.journeys", d).withTitleArgs(e.Name))
	return nil
}

// editRequest is the body the map editor posts.
type editRequest struct {
	Base  int               `json:"base"`
	Edits []journeymap.Edit `json:"edits"`
}

// editMap applies edits from the map page: JSON from the inline editor
// (answered with JSON), or a plain form (answered with a redirect back).
func (s *server) editMap(q *req) error {
	id := q.r.PathValue("id")
	var body editRequest
	isJSON := strings.HasPrefix(q.r.Header.Get("Content-Type"), "application/json")
	if isJSON {
		if err := json.NewDecoder(q.r.Body).Decode(&body); err != nil {
			return writeJSON(q, 400, map[string]string{"error": i18n.T(q.lang, "map.err_body")})
		}
	} else {
		f := newForm(q.r.PostForm)
		body.Base, _ = strconv.Atoi(f.Get("base"))
		idx, err := strconv.Atoi(f.Get("index"))
		if err != nil {
			idx = -1
		}
		// A form's value is text, unless the form says it wrote JSON.
		value := f.Values.Get("value")
		if f.Get("json") != "1" {
			b, _ := json.Marshal(strings.TrimSpace(value))
			value = string(b)
		} else if !json.Valid([]byte(value)) {
			return q.redirect(localPathOr(f.Get("next"), "/journeys/"+id), "flash.map_err_edit")
		}
		body.Edits = []journeymap.Edit{{Op: f.Get("op"), Target: f.Get("target"), Field: f.Get("field"), Lane: f.Get("lane"),
			Stage: f.Get("stage"), Index: idx, Value: json.RawMessage(value)}}
	}
	e, err := s.book().Edit(q.ctx, q.ws.ID, id, body.Base, body.Edits, q.change("saved"))
	msg := ""
	var ee *journeymap.EditError
	var errs journeymap.Errors
	switch {
	case errors.Is(err, opstore.ErrStale):
		msg = i18n.T(q.lang, "map.err_stale")
	case errors.As(err, &ee):
		msg = ee.Msg
	case errors.As(err, &errs):
		msg = errs.Error()
	case errors.Is(err, opstore.ErrConflict):
		msg = i18n.T(q.lang, "maps.err_name_taken")
	case err != nil:
		return err
	}
	if isJSON {
		if msg != "" {
			return writeJSON(q, 409, map[string]string{"error": msg})
		}
		return writeJSON(q, 200, map[string]int{"version": e.Version})
	}
	back := localPath(q.r.PostForm.Get("next"))
	if back == "/" {
		back = "/journeys/" + id
	}
	if msg != "" {
		s.log.Info("web: a map edit was refused", "map", id, "reason", msg)
		return q.redirect(back, "flash.map_err_edit")
	}
	return q.redirect(back, "flash.map_saved")
}

func writeJSON(q *req, status int, v any) error {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Cache-Control", "no-store")
	q.w.WriteHeader(status)
	return json.NewEncoder(q.w).Encode(v)
}

func (s *server) duplicateMap(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	name := i18n.T(q.lang, "maps.copy_name", e.Name)
	for n := 2; ; n++ {
		c, err := s.book().Duplicate(q.ctx, q.ws.ID, e.ID, name, q.change("duplicated"))
		if errors.Is(err, opstore.ErrConflict) && n < 50 {
			name = i18n.T(q.lang, "maps.copy_name", e.Name) + " " + strconv.Itoa(n)
			continue
		}
		if err != nil {
			return err
		}
		return q.redirect("/journeys/"+c.ID, "flash.maps_duplicated")
	}
}

func (s *server) deleteMap(q *req) error {
	if err := s.ops.DeleteMap(q.ctx, q.ws.ID, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.redirect("/journeys", "flash.maps_deleted")
}

// aboutData is the form of a map's goal, persona and settings.
type aboutData struct {
	journeymap.Entry
	Form *form
	Maps []journeymap.Entry // current maps a future map can be compared with
}

func personaForm(prefix string, p *journeymap.Persona, f *form) {
	if p == nil {
		return
	}
	set := func(k, v string) { f.Values.Set(prefix+k, v) }
	set("name", p.Name)
	set("avatar", p.Avatar)
	set("age", p.Age)
	set("gender", p.Gender)
	set("location", p.Location)
	set("occupation", p.Occupation)
	set("income", p.Income)
	set("psychographics", p.Psychographics)
	set("goals", strings.Join(p.Goals, "\n"))
	set("frustrations", strings.Join(p.Frustrations, "\n"))
	set("quote", p.Quote)
	set("research", p.Research)
	set("segment", p.Segment)
	for _, c := range p.Channels {
		f.Values.Add(prefix+"channels", string(c))
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func personaFrom(prefix string, f *form, old *journeymap.Persona) *journeymap.Persona {
	if f.Get(prefix+"name") == "" {
		return nil
	}
	p := &journeymap.Persona{
		Name: f.Get(prefix + "name"), Avatar: f.Get(prefix + "avatar"), Age: f.Get(prefix + "age"), Gender: f.Get(prefix + "gender"),
		Location: f.Get(prefix + "location"), Occupation: f.Get(prefix + "occupation"), Income: f.Get(prefix + "income"),
		Psychographics: f.Get(prefix + "psychographics"), Goals: lines(f.Get(prefix + "goals")), Frustrations: lines(f.Get(prefix + "frustrations")),
		Quote: f.Get(prefix + "quote"), Research: f.Get(prefix + "research"), Segment: f.Get(prefix + "segment"),
	}
	for _, c := range f.Values[prefix+"channels"] {
		p.Channels = append(p.Channels, journeymap.Channel(c))
	}
	if old != nil {
		p.Evidence = old.Evidence
	}
	return p
}

func (s *server) mapAboutPage(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	f := newForm(nil)
	m := e.Map
	for k, v := range map[string]string{"name": m.Name, "state": string(m.State), "compare_to": m.CompareTo, "why": m.Goal.Why,
		"achieve": m.Goal.Achieve, "audience": m.Goal.Audience, "departments": strings.Join(m.Departments, "\n")} {
		f.Values.Set(k, v)
	}
	personaForm("p_", m.Persona, f)
	personaForm("c_", m.ComparePersona, f)
	return s.renderAbout(q, 200, e, f)
}

func (s *server) renderAbout(q *req, status int, e journeymap.Entry, f *form) error {
	list, err := s.book().List(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(o journeymap.Entry) bool { return o.ID == e.ID || o.Map.State != journeymap.Current })
	s.render(q, status, "map_about", q.page("about.title", "nav.journeys", aboutData{e, f, list}).withTitleArgs(e.Name))
	return nil
}

func (s *server) saveMapAbout(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	f := newForm(q.r.PostForm)
	m := e.Map
	m.Name = f.Get("name")
	m.State = journeymap.State(f.Get("state"))
	m.CompareTo = ""
	if m.State == journeymap.Future {
		m.CompareTo = f.Get("compare_to")
	}
	m.Goal = journeymap.Goal{Why: f.Get("why"), Achieve: f.Get("achieve"), Audience: f.Get("audience")}
	m.Departments = lines(f.Get("departments"))
	m.Persona = personaFrom("p_", f, m.Persona)
	m.ComparePersona = personaFrom("c_", f, m.ComparePersona)
	base, _ := strconv.Atoi(f.Get("base"))
	_, err = s.book().Save(q.ctx, q.ws.ID, e.ID, base, m, q.change("saved"))
	var errs journeymap.Errors
	switch {
	case errors.As(err, &errs):
		for _, fe := range errs {
			f.Errs[formField(fe.Field)] = fe.Message
		}
		return s.renderAbout(q, 422, e, f)
	case errors.Is(err, opstore.ErrConflict):
		f.Fail("name", "maps.err_name_taken")
		return s.renderAbout(q, 409, e, f)
	case errors.Is(err, opstore.ErrStale):
		f.Fail("name", "map.err_stale")
		return s.renderAbout(q, 409, e, f)
	case err != nil:
		return err
	}
	return q.redirect("/journeys/"+e.ID, "flash.map_saved")
}

// formField maps a document field path to the about form's field name.
func formField(path string) string {
	r := strings.NewReplacer("compare_persona.", "c_", "persona.", "p_", "goal.", "")
	f := r.Replace(path)
	if i := strings.IndexByte(f, '['); i >= 0 {
		f = f[:i]
	}
	return f
}

// partData is the page of one stage, touchpoint or card.
type partData struct {
	Entry    journeymap.Entry
	Target   string
	Kind     string // stage, touchpoint, card
	Stage    *journeymap.Stage
	Touch    *journeymap.Touchpoint
	Card     *journeymap.Card
	Lane     string
	Lanes    *journeymap.Lanes
	Evidence []evidenceList
	Match    string // the matcher as YAML
	MatchErr string
	Usage    *analytics.PlaceUsage // what the part claimed in the last 30 days
	Comments []opstore.MapComment
	Members  []opstore.Member
	Edit     bool
	Form     *form
}

type evidenceList struct {
	Target string // edit target of the list
	Label  string // catalog key
	Items  []journeymap.Evidence
}

func (s *server) mapPartPage(q *req) error {
	return s.renderPart(q, 200, "", "")
}

func (s *server) renderPart(q *req, status int, matchText, matchErr string) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	target := q.r.PathValue("target")
	d := partData{Entry: e, Target: target, Edit: q.role.Can(opstore.Editor), Form: newForm(nil), MatchErr: matchErr}
	kind, key, _ := strings.Cut(target, ":")
	d.Kind = kind
	var match *journeymap.Matcher
	switch kind {
	case "stage":
		if d.Stage = e.Map.Stage(key); d.Stage == nil {
			return errNotFound
		}
		d.Lanes, match = &d.Stage.Lanes, d.Stage.Match
	case "touchpoint":
		var si int
		if d.Touch, si = e.Map.Touchpoint(key); d.Touch == nil {
			return errNotFound
		}
		d.Stage = &e.Map.Stages[si]
		d.Lanes, match = &d.Touch.Lanes, d.Touch.Match
	case "card":
		found := false
		for si := range e.Map.Stages {
			st := &e.Map.Stages[si]
			look := func(l *journeymap.Lanes) {
				for _, lk := range journeymap.LaneKeys {
					for ci := range *l.Cards(lk) {
						if c := &(*l.Cards(lk))[ci]; c.ID == key {
							d.Card, d.Lane, d.Stage, found = c, lk, st, true
						}
					}
				}
			}
			look(&st.Lanes)
			for ti := range st.Touchpoints {
				before := found
				if look(&st.Touchpoints[ti].Lanes); !before && found {
					d.Touch = &st.Touchpoints[ti]
				}
			}
		}
		if !found {
			return errNotFound
		}
		d.Evidence = []evidenceList{{target, "part.evidence", d.Card.Evidence}}
	default:
		return errNotFound
	}
	if d.Lanes != nil {
		d.Evidence = append(d.Evidence, evidenceList{target, "part.evidence", d.Lanes.Evidence})
		if d.Lanes.Emotion != nil {
			d.Evidence = append(d.Evidence, evidenceList{target + "/emotion", "part.emotion_evidence", d.Lanes.Emotion.Evidence})
		}
		if matchText != "" {
			d.Match = matchText
		} else if match != nil {
			y, err := journeymap.MarshalMatcher(match)
			if err != nil {
				return err
			}
			d.Match = string(y)
		}
	}
	if d.Stage != nil && d.Card == nil {
		si := slices.IndexFunc(e.Map.Stages, func(st journeymap.Stage) bool { return st.Key == d.Stage.Key })
		ti := -2 // a stage's page counts everything placed on the stage
		if d.Touch != nil {
			ti = slices.IndexFunc(d.Stage.Touchpoints, func(t journeymap.Touchpoint) bool { return t.Key == d.Touch.Key })
		}
		if d.Usage, err = s.partUsage(q, e, si, ti); err != nil {
			return err
		}
	}
	cs, err := s.ops.MapComments(q.ctx, q.ws.ID, e.ID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Target == target {
			d.Comments = append(d.Comments, c)
		}
	}
	if d.Members, err = s.ops.Members(q.ctx, q.ws.ID); err != nil {
		return err
	}
	s.render(q, status, "map_part", q.page("part.title", "nav.journeys", d).withTitleArgs(e.Name))
	return nil
}

// saveMatcher stores the matcher of a stage or touchpoint, written as YAML.
func (s *server) saveMatcher(q *req) error {
	id, target := q.r.PathValue("id"), q.r.PathValue("target")
	text := q.r.PostForm.Get("match")
	var value []byte
	if strings.TrimSpace(text) == "" {
		value = []byte("null")
	} else {
		m, err := journeymap.ParseMatcher([]byte(text))
		if err != nil {
			return s.renderPart(q, 422, text, err.Error())
		}
		value, _ = json.Marshal(m)
	}
	base, _ := strconv.Atoi(q.r.PostForm.Get("base"))
	_, err := s.book().Edit(q.ctx, q.ws.ID, id, base, []journeymap.Edit{{Op: "set", Target: target, Field: "match", Value: value}}, q.change("saved"))
	var errs journeymap.Errors
	switch {
	case errors.As(err, &errs):
		return s.renderPart(q, 422, text, errs.Error())
	case errors.Is(err, opstore.ErrStale):
		return s.renderPart(q, 409, text, i18n.T(q.lang, "map.err_stale"))
	case err != nil:
		return err
	}
	return q.redirect("/journeys/"+id+"/part/"+target, "flash.part_match_saved")
}

var mentionRE = regexp.MustCompile(`@([\p{L}\p{N}._+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)`)

// mentions finds the members a comment mentions by @name or @e-mail.
func mentions(body string, members []opstore.Member) []string {
	var ids []string
	for _, m := range mentionRE.FindAllStringSubmatch(body, -1) {
		word := strings.ToLower(strings.TrimRight(m[1], "._-"))
		for _, mb := range members {
			u := mb.User
			// A member is @e-mail, @the part before the @, @given name (the
			// last word of a Vietnamese name) or @full name without spaces.
			names := strings.Fields(strings.ToLower(u.Name))
			given, whole := "", strings.Join(names, "")
			if len(names) > 0 {
				given = names[len(names)-1]
			}
			local, _, _ := strings.Cut(strings.ToLower(u.Email), "@")
			if word == strings.ToLower(u.Email) || word == local || (given != "" && word == given) || (whole != "" && word == whole) {
				if !slices.Contains(ids, u.ID) {
					ids = append(ids, u.ID)
				}
			}
		}
	}
	return ids
}

func (s *server) addComment(q *req) error {
	id := q.r.PathValue("id")
	if _, err := s.loadMap(q); err != nil {
		return err
	}
	f := newForm(q.r.PostForm)
	// A comment is on a part (stage:KEY, touchpoint:KEY, card:ID) or, with
	// no target, on the map as a whole.
	target, body := f.Get("target"), f.Get("body")
	back := "/journeys/" + id
	if target != "" {
		back += "/part/" + target
	}
	if body == "" {
		return q.redirect(back, "flash.comments_empty")
	}
	members, err := s.ops.Members(q.ctx, q.ws.ID)
	if err != nil {
		return err
	}
	ch := q.change("commented")
	if _, err := s.ops.AddMapComment(q.ctx, q.ws.ID, opstore.MapComment{MapID: id, Target: target, AuthorID: ch.AuthorID, AuthorName: ch.AuthorName,
		Body: body, Mentions: mentions(body, members)}); err != nil {
		return err
	}
	return q.redirect(back+"#comments", "flash.comments_added")
}

func (s *server) resolveComment(q *req) error {
	id := q.r.PathValue("id")
	ch := q.change("")
	if err := s.ops.ResolveMapComment(q.ctx, q.ws.ID, id, q.r.PathValue("cid"), ch.AuthorID, ch.AuthorName); err != nil {
		return err
	}
	return q.redirect(localPathOr(q.r.PostForm.Get("next"), "/journeys/"+id), "flash.comments_resolved")
}

func localPathOr(p, def string) string {
	if l := localPath(p); l != "/" {
		return l
	}
	return def
}

type versionsData struct {
	Entry    journeymap.Entry
	Versions []opstore.MapVersion
	Activity []opstore.MapActivity
	Edit     bool
}

func (s *server) mapVersionsPage(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	vs, err := s.ops.MapVersions(q.ctx, q.ws.ID, e.ID)
	if err != nil {
		return err
	}
	acts, err := s.ops.MapActivities(q.ctx, q.ws.ID, e.ID, 200)
	if err != nil {
		return err
	}
	s.render(q, 200, "map_versions", q.page("versions.title", "nav.journeys", versionsData{e, vs, acts, q.role.Can(opstore.Editor)}).withTitleArgs(e.Name))
	return nil
}

type versionData struct {
	Entry       journeymap.Entry
	Version     opstore.MapVersion
	Map         *journeymap.Map
	Against     int // the version compared with
	AgainstName string
	Changes     []journeymap.Change
	Edit        bool
}

func (s *server) mapVersionPage(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(q.r.PathValue("v"))
	if err != nil {
		return errNotFound
	}
	m, ver, err := s.book().Version(q.ctx, q.ws.ID, e.ID, v)
	if err != nil {
		return err
	}
	d := versionData{Entry: e, Version: ver, Map: m, Edit: q.role.Can(opstore.Editor)}
	against := v - 1
	if a, err := strconv.Atoi(q.r.URL.Query().Get("against")); err == nil {
		against = a
	}
	if against >= 1 {
		old, _, err := s.book().Version(q.ctx, q.ws.ID, e.ID, against)
		if err != nil {
			return err
		}
		d.Against, d.Changes = against, journeymap.Diff(old, m)
	}
	s.render(q, 200, "map_version", q.page("version.title", "nav.journeys", d).withTitleArgs(e.Name, v))
	return nil
}

func (s *server) restoreMap(q *req) error {
	id := q.r.PathValue("id")
	v, err := strconv.Atoi(q.r.PathValue("v"))
	if err != nil {
		return errNotFound
	}
	ch := q.change("restored")
	ch.Note = i18n.T(q.lang, "versions.restored_note", v)
	if _, err := s.book().Restore(q.ctx, q.ws.ID, id, v, ch); err != nil {
		return err
	}
	return q.redirect("/journeys/"+id, "flash.versions_restored")
}

// compareMapPage compares a future map with the current map it names.
func (s *server) compareMapPage(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	d := versionData{Entry: e, Map: e.Map, Edit: q.role.Can(opstore.Editor)}
	if e.Map.CompareTo != "" {
		cur, err := s.book().Find(q.ctx, q.ws.ID, e.Map.CompareTo)
		if err != nil && !errors.Is(err, opstore.ErrNotFound) {
			return err
		}
		if err == nil {
			d.AgainstName, d.Changes = cur.Name, journeymap.Diff(cur.Map, e.Map)
		}
	}
	s.render(q, 200, "map_compare", q.page("compare.title", "nav.journeys", d).withTitleArgs(e.Name))
	return nil
}

type shareData struct {
	Entry  journeymap.Entry
	Shares []opstore.MapShare
	URL    string // the link just made; shown once
	Base   string
	Edit   bool
}

func (s *server) mapSharePage(q *req) error {
	return s.renderShare(q, "")
}

func (s *server) renderShare(q *req, url string) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	shares, err := s.ops.MapShares(q.ctx, q.ws.ID, e.ID)
	if err != nil {
		return err
	}
	s.render(q, 200, "map_share", q.page("share.title", "nav.journeys", shareData{e, shares, url, baseURL(q.r), q.role.Can(opstore.Editor)}).withTitleArgs(e.Name))
	return nil
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *server) createShare(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	var expires time.Time
	if days, err := strconv.Atoi(q.r.PostForm.Get("days")); err == nil && days > 0 {
		expires = s.now().AddDate(0, 0, min(days, 3650))
	}
	tok := auth.NewToken()
	if _, err := s.ops.CreateMapShare(q.ctx, q.ws.ID, e.ID, auth.HashToken(tok), tok[:6], q.user.ID, expires); err != nil {
		return err
	}
	return s.renderShare(q, baseURL(q.r)+"/share/"+tok)
}

func (s *server) revokeShare(q *req) error {
	id := q.r.PathValue("id")
	ch := q.change("")
	if err := s.ops.RevokeMapShare(q.ctx, q.ws.ID, id, q.r.PathValue("sid"), ch.AuthorID, ch.AuthorName); err != nil {
		return err
	}
	return q.redirect("/journeys/"+id+"/share", "flash.share_revoked")
}

// sharedMapPage shows a map read-only to anyone with a live share link.
func (s *server) sharedMapPage(q *req) error {
	e, err := s.sharedMap(q)
	if err != nil {
		return err
	}
	d, err := s.mapView(q, e, true)
	if err != nil {
		return err
	}
	d.Token = q.r.PathValue("token")
	q.w.Header().Set("X-Robots-Tag", "noindex")
	p := q.page("map.title", "", d).withTitleArgs(e.Name)
	p.Nav = nil
	s.render(q, 200, "map", p)
	return nil
}

func (s *server) sharedMap(q *req) (journeymap.Entry, error) {
	_, rec, err := s.ops.MapShareByTokenHash(q.ctx, auth.HashToken(q.r.PathValue("token")))
	if err != nil {
		return journeymap.Entry{}, err
	}
	return s.book().Get(q.ctx, rec.WorkspaceID, rec.ID)
}

func (s *server) sharedMapExport(q *req) error {
	e, err := s.sharedMap(q)
	if err != nil {
		return err
	}
	return s.writeExport(q, e)
}

func (s *server) exportMap(q *req) error {
	e, err := s.loadMap(q)
	if err != nil {
		return err
	}
	return s.writeExport(q, e)
}

// writeExport sends the map as YAML, SVG, PNG or PDF.
func (s *server) writeExport(q *req, e journeymap.Entry) error {
	format := q.r.PathValue("format")
	var buf bytes.Buffer
	var err error
	ctype := draw.ContentType(format)
	if format == "yaml" {
		var y []byte
		y, err = journeymap.Marshal(e.Map)
		buf.Write(y)
		ctype = "application/yaml; charset=utf-8"
	} else {
		opts := draw.Options{T: draw.Labels(e.Map.Lang), Generated: i18n.T(e.Map.Lang, "mapdraw.generated", when(e.Map.Lang, q.loc, s.now()))}
		if q.ws.ID == e.WorkspaceID {
			// A member's export shows the measured numbers; a share link's does not.
			if opts.Measures, err = s.mapMeasures(q, e); err != nil {
				return err
			}
		}
		err = draw.Write(&buf, format, e.Map, opts)
		if errors.Is(err, draw.ErrFormat) {
			return errNotFound
		}
	}
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", journeymap.Slug(e.Name, "map")+"."+format))
	h.Set("Cache-Control", "no-store")
	_, err = q.w.Write(buf.Bytes())
	return err
}

// curve is the emotion curve of the grid, in the grid's coordinates.
type curve struct {
	Width, Height int
	Lines         []curveLine
	Levels        []curveLevel
}

type curveLine struct {
	Class  string
	Points string // polyline points
	Marks  []curveMark
}

type curveMark struct {
	X, Y  int
	Score int
	Label string
	Shape template.HTML // an SVG shape for the score: never colour alone
}

type curveLevel struct {
	Y     int
	Score int
}

func curveY(score int) int { return 18 + (2-score)*(curveH-36)/4 }

// shapeFor draws a score's marker: filled circle (+2), circle (+1), diamond
// (0), triangle down (-1), filled triangle down (-2).
func shapeFor(x, y, score int, class string) template.HTML {
	var s string
	switch score {
	case 2:
		s = fmt.Sprintf(`<circle cx="%d" cy="%d" r="7" class="mk mk-fill %s"/>`, x, y, class)
	case 1:
		s = fmt.Sprintf(`<circle cx="%d" cy="%d" r="7" class="mk %s"/>`, x, y, class)
	case 0:
		s = fmt.Sprintf(`<path d="M%d %dl8 8-8 8-8-8z" class="mk %s"/>`, x, y-8, class)
	case -1:
		s = fmt.Sprintf(`<path d="M%d %dh16l-8 14z" class="mk %s"/>`, x-8, y-6, class)
	default:
		s = fmt.Sprintf(`<path d="M%d %dh16l-8 14z" class="mk mk-fill %s"/>`, x-8, y-6, class)
	}
	return template.HTML(s) //nolint:gosec // numbers and fixed class names only
}

func emotionCurve(m *journeymap.Map) curve {
	c := curve{Width: colWidth * len(m.Stages), Height: curveH}
	for sc := 2; sc >= -2; sc-- {
		c.Levels = append(c.Levels, curveLevel{curveY(sc), sc})
	}
	for li, pick := range []func(*journeymap.Stage) *journeymap.Emotion{
		func(s *journeymap.Stage) *journeymap.Emotion { return s.Emotion },
		func(s *journeymap.Stage) *journeymap.Emotion { return s.CompareEmotion },
	} {
		l := curveLine{Class: []string{"curve-main", "curve-compare"}[li]}
		var pts []string
		for i := range m.Stages {
			em := pick(&m.Stages[i])
			if em == nil {
				continue
			}
			x, y := colWidth*i+colWidth/2, curveY(em.Score)
			pts = append(pts, fmt.Sprintf("%d,%d", x, y))
			label := em.Label
			if label == "" {
				label = strings.Replace(fmt.Sprintf("%+d", em.Score), "-", "−", 1)
			}
			l.Marks = append(l.Marks, curveMark{X: x, Y: y, Score: em.Score, Label: label, Shape: shapeFor(x, y, em.Score, l.Class)})
		}
		l.Points = strings.Join(pts, " ")
		if len(l.Marks) > 0 {
			c.Lines = append(c.Lines, l)
		}
	}
	return c
}

// addEvidence attaches a piece of evidence to a card, stage, touchpoint,
// emotion or persona.
func (s *server) addEvidence(q *req) error {
	id := q.r.PathValue("id")
	f := newForm(q.r.PostForm)
	ev := journeymap.Evidence{Kind: journeymap.EvidenceKind(f.Get("kind")), Source: f.Get("source"), Date: f.Get("date"), Note: f.Get("note"), URL: f.Get("url")}
	value, _ := json.Marshal(ev)
	_, err := s.book().Edit(q.ctx, q.ws.ID, id, 0, []journeymap.Edit{{Op: "add", Field: "evidence", Target: f.Get("target"), Value: value}}, q.change("saved"))
	back := localPathOr(f.Get("next"), "/journeys/"+id)
	var errs journeymap.Errors
	var ee *journeymap.EditError
	if errors.As(err, &errs) || errors.As(err, &ee) {
		return q.redirect(back, "flash.part_err_evidence")
	}
	if err != nil {
		return err
	}
	return q.redirect(back, "flash.part_evidence_added")
}

// saveServices sets the services of a touchpoint: the ticked known ones and
// the touchpoint's own words, comma separated.
func (s *server) saveServices(q *req) error {
	id, target := q.r.PathValue("id"), q.r.PathValue("target")
	list := []string{}
	for _, v := range q.r.PostForm["service"] {
		if slices.Contains(journeymap.Services, v) && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	for _, v := range strings.Split(q.r.PostForm.Get("other"), ",") {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	value, _ := json.Marshal(list)
	base, _ := strconv.Atoi(q.r.PostForm.Get("base"))
	back := "/journeys/" + id + "/part/" + target
	_, err := s.book().Edit(q.ctx, q.ws.ID, id, base, []journeymap.Edit{{Op: "set", Target: target, Field: "services", Value: value}}, q.change("saved"))
	var errs journeymap.Errors
	var ee *journeymap.EditError
	switch {
	case errors.As(err, &errs), errors.As(err, &ee):
		return q.redirect(back, "flash.map_err_edit")
	case errors.Is(err, opstore.ErrStale):
		return q.redirect(back, "flash.map_err_stale")
	case err != nil:
		return err
	}
	return q.redirect(back, "flash.map_saved")
}
