package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
	"github.com/cjmhq/cjm/journeymap/draw"
	"github.com/cjmhq/cjm/opstore"
)

// mapUsage is the usage of `cjm map`, one line per subcommand.
const mapUsage = `map list [--json]
  cjm map export NAME|ID [--format yaml|json|svg|png|pdf] [--out FILE]
  cjm map import [--json] FILE...        (- reads standard input)
  cjm map new --template KEY [--lang vi|en] [--name NAME]
  cjm map templates [--lang vi|en] [--json]
  cjm map versions NAME|ID
  cjm map diff NAME|ID [--from V] [--to V] [--against MAP] [--json]
  cjm map restore NAME|ID VERSION
  cjm map delete NAME|ID
  cjm map check FILE...                  (validates only; needs no data directory)
Every subcommand but templates and check also takes --data DIR and --workspace NAME|ID.`

// mapCommands are the subcommands of `cjm map`.
var mapCommands = map[string]func(ctx context.Context, e *env, args []string) error{
	"list":      cmdMapList,
	"export":    cmdMapExport,
	"import":    cmdMapImport,
	"new":       cmdMapNew,
	"templates": cmdMapTemplates,
	"versions":  cmdMapVersions,
	"diff":      cmdMapDiff,
	"restore":   cmdMapRestore,
	"delete":    cmdMapDelete,
	"check":     cmdMapCheck,
}

func cmdMap(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"want a subcommand: list, export, import, new, templates, versions, diff, restore, delete or check"}
	}
	run, ok := mapCommands[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
	}
	return run(ctx, e, args[1:])
}

// parseArgs parses flags given before, between or after the positional
// arguments (cjm map export NAME --format svg) and returns the positional
// ones; after "--" everything is positional.
func parseArgs(f flags, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := f.parse(args); err != nil {
			return nil, err
		}
		rest := f.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, n int, what string) error {
	if len(args) != n {
		return usageError{fmt.Sprintf("want %s, got %d argument(s)", what, len(args))}
	}
	return nil
}

// mapStore is a data directory opened for map commands.
type mapStore struct {
	*app.App
	ws   opstore.Workspace
	book *journeymap.Book
}

// mapFlags adds --data and --workspace.
func mapFlags(name string, e *env) (f flags, data, ws *string) {
	f = newFlags("map "+name, e)
	return f, dataFlag(f, "cjm-data"), f.String("workspace", "", "workspace name or id (default: the first)")
}

// openMaps opens the data directory and the maps of the workspace; the
// caller closes it.
func openMaps(ctx context.Context, e *env, data, ws string) (*mapStore, error) {
	a, w, err := openWorkspace(ctx, e, data, ws)
	if err != nil {
		return nil, err
	}
	return &mapStore{a, w, journeymap.NewBook(a.Ops)}, nil
}

// openMap opens the maps of the workspace and finds one by id or name; the
// caller closes the store.
func openMap(ctx context.Context, e *env, data, ws, idOrName string) (*mapStore, journeymap.Entry, error) {
	s, err := openMaps(ctx, e, data, ws)
	if err != nil {
		return nil, journeymap.Entry{}, err
	}
	m, err := s.find(ctx, idOrName)
	if err != nil {
		s.Close()
		return nil, m, err
	}
	return s, m, nil
}

// find returns a map by id or name.
func (s *mapStore) find(ctx context.Context, idOrName string) (journeymap.Entry, error) {
	m, err := s.book.Find(ctx, s.ws.ID, idOrName)
	if errors.Is(err, opstore.ErrNotFound) {
		return m, fmt.Errorf("no map %q in workspace %q (cjm map list shows them)", idOrName, s.ws.Name)
	}
	return m, err
}

// cliChange is who the CLI saves maps as: $USER, else "cli".
func cliChange() opstore.MapChange {
	name := "cli"
	if u := strings.TrimSpace(os.Getenv("USER")); u != "" {
		name = u
	}
	return opstore.MapChange{AuthorName: name}
}

// mapListJSON is a map in `cjm map list --json`, as GET /api/v1/maps has it.
type mapListJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Stages    int       `json:"stages"`
	Template  string    `json:"template,omitempty"`
}

func updatedBy(e journeymap.Entry) string {
	if e.UpdatedByName != "" {
		return e.UpdatedByName
	}
	return e.UpdatedBy
}

