package journeymap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Marshal writes m as YAML, the maps-as-code format (docs/map-schema.md).
func Marshal(m *Map) ([]byte, error) {
	c := *m
	c.Schema = SchemaVersion
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Parse reads a map document in YAML (or JSON, which is YAML too), fills
// missing stage and touchpoint keys and card ids (see AssignIDs), and
// validates it. Every problem is reported as a FieldError with its line, in
// one Errors value.
func Parse(data []byte) (*Map, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{syntaxError(err)}
	}
	if len(root.Content) == 0 {
		return nil, Errors{{Line: 1, Message: "the document is empty"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, Errors{{Line: doc.Line, Message: "a map document must be a mapping with name, lang, state and stages"}}
	}
	errs := checkKeys(doc, reflect.TypeFor[Map](), "")
	var m Map
	if err := doc.Decode(&m); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Errors{syntaxError(err)}
		}
		for _, msg := range te.Errors {
			errs = append(errs, typeError(msg))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if m.Schema == "" {
		errs = append(errs, FieldError{Line: doc.Line, Field: "schema", Message: fmt.Sprintf("is required (schema: %s)", SchemaVersion)})
	}
	m.AssignIDs()
	for _, e := range Validate(&m) {
		e.Line = lineOf(doc, e.Field)
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &m, nil
}

// UnmarshalYAML reads a card written as a mapping or, for short, as its text.
func (c *Card) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*c = Card{Text: n.Value}
		return nil
	}
	type plain Card
	return n.Decode((*plain)(c))
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(err error) FieldError {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return FieldError{Line: n, Message: m[2]}
	}
	return FieldError{Message: strings.TrimPrefix(msg, "yaml: ")}
}

func typeError(msg string) FieldError {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return FieldError{Line: n, Message: m[2]}
	}
	return FieldError{Message: msg}
}

// checkKeys reports mapping keys that name no field of t, walking the
// document alongside the Go type so nested mistakes are found too.
func checkKeys(n *yaml.Node, t reflect.Type, path string) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs Errors
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		collectFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			fp := joinPath(path, k.Value)
			if !ok {
				errs = append(errs, FieldError{Line: k.Line, Field: fp, Message: fmt.Sprintf("unknown field %q%s", k.Value, suggest(k.Value, fields))})
				continue
			}
			errs = append(errs, checkKeys(v, ft, fp)...)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, v := range n.Content {
			errs = append(errs, checkKeys(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return errs
}

func collectFields(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			collectFields(f.Type, into)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		into[name] = f.Type
	}
}

func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for f := range fields {
		if d := distance(key, f); d < bestD || (d == bestD && f < best && best != "") {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lineOf finds the line of a field path such as stages[1].touchpoints[0].key
// in the document; a missing field gives the line of its nearest parent.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			if n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					next = n.Content[i+1]
					line = n.Content[i].Line
				}
			}
			if next == nil {
				return line
			}
			n = next
		}
		for rest != "" {
			var idx string
			idx, rest, _ = strings.Cut(rest, "]")
			rest = strings.TrimPrefix(rest, "[")
			i, err := strconv.Atoi(idx)
			if err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
		}
	}
	return line
}

// MarshalMatcher writes one matcher as YAML, for the matcher editor.
func MarshalMatcher(m *Matcher) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	err := enc.Close()
	return b.Bytes(), err
}

// ParseMatcher reads one matcher written as YAML (or JSON) and checks it,
// reporting problems with their line.
func ParseMatcher(data []byte) (*Matcher, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{syntaxError(err)}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{Line: 1, Message: "a matcher is a mapping, e.g. event: Order Completed"}}
	}
	doc := root.Content[0]
	errs := checkKeys(doc, reflect.TypeFor[Matcher](), "")
	var mt Matcher
	if err := doc.Decode(&mt); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Errors{syntaxError(err)}
		}
		for _, msg := range te.Errors {
			errs = append(errs, typeError(msg))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c := &checker{}
	c.rule("", &mt.Rule, 0)
	for _, e := range c.errs {
		e.Field = strings.TrimPrefix(e.Field, ".")
		e.Line = lineOf(doc, e.Field)
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &mt, nil
}

// UnmarshalJSON reads a card written as an object or, for short, as its text.
func (c *Card) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*c = Card{Text: s}
		return nil
	}
	type plain Card
	return json.Unmarshal(data, (*plain)(c))
}
