package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/privacy"
)

const privacyUsage = "privacy export --identifier KIND:VALUE [--format json|csv] [--out DIR|FILE] | " +
	"privacy delete --identifier KIND:VALUE [--yes] | privacy requests [--json] | privacy retention [--days N]  (all: [--data DIR] [--workspace W])"

// cmdPrivacy carries out data subjects' requests from the command line:
// export everything held about a person, erase them, list the requests,
// and read or set the event retention.
func cmdPrivacy(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"privacy: want a subcommand: export, delete, requests or retention"}
	}
	sub, args := args[0], args[1:]
	f := newFlags("privacy "+sub, e)
	data := dataFlag(f, "cjm-data")
	ws := f.String("workspace", "", "workspace name or id (default: the first)")
	var (
		ident, format, out *string
		yes, asJSON        *bool
		days               *int
	)
	switch sub {
	case "export":
		ident = f.String("identifier", "", "the person: kind:value (email:lan@example.vn, phone:0912345678, user_id:KH001)")
		format = f.String("format", "json", "json (one document) or csv (a zip of CSV files and person.json)")
		out = f.String("out", "", "output file, or a directory to write cjm-privacy-export-ID.json|zip in (default: standard output)")
	case "delete":
		ident = f.String("identifier", "", "the person: kind:value")
		yes = f.Bool("yes", false, "erase without asking (otherwise only show what would be erased)")
	case "requests":
		asJSON = f.Bool("json", false, "print JSON")
	case "retention":
		days = f.Int("days", -1, "keep events this many days (0: forever); without it, show the policy")
	default:
		return usageError{fmt.Sprintf("privacy: unknown subcommand %q", sub)}
	}
	if err := f.parse(args); err != nil {
		return err
	}
	var id identity.Identifier
	if ident != nil {
		if *ident == "" {
			return usageError{"--identifier is required"}
		}
		var err error
		if id, err = identity.ParseIdentifier(*ident); err != nil {
			return usageError{"--identifier: " + err.Error()}
		}
	}
	if format != nil && *format != privacy.FormatJSON && *format != privacy.FormatCSV {
		return usageError{fmt.Sprintf("--format %q: want json or csv", *format)}
	}
	a, w, err := openWorkspace(ctx, e, *data, *ws)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, err := openPrivacy(ctx, a, *data)
	if err != nil {
		return err
	}
	actor := privacy.Actor("cli", cliUser())
	switch sub {
	case "export":
		return privacyExport(ctx, e, svc, w.ID, id, actor, *format, *out)
	case "delete":
		return privacyDelete(ctx, e, svc, w.ID, id, actor, *yes)
	case "requests":
		return privacyRequests(ctx, e, svc, w.ID, *asJSON)
	default:
		return privacyRetention(ctx, e, svc, w.ID, *days, actor)
	}
}

// openPrivacy returns the privacy service of the app. It is built here as
// app.Open builds the server's (same stores, same export directory); the
// suppression list it adds to is stored, so the server reads it at start.
func openPrivacy(ctx context.Context, a *app.App, dataDir string) (*privacy.Service, error) {
	return privacy.New(ctx, privacy.Config{Events: a.Events, Store: a.Ops, Graph: a.Identity, Pipeline: a.Pipeline,
		People: []privacy.PersonStore{privacy.Profiles(a.Ops)}, ExportDir: filepath.Join(dataDir, "privacy-exports")})
}

func cliUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func privacyExport(ctx context.Context, e *env, svc *privacy.Service, ws string, id identity.Identifier, actor, format, out string) error {
	var wr io.Writer = e.stdout
	var tmp *os.File
	dir := ""
	if out != "" {
		if st, err := os.Stat(out); err == nil && st.IsDir() {
			dir = out
		}
		var err error
		if dir != "" {
			tmp, err = os.CreateTemp(dir, ".cjm-privacy-export-*")
		} else {
			tmp, err = os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		}
		if err != nil {
			return err
		}
		defer tmp.Close()
		wr = tmp
	}
	r, err := svc.Export(ctx, ws, id, actor, format, wr)
	if tmp != nil {
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		return err
	}
	if out == "" {
		return nil
	}
	path := out
	if dir != "" {
		path = filepath.Join(dir, "cjm-privacy-export-"+r.ID+privacy.Ext(format))
		if err := os.Rename(tmp.Name(), path); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "exported %s to %s (request %s)\n", counts(r.Counts), path, r.ID)
	return nil
}