func cmdMapList(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("list", e)
	asJSON := f.Bool("json", false, "print JSON")
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	s, err := openMaps(ctx, e, *data, *ws)
	if err != nil {
		return err
	}
	defer s.Close()
	es, err := s.book.List(ctx, s.ws.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]mapListJSON, len(es))
		for i, m := range es {
			out[i] = mapListJSON{ID: m.ID, Name: m.Name, State: m.State, Version: m.Version, CreatedAt: m.CreatedAt.UTC(),
				UpdatedAt: m.UpdatedAt.UTC(), UpdatedBy: updatedBy(m), Stages: len(m.Map.Stages), Template: m.Map.Template}
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tVERSION\tSTAGES\tUPDATED\tBY")
	for _, m := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", m.ID, m.Name, m.State, m.Version, len(m.Map.Stages),
			m.UpdatedAt.Local().Format("2006-01-02 15:04"), updatedBy(m))
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exportFormats are the formats of `cjm map export`.
var exportFormats = []string{"yaml", "json", "svg", "png", "pdf"}

// renderMap writes m in format: the YAML document, the JSON document, or a
// drawing.
func renderMap(w io.Writer, m *journeymap.Map, format string) error {
	switch format {
	case "yaml":
		b, err := journeymap.Marshal(m)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "json":
		c := *m
		c.Schema = journeymap.SchemaVersion
		return printJSON(w, &c)
	case "svg", "png", "pdf":
		return draw.Write(w, format, m, draw.Options{T: draw.Labels(m.Lang)})
	}
	return fmt.Errorf("unknown format %q", format)
}

func cmdMapExport(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("export", e)
	format := f.String("format", "", "yaml, json, svg, png or pdf (default: by the extension of --out, else yaml)")
	out := f.String("out", "", "output file (default: standard output)")
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 1, "the NAME or ID of one map"); err != nil {
		return err
	}
	if *format == "" {
		*format = "yaml"
		switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(*out), ".")); ext {
		case "json", "svg", "png", "pdf":
			*format = ext
		}
	}
	if !slices.Contains(exportFormats, *format) {
		return usageError{fmt.Sprintf("--format %q: want one of %s", *format, strings.Join(exportFormats, ", "))}
	}
	s, m, err := openMap(ctx, e, *data, *ws, args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	var buf bytes.Buffer
	if err := renderMap(&buf, m.Map, *format); err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported map %q (version %d) to %s\n", m.Name, m.Version, *out)
	return nil
}

// mapFile is a map document read from a file or standard input.
type mapFile struct {
	name string // as given; "-" is standard input
	data []byte
}

func (f mapFile) shown() string {
	if f.name == "-" {
		return "stdin"
	}
	return f.name
}

func readMapFile(name string) (mapFile, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	return mapFile{name, data}, err
}

// reportErrors prints the problems of a document, one per line, as
// FILE:LINE: FIELD: MESSAGE (what editors and CI annotate), and reports
// whether err was such a list of problems.
func reportErrors(w io.Writer, file string, err error) bool {
	var errs journeymap.Errors
	if !errors.As(err, &errs) {
		return false
	}
	for _, fe := range errs {
		where := file
		if fe.Line > 0 {
			where += ":" + strconv.Itoa(fe.Line)
		}
		if fe.Field != "" {
			where += ": " + fe.Field
		}
		fmt.Fprintf(w, "%s: %s\n", where, fe.Message)
	}
	return true
}

// importJSON is the outcome of importing one file, for --json.
type importJSON struct {
	File    string                  `json:"file"`
	Result  string                  `json:"result"` // created, updated, unchanged, invalid or failed
	ID      string                  `json:"id,omitempty"`
	Name    string                  `json:"name,omitempty"`
	Version int                     `json:"version,omitempty"`
	Errors  []journeymap.FieldError `json:"errors,omitempty"`
	Error   string                  `json:"error,omitempty"`
}

func cmdMapImport(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("import", e)
	asJSON := f.Bool("json", false, "print the outcome of each file as JSON")
	files, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"give at least one FILE to import (- for standard input)"}
	}
	s, err := openMaps(ctx, e, *data, *ws)
	if err != nil {
		return err
	}
	defer s.Close()
	var results []importJSON
	failed := 0
	for _, name := range files {
		r := s.importFile(ctx, e, name)
		if r.Result == "invalid" || r.Result == "failed" {
			failed++
		} else if !*asJSON {
			switch r.Result {
			case "created":
				fmt.Fprintf(e.stdout, "created map %q (version %d) from %s\n", r.Name, r.Version, r.File)
			case "updated":
				fmt.Fprintf(e.stdout, "updated map %q to version %d from %s\n", r.Name, r.Version, r.File)
			default:
				fmt.Fprintf(e.stdout, "map %q unchanged (version %d) in %s\n", r.Name, r.Version, r.File)
			}
		}
		results = append(results, r)
	}
	if *asJSON {
		if err := printJSON(e.stdout, results); err != nil {
			return err
		}
	}
	switch {
	case failed == 0:
		return nil
	case failed == len(files):
		return fmt.Errorf("nothing imported: %d of %d files have errors (see above)", failed, len(files))
	}
	return fmt.Errorf("%d of %d files not imported because of the errors above; the other %d were imported", failed, len(files), len(files)-failed)
}

