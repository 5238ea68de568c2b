package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cjmhq/cjm/journeymap"
)

// mapOut is a stored map as the API answers it.
type mapOut struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	State     string          `json:"state"`
	Version   int             `json:"version"`
	UpdatedBy string          `json:"updated_by"`
	Stages    int             `json:"stages"`
	Template  string          `json:"template"`
	Map       *journeymap.Map `json:"map"`
}

type mapError struct {
	Error struct {
		Code    string `json:"code"`
		Details []struct {
			Line    int    `json:"line"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// mapStep is one request of a map scenario. The path and body may hold
// {GROWTH} and {FUTURE}, replaced by the ids of the maps the scenario made.
type mapStep struct {
	name         string
	method, path string
	key          string            // a name in env.keys
	header       map[string]string // Content-Type defaults to application/json when there is a body
	body         string
	status       int
	code         string // error code, for errors
	msg          string // a part of the error message
	check        func(*testing.T, reply)
}

// send is env.do with request headers.
func (e *env) send(t *testing.T, method, path, key string, header map[string]string, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	must(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	r.body, err = io.ReadAll(resp.Body)
	must(t, err)
	if r.status >= 400 {
		var eb struct {
			Error *struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%s %s: status %d without a JSON error body: %s", method, path, r.status, r.body)
		}
		r.err = *eb.Error
	}
	return r
}

// templateYAML is the AARRR template in English as YAML, named name, and the
// 1-based line of the channel of its first activation touchpoint.
func templateYAML(t *testing.T, name string) (doc string, channelLine int) {
	t.Helper()
	m, err := journeymap.FromTemplate("aarrr", "en")
	must(t, err)
	m.Name = name
	b, err := journeymap.Marshal(m)
	must(t, err)
	lines := strings.Split(string(b), "\n")
	tp := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "- key: "+m.Stages[1].Touchpoints[0].Key })
	for i := tp; tp >= 0 && i < len(lines); i++ {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "channel:") {
			return string(b), i + 1
		}
	}
	t.Fatalf("no channel of the first activation touchpoint in\n%s", b)
	return "", 0
}

func TestMaps(t *testing.T) {
	e := newEnv(t)
	ids := map[string]string{}
	var v1 *journeymap.Map // the Growth map as created

	growthYAML, channelLine := templateYAML(t, "Growth")
	badChannel := strings.Split(growthYAML, "\n")
	badChannel[channelLine-1] = strings.Replace(badChannel[channelLine-1], "channel: website", "channel: fax", 1)
	renamed := strings.Replace(growthYAML, "name: Activation\n", "name: Onboarding\n", 1)
	imported, _ := templateYAML(t, "Imported")
	importedChanged := strings.Replace(imported, "name: Retention\n", "name: Repeat\n", 1)
	future := `{"schema":"cjm.map/v1","name":"Growth 2027","lang":"en","state":"future","compare_to":"Growth",
		"stages":[{"name":"Acquisition","touchpoints":[{"name":"TikTok ads","channel":"ads","expected":true}]}]}`

	storedMap := func(name string, version int) func(*testing.T, reply) {
		return func(t *testing.T, r reply) {
			m := decode[mapOut](t, r.body)
			if m.ID == "" || m.Name != name || m.Version != version || m.Map == nil || m.Map.Name != name {
				t.Errorf("map %s version %d (%+v), want %q version %d", m.Name, m.Version, m, name, version)
			}
			if m.UpdatedBy != "API key editor" {
				t.Errorf("updated_by %q", m.UpdatedBy)
			}
			if r.header.Get("ETag") != fmt.Sprintf(`"%d"`, m.Version) {
				t.Errorf("ETag %q, version %d", r.header.Get("ETag"), m.Version)
			}
		}
	}
	wantDetail := func(field string, line int, msg string) func(*testing.T, reply) {
		return func(t *testing.T, r reply) {
			for _, d := range decode[mapError](t, r.body).Error.Details {
				if d.Field == field && (line == 0 || d.Line == line) && strings.Contains(d.Message, msg) {
					return
				}
			}
			t.Errorf("no detail %s at line %d mentioning %q: %s", field, line, msg, r.body)
		}
	}
	yaml := map[string]string{"Content-Type": "application/yaml"}

	steps := []mapStep{
		{name: "templates", method: "GET", path: "/api/v1/map-templates", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				tpls := decode[[]journeymap.TemplateInfo](t, r.body)
				if !slices.ContainsFunc(tpls, func(ti journeymap.TemplateInfo) bool { return ti.Key == "aarrr" && len(ti.Stages["vi"]) == 5 }) {
					t.Errorf("templates %s", r.body)
				}
			}},
		{name: "no maps yet", method: "GET", path: "/api/v1/maps", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				if string(r.body) != "[]\n" {
					t.Errorf("list %s", r.body)
				}
			}},

		// Create.
		{name: "viewer may not create", method: "POST", path: "/api/v1/maps", key: "viewer", body: `{"template":"aarrr"}`, status: 403, code: "forbidden"},
		{name: "create from a template", method: "POST", path: "/api/v1/maps", key: "editor", body: `{"template":"aarrr","lang":"en","name":"Growth"}`, status: 201,
			check: func(t *testing.T, r reply) {
				storedMap("Growth", 1)(t, r)
				m := decode[mapOut](t, r.body)
				ids["GROWTH"], v1 = m.ID, m.Map
				if m.Stages != 5 || m.Template != "aarrr" || m.State != "current" || m.Map.Lang != "en" || m.Map.Stages[1].Key != "activation" {
					t.Errorf("created %+v", m)
				}
				if r.header.Get("Location") != "/api/v1/maps/"+m.ID {
					t.Errorf("Location %q", r.header.Get("Location"))
				}
			}},
		{name: "a taken name", method: "POST", path: "/api/v1/maps", key: "editor", body: `{"template":"simple","name":"growth"}`, status: 409, code: "conflict", msg: "already exists"},
		{name: "unknown template", method: "POST", path: "/api/v1/maps", key: "editor", body: `{"template":"nope"}`, status: 400, code: "bad_request", msg: `unknown template "nope"`},
		{name: "unknown field of a template request", method: "POST", path: "/api/v1/maps", key: "editor", body: `{"template":"aarrr","colour":"red"}`, status: 400, code: "bad_request", msg: "colour"},
		{name: "create a document", method: "POST", path: "/api/v1/maps", key: "editor", body: future, status: 201,
			check: func(t *testing.T, r reply) {
				m := decode[mapOut](t, r.body)
				ids["FUTURE"] = m.ID
				if m.State != "future" || m.Map.Stages[0].Touchpoints[0].Key != "tiktok-ads" {
					t.Errorf("created %+v", m)
				}
			}},
		{name: "create an invalid document", method: "POST", path: "/api/v1/maps", key: "editor", status: 422, code: "invalid",
			body: `{"schema":"cjm.map/v1","name":"X","lang":"fr","state":"current","stages":[{"name":"A"}]}`, check: wantDetail("lang", 1, "vi or en")},
		{name: "list", method: "GET", path: "/api/v1/maps", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				ms := decode[[]mapOut](t, r.body)
				if len(ms) != 2 || ms[0].Name != "Growth" || ms[0].Stages != 5 || ms[0].Version != 1 || ms[0].Map != nil ||
					ms[1].Name != "Growth 2027" || ms[1].State != "future" || ms[0].UpdatedBy != "API key editor" {
					t.Errorf("list %s", r.body)
				}
			}},

		// Read.
		{name: "get by id", method: "GET", path: "/api/v1/maps/{GROWTH}", key: "viewer", status: 200, check: storedMap("Growth", 1)},
		{name: "get by name", method: "GET", path: "/api/v1/maps/growth", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				if m := decode[mapOut](t, r.body); m.ID != ids["GROWTH"] {
					t.Errorf("by name: %s", m.ID)
				}
			}},
		{name: "get YAML", method: "GET", path: "/api/v1/maps/{GROWTH}?format=yaml", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") || string(r.body) != growthYAML {
					t.Errorf("Content-Type %q, YAML:\n%s\nwant:\n%s", ct, r.body, growthYAML)
				}
			}},
		{name: "get YAML by Accept", method: "GET", path: "/api/v1/maps/{GROWTH}", key: "viewer", header: map[string]string{"Accept": "application/yaml"}, status: 200,
			check: func(t *testing.T, r reply) {
				if string(r.body) != growthYAML {
					t.Errorf("YAML:\n%s", r.body)
				}
			}},
		{name: "bad format", method: "GET", path: "/api/v1/maps/{GROWTH}?format=xml", key: "viewer", status: 400, code: "bad_request", msg: "json, yaml"},
		{name: "unknown map", method: "GET", path: "/api/v1/maps/map_nope", key: "viewer", status: 404, code: "not_found", msg: "map_nope"},

		// Replace.
		{name: "YAML with a bad channel", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", header: yaml,
			body: strings.Join(badChannel, "\n"), status: 422, code: "invalid", msg: "unknown channel",
			check: wantDetail("stages[1].touchpoints[0].channel", channelLine, `unknown channel "fax"`)},
		{name: "JSON with a bad channel", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", status: 422, code: "invalid",
			body:  `{"schema":"cjm.map/v1","name":"Growth","lang":"en","state":"current","stages":[{"name":"A","touchpoints":[{"name":"T","channel":"fax"}]}]}`,
			check: wantDetail("stages[0].touchpoints[0].channel", 1, "fax")},
		{name: "not JSON", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", body: "{\n\"name\":", status: 400, code: "bad_request", msg: "not valid JSON"},
		{name: "viewer may not replace", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "viewer", header: yaml, body: renamed, status: 403, code: "forbidden"},
		{name: "replace on version 1", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", header: map[string]string{"Content-Type": "application/yaml", "If-Match": `"1"`},
			body: renamed, status: 200,
			check: func(t *testing.T, r reply) {
				storedMap("Growth", 2)(t, r)
				if m := decode[mapOut](t, r.body); m.Map.Stages[1].Name != "Onboarding" {
					t.Errorf("stage 1 is %q", m.Map.Stages[1].Name)
				}
			}},
		{name: "stale If-Match", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", header: map[string]string{"Content-Type": "application/yaml", "If-Match": "1"},
			body: growthYAML, status: 409, code: "conflict", msg: "version 2, not 1"},
		{name: "stale base", method: "PUT", path: "/api/v1/maps/Growth?base=1", key: "editor", header: yaml, body: growthYAML, status: 409, code: "conflict"},
		{name: "bad If-Match", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", header: map[string]string{"Content-Type": "application/yaml", "If-Match": "latest"},
			body: renamed, status: 400, code: "bad_request", msg: "If-Match"},
		{name: "unchanged keeps the version", method: "PUT", path: "/api/v1/maps/{GROWTH}?base=2", key: "editor", header: yaml, body: renamed, status: 200, check: storedMap("Growth", 2)},
		{name: "unsupported Content-Type", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "editor", header: map[string]string{"Content-Type": "application/xml"}, body: "<map/>",
			status: 400, code: "bad_request", msg: "application/yaml"},

		// Import.
		{name: "import creates", method: "POST", path: "/api/v1/maps/import", key: "editor", header: yaml, body: imported, status: 201,
			check: func(t *testing.T, r reply) {
				storedMap("Imported", 1)(t, r)
				ids["IMPORTED"] = decode[mapOut](t, r.body).ID
			}},
		{name: "identical import keeps the version", method: "POST", path: "/api/v1/maps/import", key: "editor", header: yaml, body: imported, status: 200, check: storedMap("Imported", 1)},
		{name: "changed import is a new version", method: "POST", path: "/api/v1/maps/import", key: "editor", header: yaml, body: importedChanged, status: 200,
			check: func(t *testing.T, r reply) {
				storedMap("Imported", 2)(t, r)
				if m := decode[mapOut](t, r.body); m.ID != ids["IMPORTED"] || m.Map.Stages[2].Name != "Repeat" {
					t.Errorf("imported %+v", m)
				}
			}},
		{name: "import as curl sends it", method: "POST", path: "/api/v1/maps/import", key: "editor", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: importedChanged, status: 200, check: storedMap("Imported", 2)},
		{name: "import with a typo", method: "POST", path: "/api/v1/maps/import", key: "editor", header: yaml, status: 422, code: "invalid",
			body:  "schema: cjm.map/v1\nname: Typo\nlang: en\nstate: current\nstages:\n  - name: A\n    touchpionts: []\n",
			check: wantDetail("stages[0].touchpionts", 7, `did you mean "touchpoints"`)},
		{name: "viewer may not import", method: "POST", path: "/api/v1/maps/import", key: "viewer", header: yaml, body: imported, status: 403, code: "forbidden"},

		// Edits.
		{name: "edits", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "editor", status: 200,
			body: `{"base":2,"edits":[
				{"op":"add","field":"touchpoint","stage":"activation","index":-1,"value":{"name":"Zalo mini app","channel":"zalo","match":{"event":"Mini App Opened"}}},
				{"op":"move","target":"stage:referral","index":0}]}`,
			check: func(t *testing.T, r reply) {
				storedMap("Growth", 3)(t, r)
				m := decode[mapOut](t, r.body).Map
				var keys []string
				for _, s := range m.Stages {
					keys = append(keys, s.Key)
				}
				tp, si := m.Touchpoint("zalo-mini-app")
				if strings.Join(keys, ",") != "referral,acquisition,activation,retention,revenue" || tp == nil || si != 2 ||
					tp.Channel != "zalo" || tp.Match == nil || tp.Match.Event != "Mini App Opened" {
					t.Errorf("stages %v, touchpoint %+v in stage %d", keys, tp, si)
				}
			}},
		{name: "edits on a stale base", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "editor", status: 409, code: "conflict",
			body: `{"base":2,"edits":[{"op":"set","target":"stage:revenue","field":"name","value":"Money"}]}`},
		{name: "an edit that cannot apply", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "editor", status: 422, code: "invalid", msg: "no stage",
			body: `{"base":3,"edits":[{"op":"move","target":"stage:nope","index":0}]}`},
		{name: "an edit that makes the map invalid", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "editor", status: 422, code: "invalid",
			body:  `{"base":3,"edits":[{"op":"set","target":"touchpoint:sign-up","field":"channel","value":"fax"}]}`,
			check: wantDetail("stages[2].touchpoints[0].channel", 0, "fax")},
		{name: "no edits", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "editor", body: `{"base":3,"edits":[]}`, status: 400, code: "bad_request"},
		{name: "viewer may not edit", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "viewer", status: 403, code: "forbidden",
			body: `{"edits":[{"op":"set","target":"stage:revenue","field":"name","value":"Money"}]}`},

		// Versions, diff and restore.
		{name: "versions", method: "GET", path: "/api/v1/maps/{GROWTH}/versions", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				vs := decode[[]struct {
					Version    int
					AuthorName string `json:"author_name"`
				}](t, r.body)
				if len(vs) != 3 || vs[0].Version != 3 || vs[2].Version != 1 || vs[0].AuthorName != "API key editor" {
					t.Errorf("versions %s", r.body)
				}
			}},
		{name: "version 1", method: "GET", path: "/api/v1/maps/{GROWTH}/versions/1", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				v := decode[struct {
					MapID   string `json:"map_id"`
					Version int
					Map     *journeymap.Map
				}](t, r.body)
				if v.MapID != ids["GROWTH"] || v.Version != 1 || v.Map.Stages[1].Name != "Activation" {
					t.Errorf("version 1: %s", r.body)
				}
			}},
		{name: "version 1 as YAML", method: "GET", path: "/api/v1/maps/{GROWTH}/versions/1?format=yaml", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				if string(r.body) != growthYAML {
					t.Errorf("YAML of version 1:\n%s", r.body)
				}
			}},
		{name: "no version 9", method: "GET", path: "/api/v1/maps/{GROWTH}/versions/9", key: "viewer", status: 404, code: "not_found", msg: "latest is 3"},
		{name: "version zero", method: "GET", path: "/api/v1/maps/{GROWTH}/versions/0", key: "viewer", status: 400, code: "bad_request"},
		{name: "diff of the last change", method: "GET", path: "/api/v1/maps/{GROWTH}/diff", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				d := decode[struct {
					From, To struct{ Version int }
					Changes  []journeymap.Change
				}](t, r.body)
				ops := map[string]bool{}
				for _, c := range d.Changes {
					ops[c.Op] = true
				}
				if d.From.Version != 2 || d.To.Version != 3 || !ops["added"] || !ops["reordered"] {
					t.Errorf("diff %s", r.body)
				}
			}},
		{name: "diff of a rename", method: "GET", path: "/api/v1/maps/{GROWTH}/diff?from=1&to=2", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				cs := decode[struct{ Changes []journeymap.Change }](t, r.body).Changes
				if len(cs) != 1 || cs[0].Op != "changed" || cs[0].Field != "name" || cs[0].Old != "Activation" || cs[0].New != "Onboarding" {
					t.Errorf("changes %+v", cs)
				}
			}},
		{name: "nothing before version 1", method: "GET", path: "/api/v1/maps/{GROWTH}/diff?to=1", key: "viewer", status: 400, code: "bad_request", msg: "first version"},
		{name: "diff against the current map", method: "GET", path: "/api/v1/maps/{FUTURE}/diff?against={GROWTH}", key: "viewer", status: 200,
			check: func(t *testing.T, r reply) {
				d := decode[struct {
					From struct {
						MapID string `json:"map_id"`
					}
					Changes []journeymap.Change
				}](t, r.body)
				if d.From.MapID != ids["GROWTH"] || len(d.Changes) == 0 {
					t.Errorf("diff %s", r.body)
				}
			}},
		{name: "against with versions", method: "GET", path: "/api/v1/maps/{FUTURE}/diff?against={GROWTH}&from=1", key: "viewer", status: 400, code: "bad_request"},
		{name: "viewer may not restore", method: "POST", path: "/api/v1/maps/{GROWTH}/versions/1/restore", key: "viewer", status: 403, code: "forbidden"},
		{name: "restore version 1", method: "POST", path: "/api/v1/maps/{GROWTH}/versions/1/restore", key: "editor", status: 200,
			check: func(t *testing.T, r reply) {
				storedMap("Growth", 4)(t, r)
				if m := decode[mapOut](t, r.body).Map; !mapsEqual(m, v1) {
					t.Errorf("restored map differs from version 1")
				}
			}},

		// Drawings.
		{name: "SVG", method: "GET", path: "/api/v1/maps/{GROWTH}/export.svg", key: "viewer", status: 200, check: wantFile("image/svg+xml", "growth.svg", "<svg")},
		{name: "PNG", method: "GET", path: "/api/v1/maps/Growth/export.png", key: "viewer", status: 200, check: wantFile("image/png", "growth.png", "\x89PNG")},
		{name: "PDF", method: "GET", path: "/api/v1/maps/{GROWTH}/export.pdf", key: "viewer", status: 200, check: wantFile("application/pdf", "growth.pdf", "%PDF-")},
		{name: "no GIF", method: "GET", path: "/api/v1/maps/{GROWTH}/export.gif", key: "viewer", status: 404, code: "not_found"},

		// Another workspace sees none of it.
		{name: "B lists", method: "GET", path: "/api/v1/maps", key: "b", status: 200,
			check: func(t *testing.T, r reply) {
				if string(r.body) != "[]\n" {
					t.Errorf("B sees %s", r.body)
				}
			}},
		{name: "B reads by id", method: "GET", path: "/api/v1/maps/{GROWTH}", key: "b", status: 404, code: "not_found"},
		{name: "B reads by name", method: "GET", path: "/api/v1/maps/Growth", key: "b", status: 404, code: "not_found"},
		{name: "B replaces", method: "PUT", path: "/api/v1/maps/{GROWTH}", key: "b", header: yaml, body: renamed, status: 404, code: "not_found"},
		{name: "B edits", method: "POST", path: "/api/v1/maps/{GROWTH}/edits", key: "b", status: 404, code: "not_found",
			body: `{"edits":[{"op":"set","target":"stage:revenue","field":"name","value":"Money"}]}`},
		{name: "B reads versions", method: "GET", path: "/api/v1/maps/{GROWTH}/versions/1", key: "b", status: 404, code: "not_found"},
		{name: "B deletes", method: "DELETE", path: "/api/v1/maps/{GROWTH}", key: "b", status: 404, code: "not_found"},

		// Delete.
		{name: "viewer may not delete", method: "DELETE", path: "/api/v1/maps/{GROWTH}", key: "viewer", status: 403, code: "forbidden"},
		{name: "delete", method: "DELETE", path: "/api/v1/maps/{GROWTH}", key: "editor", status: 204},
		{name: "deleted", method: "GET", path: "/api/v1/maps/{GROWTH}", key: "viewer", status: 404, code: "not_found"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			repl := func(s string) string {
				for k, v := range ids {
					s = strings.ReplaceAll(s, "{"+k+"}", v)
				}
				return s
			}
			r := e.send(t, st.method, repl(st.path), e.keys[st.key], st.header, repl(st.body))
			if r.status != st.status {
				t.Fatalf("status %d, want %d: %s", r.status, st.status, r.body)
			}
			if st.code != "" && r.err.Code != st.code {
				t.Errorf("error code %q, want %q (%s)", r.err.Code, st.code, r.err.Message)
			}
			if st.msg != "" && !strings.Contains(r.err.Message, st.msg) {
				t.Errorf("error message %q does not mention %q", r.err.Message, st.msg)
			}
			if st.check != nil {
				st.check(t, r)
			}
		})
	}
}

// wantFile checks a downloaded drawing.
func wantFile(ctype, name, start string) func(*testing.T, reply) {
	return func(t *testing.T, r reply) {
		if r.header.Get("Content-Type") != ctype || r.header.Get("Content-Disposition") != `attachment; filename="`+name+`"` ||
			!strings.Contains(string(r.body[:min(len(r.body), 200)]), start) {
			t.Errorf("Content-Type %q, Content-Disposition %q, body %.60q", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), r.body)
		}
	}
}

// mapsEqual compares two documents as they are stored.
func mapsEqual(a, b *journeymap.Map) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
