package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/opstore"
)

// page is what every template gets.
type page struct {
	Lang      string
	Title     string // a catalog key
	TitleArgs []any
	Section   string // the active navigation entry
	Path      string // the request URI, to come back to after a switch
	CSRF      string
	Flash     string // a catalog key
	Asset     func(string) string

	User        opstore.User
	Memberships []opstore.Member
	Workspaces  []opstore.Workspace
	Workspace   opstore.Workspace
	Role        opstore.Role
	Loc         *time.Location

	Nav  []navGroup
	Data any
}

// page starts the data of a page titled by the catalog key title.
func (q *req) page(title, section string, data any) *page {
	p := &page{
		Lang: q.lang, Title: title, Section: section, Path: q.r.URL.RequestURI(), CSRF: q.csrf,
		User: q.user, Memberships: q.memberships, Workspaces: q.workspaces, Workspace: q.ws, Role: q.role, Loc: q.loc, Data: data,
		Asset: func(name string) string { return "/static/" + name + "?v=" + q.s.assetVer },
	}
	if q.loggedIn() && q.r.Method == http.MethodGet {
		p.Flash = q.takeFlash()
	}
	if q.ws.ID != "" {
		p.Nav = navigation(section)
	}
	return p
}

// CanEdit reports whether the user may change sources and definitions.
func (p *page) CanEdit() bool { return p.Role.Can(opstore.Editor) }

// IsOwner reports whether the user may manage users, keys and the workspace.
func (p *page) IsOwner() bool { return p.Role.Can(opstore.Owner) }

// CanCreateWorkspace reports whether the user owns some workspace (or none
// exists for them yet), and so may create another.
func (p *page) CanCreateWorkspace() bool {
	for _, m := range p.Memberships {
		if m.Role == opstore.Owner {
			return true
		}
	}
	return false
}

// When formats t in the workspace's time zone, the way lang writes dates.
func (p *page) When(t time.Time) string { return when(p.Lang, p.Loc, t) }

// ISO is t in RFC 3339 in the workspace's time zone, for <time datetime>.
func (p *page) ISO(t time.Time) string { return t.In(p.Loc).Format(time.RFC3339) }

func when(lang string, loc *time.Location, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format(i18n.T(lang, "fmt.datetime"))
}

// Zone names the workspace's time zone with its offset now.
func (p *page) Zone() string {
	_, off := time.Now().In(p.Loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s (UTC%s%02d:%02d)", p.Loc.String(), sign, off/3600, off%3600/60)
}

// form is the entered values of a form and the errors found in them; errors
// are catalog keys, shown next to their field.
type form struct {
	Values url.Values
	Errs   map[string]string
}

func newForm(v url.Values) *form {
	if v == nil {
		v = url.Values{}
	}
	return &form{Values: v, Errs: map[string]string{}}
}

// Get returns the entered value of field name, trimmed.
func (f *form) Get(name string) string { return strings.TrimSpace(f.Values.Get(name)) }

// Err returns the error key of field name, or "".
func (f *form) Err(name string) string { return f.Errs[name] }

// Fail records an error for field name unless it has one already.
func (f *form) Fail(name, key string) {
	if _, ok := f.Errs[name]; !ok {
		f.Errs[name] = key
	}
}

// OK reports whether no error was found.
func (f *form) OK() bool { return len(f.Errs) == 0 }

// Is reports whether field name was entered as value (for <select> and radios).
func (f *form) Is(name, value string) bool { return f.Get(name) == value }

// fieldErr is the error of one field, for the "ferr" template.
type fieldErr struct{ Field, Msg string }

// parseTemplates parses, for each language, every page with the layout and
// the shared partials.
func (s *server) parseTemplates() (map[string]map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]*template.Template{}
	for _, lang := range i18n.Langs {
		base := template.New("").Funcs(funcs(lang))
		base, err := base.ParseFS(files, "templates/layout/*.html")
		if err != nil {
			return nil, err
		}
		out[lang] = map[string]*template.Template{}
		for _, n := range names {
			t, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if t, err = t.ParseFS(files, n); err != nil {
				return nil, err
			}
			out[lang][strings.TrimSuffix(path.Base(n), ".html")] = t
		}
	}
	return out, nil
}

// periodField is the period of an analysis form: the form (for its
// errors), the choice, the custom dates, the label's catalog key and the
// dates' hint.
type periodField struct {
	F                             *form
	Period, From, To, Label, Hint string
}