func privacyDelete(ctx context.Context, e *env, svc *privacy.Service, ws string, id identity.Identifier, actor string, yes bool) error {
	if !yes {
		pv, err := svc.PreviewDelete(ctx, ws, id)
		if err != nil {
			return err
		}
		profile := "no profile holds it"
		if pv.Profile != "" {
			profile = "profile " + string(pv.Profile)
		}
		fmt.Fprintf(e.stdout, "%s: %s, %d identifiers, %d events.\nNothing was erased: run again with --yes to erase them from every store.\n",
			id, profile, pv.Identifiers, pv.Events)
		return errors.New("not confirmed (--yes)")
	}
	r, err := svc.Delete(ctx, ws, id, actor)
	if err != nil {
		return fmt.Errorf("request %s: %w", r.ID, err)
	}
	fmt.Fprintf(e.stdout, "Erased: %s (request %s).\n", counts(r.Counts), r.ID)
	return nil
}

// counts writes a request's counts as "events 12, identifiers 3".
func counts(c map[string]int64) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c[k])
	}
	return strings.Join(parts, ", ")
}

func privacyRequests(ctx context.Context, e *env, svc *privacy.Service, ws string, asJSON bool) error {
	rs, err := svc.Requests(ctx, ws, 1000)
	if err != nil {
		return err
	}
	if asJSON {
		type row struct {
			ID             string           `json:"id"`
			Kind           string           `json:"kind"`
			IdentifierKind string           `json:"identifier_kind"`
			IdentifierHash string           `json:"identifier_hash"`
			Actor          string           `json:"actor"`
			Status         string           `json:"status"`
			Error          string           `json:"error,omitempty"`
			Counts         map[string]int64 `json:"counts"`
			RequestedAt    string           `json:"requested_at"`
			CompletedAt    string           `json:"completed_at,omitempty"`
		}
		out := make([]row, 0, len(rs))
		for _, r := range rs {
			x := row{ID: r.ID, Kind: r.Kind, IdentifierKind: r.IdentifierKind, IdentifierHash: r.IdentifierHash, Actor: r.Actor,
				Status: r.Status, Error: r.Error, Counts: r.Counts, RequestedAt: r.RequestedAt.Format("2006-01-02T15:04:05Z07:00")}
			if !r.CompletedAt.IsZero() {
				x.CompletedAt = r.CompletedAt.Format("2006-01-02T15:04:05Z07:00")
			}
			out = append(out, x)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREQUESTED\tKIND\tIDENTIFIER\tBY\tSTATUS\tCOUNTS")
	for _, r := range rs {
		subject := r.Hint
		if subject == "" {
			subject = r.IdentifierKind + " (hashed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.RequestedAt.Format("2006-01-02 15:04"), r.Kind, subject, r.Actor, r.Status, counts(r.Counts))
	}
	return tw.Flush()
}

func privacyRetention(ctx context.Context, e *env, svc *privacy.Service, ws string, days int, actor string) error {
	if days >= 0 {
		if err := svc.SetRetention(ctx, ws, days, actor); err != nil {
			return err
		}
	}
	p, err := svc.RetentionPolicy(ctx, ws)
	if err != nil {
		return err
	}
	if p.EventDays == 0 {
		fmt.Fprintln(e.stdout, "Events are kept forever.")
		return nil
	}
	fmt.Fprintf(e.stdout, "Events are kept %d days; older ones are deleted daily by the server.\n", p.EventDays)
	return nil
}
