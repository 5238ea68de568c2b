package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cjmhq/cjm/app"
	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/export"
	"github.com/cjmhq/cjm/fileimport"
	"github.com/cjmhq/cjm/opstore"
)

func cmdImport(ctx context.Context, e *env, args []string) error {
	f := newFlags("import", e)
	data := dataFlag(f, "cjm-data")
	ws := f.String("workspace", "", "workspace name or id (default: the first)")
	source := f.String("source", "Import", "source the events are recorded under (created if missing)")
	channel := f.String("channel", "other", "channel of the source when it is created: "+channelList())
	isCSV := f.Bool("csv", false, "the files are CSV (default: by extension; .csv is CSV, anything else JSONL)")
	mapping := f.String("map", "", "CSV column mapping: target=column,... (targets: messageId type userId anonymousId event name groupId previousId timestamp properties.K traits.K context.K)")
	timeFormat := f.String("time-format", "", "CSV time layout, strftime (%d/%m/%Y %H:%M) or Go (02/01/2006 15:04); default: auto-detect")
	tz := f.String("timezone", "", "time zone of CSV times without one (default: the workspace's)")
	rejects := f.String("rejects", "", "file for rejected lines (default: FILE.rejected next to each input)")
	asJSON := f.Bool("json", false, "print the summary as JSON")
	quiet := f.Bool("quiet", false, "no progress output")
	strict := f.Bool("strict", false, "exit with status 1 when any line was rejected (the valid lines are stored either way)")
	if err := f.parse(args); err != nil {
		return err
	}
	files := f.Args()
	if len(files) == 0 {
		return usageError{"give at least one FILE to import"}
	}
	var mp fileimport.Mapping
	if *mapping != "" {
		var err error
		if mp, err = fileimport.ParseMapping(*mapping); err != nil {
			return usageError{"--map: " + err.Error()}
		}
	}
	for _, name := range files {
		if _, err := os.Stat(name); err != nil {
			return err
		}
	}
	a, w, err := openWorkspace(ctx, e, *data, *ws)
	if err != nil {
		return err
	}
	defer a.Close()
	src, err := sourceNamed(ctx, a, w, *source, opstore.Channel(*channel))
	if err != nil {
		return err
	}
	zone := *tz
	if zone == "" {
		zone = w.TimeZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return usageError{fmt.Sprintf("--timezone %q: %v", zone, err)}
	}
	var failed bool
	var summaries []map[string]any
	for _, name := range files {
		format := fileimport.JSONL
		if *isCSV || strings.EqualFold(filepath.Ext(name), ".csv") {
			format = fileimport.CSV
		}
		if format == fileimport.CSV && len(mp) == 0 {
			return usageError{"CSV import needs --map 'userId=COLUMN,event=COLUMN,timestamp=COLUMN,...'"}
		}
		sum, rejPath, err := importFile(ctx, e, a, name, fileimport.Options{
			Pipeline: a.Pipeline, WorkspaceID: w.ID, SourceID: src.ID, Format: format, Name: filepath.Base(name),
			Mapping: mp, TimeFormat: *timeFormat, Location: loc,
		}, *rejects, *quiet || *asJSON)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if *asJSON {
			summaries = append(summaries, map[string]any{"file": name, "lines": sum.Lines, "accepted": sum.Accepted,
				"duplicates": sum.Duplicates, "rejected": sum.Rejected, "rejects_file": rejPath, "errors": sum.Errors,
				"ingest_seconds": sum.Ingested.Seconds(), "seconds": sum.Elapsed.Seconds()})
		} else {
			fmt.Fprintf(e.stdout, "%s: %d lines, %d stored, %d duplicates skipped, %d rejected; durably ingested in %.1fs (%.0f lines/s), queryable after %.1fs\n",
				name, sum.Lines, sum.Accepted, sum.Duplicates, sum.Rejected, sum.Ingested.Seconds(),
				float64(sum.Lines)/max(sum.Ingested.Seconds(), 1e-9), sum.Elapsed.Seconds())
			for i, le := range sum.Errors {
				if i == 20 {
					fmt.Fprintf(e.stdout, "  ... %d more, see %s\n", sum.Rejected-20, rejPath)
					break
				}
				fmt.Fprintf(e.stdout, "  %s\n", le.String())
			}
			if sum.Rejected > 0 {
				fmt.Fprintf(e.stdout, "  rejected lines written to %s\n", rejPath)
			}
		}
		failed = failed || sum.Rejected > 0
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(summaries); err != nil {
			return err
		}
	}
	if failed && *strict {
		return errors.New("some lines were rejected (the valid lines were stored)")
	}
	return nil
}