// importFile imports one file, printing its problems to standard error.
func (s *mapStore) importFile(ctx context.Context, e *env, name string) importJSON {
	file, err := readMapFile(name)
	r := importJSON{File: file.shown()}
	fail := func(err error) importJSON {
		var errs journeymap.Errors
		if errors.As(err, &errs) {
			r.Result, r.Errors = "invalid", errs
		} else {
			r.Result, r.Error = "failed", err.Error()
		}
		if !reportErrors(e.stderr, r.File, err) {
			fmt.Fprintf(e.stderr, "%s: %v\n", r.File, err)
		}
		return r
	}
	if err != nil {
		return fail(err)
	}
	// The version before, to tell an unchanged map from an updated one.
	m, err := journeymap.Parse(file.data)
	if err != nil {
		return fail(err)
	}
	before := 0
	if old, err := s.book.Find(ctx, s.ws.ID, m.Name); err == nil {
		before = old.Version
	} else if !errors.Is(err, opstore.ErrNotFound) {
		return fail(err)
	}
	ch := cliChange()
	ch.Note = "imported from " + filepath.Base(r.File)
	saved, created, err := s.book.Import(ctx, s.ws.ID, file.data, ch)
	if err != nil {
		return fail(err)
	}
	r.ID, r.Name, r.Version = saved.ID, saved.Name, saved.Version
	switch {
	case created:
		r.Result = "created"
	case saved.Version == before:
		r.Result = "unchanged"
	default:
		r.Result = "updated"
	}
	return r
}

func cmdMapNew(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("new", e)
	tpl := f.String("template", "", "template key (cjm map templates lists them)")
	lang := f.String("lang", i18n.Default, "language of the map: vi or en")
	name := f.String("name", "", "name of the map (default: the template's name)")
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	if *tpl == "" {
		return usageError{"--template is required (cjm map templates lists them)"}
	}
	m, err := journeymap.FromTemplate(*tpl, *lang)
	if err != nil {
		return usageError{strings.TrimPrefix(err.Error(), "journeymap: ")}
	}
	if n := strings.TrimSpace(*name); n != "" {
		m.Name = n
	}
	s, err := openMaps(ctx, e, *data, *ws)
	if err != nil {
		return err
	}
	defer s.Close()
	created, err := s.book.Create(ctx, s.ws.ID, m, cliChange())
	if errors.Is(err, opstore.ErrConflict) {
		return fmt.Errorf("a map named %q already exists in workspace %q; give another --name", m.Name, s.ws.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created map %q (version 1) from template %s: %s\n", created.Name, *tpl, created.ID)
	return nil
}

func cmdMapTemplates(_ context.Context, e *env, args []string) error {
	f := newFlags("map templates", e)
	lang := f.String("lang", i18n.Default, "language of the names: vi or en")
	asJSON := f.Bool("json", false, "print JSON (every language)")
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, journeymap.Templates)
	}
	if !i18n.Valid(*lang) {
		return usageError{fmt.Sprintf("--lang %q: want vi or en", *lang)}
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tNAME\tSTAGES")
	for _, t := range journeymap.Templates {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Key, t.Name[*lang], strings.Join(t.Stages[*lang], " → "))
	}
	return tw.Flush()
}

func cmdMapVersions(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("versions", e)
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 1, "the NAME or ID of one map"); err != nil {
		return err
	}
	s, m, err := openMap(ctx, e, *data, *ws, args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	vs, err := s.Ops.MapVersions(ctx, s.ws.ID, m.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSAVED\tBY\tNAME\tNOTE")
	for _, v := range vs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.Version, v.CreatedAt.Local().Format("2006-01-02 15:04"), v.AuthorName, v.Name, v.Note)
	}
	return tw.Flush()
}

