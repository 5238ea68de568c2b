package api

import (
	"bufio"
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes checks that openapi.yaml documents every route the
// API registers, with the same method and the same need for a key, and
// nothing else.
func TestOpenAPICoversRoutes(t *testing.T) {
	documented := specOperations(t, openAPISpec)
	routes := map[string]bool{}
	for _, rt := range (&server{}).routes() {
		routes[rt.pattern] = rt.need == ""
	}
	for _, op := range slices.Sorted(maps.Keys(documented)) {
		public, ok := routes[op]
		switch {
		case !ok:
			t.Errorf("openapi.yaml documents %q, which is not a route", op)
		case public != documented[op]:
			t.Errorf("%q: the route is public: %v, openapi.yaml says `security: []`: %v", op, public, documented[op])
		}
	}
	for _, rt := range slices.Sorted(maps.Keys(routes)) {
		if _, ok := documented[rt]; !ok {
			t.Errorf("route %q is not in openapi.yaml", rt)
		}
	}
}

// specOperations reads the operations under "paths:" of an OpenAPI YAML file
// as "METHOD /path", the form of ServeMux patterns, each with whether it is
// public (has "security: []"). It reads the layout of our file (two-space
// indents) with a line scan, not a YAML parser.
func specOperations(t *testing.T, spec []byte) map[string]bool {
	t.Helper()
	ops := map[string]bool{}
	var path, op string
	inPaths := false
	sc := bufio.NewScanner(bytes.NewReader(spec))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case line == "paths:":
			inPaths = true
			continue
		case !inPaths || trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case line[0] != ' ': // the next top-level key ends paths
			inPaths = false
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 2 && strings.HasPrefix(trimmed, "/") && strings.HasSuffix(trimmed, ":"):
			path, op = strings.TrimSuffix(trimmed, ":"), ""
		case indent == 4 && path != "":
			op = ""
			switch m := strings.TrimSuffix(trimmed, ":"); m {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				op = strings.ToUpper(m) + " " + path
				ops[op] = false
			}
		case indent == 6 && op != "" && trimmed == "security: []":
			ops[op] = true
		}
	}
	if len(ops) == 0 {
		t.Fatal("no operations found under paths:")
	}
	return ops
}