// funcs are the template functions, bound to a language.
func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) string { return i18n.T(lang, key, args...) },
		// tn is a count text in the form for n: {{tn "rejected.total" .Total}}
		// shows "1 rejected event in all" and "2 rejected events in all".
		"tn": func(key string, n any, args ...any) (string, error) {
			c, ok := count(n)
			if !ok {
				return "", fmt.Errorf("tn %q: the count %v (%T) is not an integer", key, n, n)
			}
			return i18n.N(lang, key, c, args...), nil
		},
		"num": func(n any) string {
			if c, ok := count(n); ok {
				return i18n.Number(lang, c)
			}
			return fmt.Sprint(n)
		},
		"channel":  func(c opstore.Channel) string { return i18n.T(lang, "channel."+string(c)) },
		"role":     func(r opstore.Role) string { return i18n.T(lang, "role."+string(r)) },
		"langName": func(l string) string { return i18n.T(lang, "lang."+l) },
		"langs":    func() []string { return i18n.Langs },
		"channels": func() []opstore.Channel { return opstore.Channels },
		"roles":    func() []opstore.Role { return opstore.Roles },
		"add":      func(a, b int) int { return a + b },
		"invalid": func(f *form, field string, hints ...string) template.HTMLAttr {
			ids := hints
			attr := ""
			if f.Err(field) != "" {
				ids = append(ids, field+"-err")
				attr = `aria-invalid="true" `
			}
			if len(ids) == 0 {
				return ""
			}
			return template.HTMLAttr(attr + `aria-describedby="` + template.HTMLEscapeString(strings.Join(ids, " ")) + `"`)
		},
		"zones":      func() []string { return zones },
		"currencies": func() []string { return currencies },
		"sub":        func(a, b float64) float64 { return a - b },
		"upper":      strings.ToUpper,
		"ferr":       func(f *form, field string) fieldErr { return fieldErr{Field: field, Msg: f.Err(field)} },
		// periodField is the argument of the "analytics-period" template.
		"periodField": func(f *form, period, from, to, label, hint string) periodField {
			return periodField{F: f, Period: period, From: from, To: to, Label: label, Hint: hint}
		},
		"initial": func(name string) string {
			for _, r := range strings.TrimSpace(name) {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"f": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		// js is v as JSON, for data- attributes read by the scripts.
		"js": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		// edit describes an inline edit for map.js: op, target, field and
		// optional key/value pairs (lane, stage, index).
		"edit": func(op, target, field string, kv ...any) (string, error) {
			e := map[string]any{"op": op, "target": target, "field": field}
			for i := 0; i+1 < len(kv); i += 2 {
				e[fmt.Sprint(kv[i])] = kv[i+1]
			}
			b, err := json.Marshal(e)
			return string(b), err
		},
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i
			}
			return s
		},
		"sub1": func(n int) int { return n - 1 },
		"odd":  func(n int) bool { return n%2 == 1 },
		// score writes an emotion score as +2, +1, 0, −1, −2.
		"score": func(n int) string {
			switch {
			case n > 0:
				return "+" + strconv.Itoa(n)
			case n < 0:
				return "−" + strconv.Itoa(-n)
			}
			return "0"
		},
		"inList":     func(xs []string, x string) bool { return slices.Contains(xs, x) },
		"tpchannels": func() []journeymap.Channel { return journeymap.Channels },
		"evkinds":    func() []journeymap.EvidenceKind { return journeymap.EvidenceKinds },
		"lanekeys":   func() []string { return journeymap.LaneKeys },
		"services":   func() []string { return journeymap.Services },
		// customServices lists a touchpoint's own service words, comma separated.
		"customServices": func(svcs []string) string {
			var own []string
			for _, v := range svcs {
				if !slices.Contains(journeymap.Services, v) {
					own = append(own, v)
				}
			}
			return strings.Join(own, ", ")
		},
		"list": func(xs ...string) []string { return xs },
		"slice2": func(a, b *journeymap.Persona) []*journeymap.Persona {
			return []*journeymap.Persona{a, b}
		},
		"hasPrefix": strings.HasPrefix,
		// safeURL passes an image data URI, which map validation checked.
		"safeURL": func(s string) template.URL {
			if strings.HasPrefix(s, "data:image/") && !strings.ContainsAny(s, "\"<>") {
				return template.URL(s) //nolint:gosec // only data:image URIs
			}
			return ""
		},
		"lane": func(l journeymap.Lanes, key string) []journeymap.Card { return *l.Cards(key) },
		"svc": func(s string) string {
			if slices.Contains(journeymap.Services, s) {
				return i18n.T(lang, "service."+s)
			}
			return s
		},
		"commentsOf": func(p *page, mapID string, cs []opstore.MapComment, target, part string) commentsData {
			return commentsData{Page: p, MapID: mapID, Comments: cs, Target: target, Part: part}
		},
	}
}

// count is n as an int64, if it is an integer.
func count(n any) (int64, bool) {
	switch v := n.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case uint64:
		return int64(v), true
	case uint32:
		return int64(v), true
	}
	return 0, false
}

// render writes page name with data p.
func (s *server) render(q *req, status int, name string, p *page) {
	t := s.pages[q.lang][name]
	if t == nil {
		s.log.Error("web: no such template", "name", name)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("web: rendering a page", "page", name, "err", err)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.Header().Set("Cache-Control", "no-store")
	q.w.WriteHeader(status)
	_, _ = q.w.Write(buf.Bytes())
}

// partial renders one named template of page name (a fragment such as table rows).
func (s *server) partial(q *req, name, tmpl string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.pages[q.lang][name].ExecuteTemplate(&buf, tmpl, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// localPath returns p if it is a path on this site, else "/". It is used on
// the "next" of forms, which an attacker may choose: only a path that starts
// with a single "/", parses to no scheme and no host, and has no control
// character or backslash anywhere (browsers drop tabs and newlines and read
// "\" as "/", which would turn "/\t/evil.com" into "//evil.com") is kept.
// The decoded path is held to the same rules.
func localPath(p string) string {
	if !isLocalPath(p) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !isLocalPath(u.Path) {
		return "/"
	}
	return p
}

// isLocalPath reports whether p starts with one "/" (not "//" or "/\") and
// has no control character or backslash.
func isLocalPath(p string) bool {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') || !utf8.ValidString(p) {
		return false
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// withTitleArgs sets the arguments of the title's catalog text.
func (p *page) withTitleArgs(args ...any) *page {
	p.TitleArgs = args
	return p
}

// TitleText is the translated title.
func (p *page) TitleText() string { return i18n.T(p.Lang, p.Title, p.TitleArgs...) }

// commentsData is what the "comments" partial shows: the comments on one
// target of a map and the form to add one.
type commentsData struct {
	Page     *page
	MapID    string
	Comments []opstore.MapComment
	Target   string // "" for the map as a whole
	Part     string // the part page to come back to
}