func cmdMapDiff(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("diff", e)
	from := f.Int("from", 0, "the older version (default: the one before --to)")
	to := f.Int("to", 0, "the newer version (default: the latest)")
	against := f.String("against", "", "compare with the latest version of this map instead (name or id), e.g. the current map of a future one")
	asJSON := f.Bool("json", false, "print the changes as JSON")
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 1, "the NAME or ID of one map"); err != nil {
		return err
	}
	if *against != "" && (*from != 0 || *to != 0) {
		return usageError{"--against compares latest versions; it takes no --from or --to"}
	}
	s, m, err := openMap(ctx, e, *data, *ws, args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	var a, b *journeymap.Map
	var title string
	if *against != "" {
		other, err := s.find(ctx, *against)
		if err != nil {
			return err
		}
		a, b = other.Map, m.Map
		title = fmt.Sprintf("map %q (version %d) → map %q (version %d)", other.Name, other.Version, m.Name, m.Version)
	} else {
		if *to == 0 {
			*to = m.Version
		}
		if *from == 0 {
			if *to == 1 {
				return fmt.Errorf("version 1 is the first version of map %q; there is nothing before it to compare with (give --from)", m.Name)
			}
			*from = *to - 1
		}
		for _, v := range []int{*from, *to} {
			if v < 1 || v > m.Version {
				return fmt.Errorf("map %q has versions 1 to %d; there is no version %d", m.Name, m.Version, v)
			}
		}
		if a, _, err = s.book.Version(ctx, s.ws.ID, m.ID, *from); err != nil {
			return err
		}
		if b, _, err = s.book.Version(ctx, s.ws.ID, m.ID, *to); err != nil {
			return err
		}
		title = fmt.Sprintf("map %q: version %d → %d", m.Name, *from, *to)
	}
	changes := journeymap.Diff(a, b)
	if *asJSON {
		if changes == nil {
			changes = []journeymap.Change{}
		}
		return printJSON(e.stdout, changes)
	}
	fmt.Fprintln(e.stdout, title)
	if len(changes) == 0 {
		fmt.Fprintln(e.stdout, "  no changes")
	}
	for _, c := range changes {
		fmt.Fprintln(e.stdout, "  "+showChange(c))
	}
	return nil
}

// showChange writes a change on one line: + added, - removed, ~ changed
// (old → new), ↕ reordered.
func showChange(c journeymap.Change) string {
	var b strings.Builder
	switch c.Op {
	case "added":
		b.WriteString("+ ")
	case "removed":
		b.WriteString("- ")
	case "reordered":
		b.WriteString("↕ ")
	default:
		b.WriteString("~ ")
	}
	for i, cr := range c.Path {
		if i > 0 {
			b.WriteString(" › ")
		}
		fmt.Fprintf(&b, "%s %q", cr.List, cr.Label)
	}
	switch {
	case c.Op == "reordered":
		if len(c.Path) > 0 {
			b.WriteString(" › ")
		}
		b.WriteString(c.Field + " reordered")
	case c.Field != "":
		if len(c.Path) > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s: %q → %q", c.Field, c.Old, c.New)
	}
	return b.String()
}

func cmdMapRestore(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("restore", e)
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 2, "the NAME or ID of a map and a VERSION"); err != nil {
		return err
	}
	v, err := strconv.Atoi(args[1])
	if err != nil || v < 1 {
		return usageError{fmt.Sprintf("VERSION must be a version number, not %q", args[1])}
	}
	s, m, err := openMap(ctx, e, *data, *ws, args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	if v > m.Version {
		return fmt.Errorf("map %q has versions 1 to %d; there is no version %d", m.Name, m.Version, v)
	}
	saved, err := s.book.Restore(ctx, s.ws.ID, m.ID, v, cliChange())
	if err != nil {
		reportErrors(e.stderr, fmt.Sprintf("version %d", v), err)
		return err
	}
	if saved.Version == m.Version {
		fmt.Fprintf(e.stdout, "map %q unchanged: version %d is the same as the latest (version %d)\n", saved.Name, v, saved.Version)
		return nil
	}
	fmt.Fprintf(e.stdout, "restored version %d of map %q as version %d\n", v, saved.Name, saved.Version)
	return nil
}

func cmdMapDelete(ctx context.Context, e *env, args []string) error {
	f, data, ws := mapFlags("delete", e)
	args, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if err := wantArgs(args, 1, "the NAME or ID of one map"); err != nil {
		return err
	}
	s, m, err := openMap(ctx, e, *data, *ws, args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Ops.DeleteMap(ctx, s.ws.ID, m.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted map %q (%s) with its %d version(s)\n", m.Name, m.ID, m.Version)
	return nil
}

func cmdMapCheck(_ context.Context, e *env, args []string) error {
	f := newFlags("map check", e)
	files, err := parseArgs(f, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"give at least one FILE to check (- for standard input)"}
	}
	bad := 0
	for _, name := range files {
		file, err := readMapFile(name)
		var m *journeymap.Map
		if err == nil {
			m, err = journeymap.Parse(file.data)
		}
		if err != nil {
			bad++
			if !reportErrors(e.stderr, file.shown(), err) {
				fmt.Fprintf(e.stderr, "%s: %v\n", file.shown(), err)
			}
			continue
		}
		tps := 0
		for _, st := range m.Stages {
			tps += len(st.Touchpoints)
		}
		fmt.Fprintf(e.stdout, "%s: ok (map %q, %d stages, %d touchpoints)\n", file.shown(), m.Name, len(m.Stages), tps)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files have errors", bad, len(files))
	}
	return nil
}