func importFile(ctx context.Context, e *env, a *app.App, name string, o fileimport.Options, rejects string, quiet bool) (fileimport.Summary, string, error) {
	in, err := os.Open(name)
	if err != nil {
		return fileimport.Summary{}, "", err
	}
	defer in.Close()
	st, _ := in.Stat()
	if rejects == "" {
		rejects = name + ".rejected"
	}
	rf := &fileimport.RejectsFile{Path: rejects, Perm: 0o644}
	defer rf.Close()
	o.Rejects = rf
	if !quiet {
		o.Progress = func(p fileimport.Progress) {
			pct := ""
			if st != nil && st.Size() > 0 {
				pct = fmt.Sprintf(" (%.0f%%)", 100*float64(p.Bytes)/float64(st.Size()))
			}
			fmt.Fprintf(e.stderr, "\r%s: %d lines%s, %d stored, %d rejected, %.0f lines/s   ", filepath.Base(name), p.Lines, pct,
				p.Accepted, p.Rejected, float64(p.Lines)/max(p.Elapsed.Seconds(), 1e-9))
			if p.Done {
				fmt.Fprintln(e.stderr)
			}
		}
	}
	start := time.Now()
	// Ingest first with both cores, then load: nothing reads the event
	// store while the CLI holds the data directory.
	a.Pipeline.PauseLoading()
	sum, err := fileimport.Import(ctx, in, o)
	a.Pipeline.ResumeLoading()
	if err != nil {
		return sum, rejects, err
	}
	if quiet {
		err = a.Pipeline.Flush(ctx)
	} else {
		err = waitLoaded(ctx, e, a)
	}
	sum.Elapsed = time.Since(start)
	return sum, rejects, err
}

func sourceNamed(ctx context.Context, a *app.App, w opstore.Workspace, name string, ch opstore.Channel) (opstore.Source, error) {
	s, err := a.Ops.SourceByName(ctx, w.ID, name)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, opstore.ErrNotFound) {
		return s, err
	}
	if !ch.Valid() {
		return s, usageError{fmt.Sprintf("--channel %q is not one of %s", ch, channelList())}
	}
	s = opstore.Source{WorkspaceID: w.ID, Name: name, Channel: ch}
	return s, a.Ops.CreateSource(ctx, &s)
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	f := newFlags("export", e)
	data := dataFlag(f, "cjm-data")
	ws := f.String("workspace", "", "only this workspace (name or id; default: all)")
	format := f.String("format", "jsonl", "jsonl or csv")
	out := f.String("out", "", "output file (default: standard output)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError{fmt.Sprintf("--format %q: want jsonl or csv", *format)}
	}
	a, err := openApp(ctx, e, *data)
	if err != nil {
		return err
	}
	defer a.Close()
	filter := eventstore.Filter{}
	if *ws != "" {
		w, err := workspace(ctx, a, *ws)
		if err != nil {
			return err
		}
		filter.WorkspaceID = w.ID
	}
	var wr io.Writer = e.stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer file.Close()
		wr = file
	}
	// Acknowledged messages still in the log (after a crash, or a stop that
	// could not wait) are loaded first, so the export holds all of them.
	if err := waitLoaded(ctx, e, a); err != nil {
		return err
	}
	n, err := export.Write(ctx, a.Events, filter, *format, wr)
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stderr, "exported %d messages to %s\n", n, *out)
	}
	return nil
}
