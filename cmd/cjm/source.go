package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cjmhq/cjm/opstore"
)

func cmdSource(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"source: want a subcommand: create or list"}
	}
	sub, args := args[0], args[1:]
	f := newFlags("source "+sub, e)
	data := dataFlag(f, "cjm-data")
	ws := f.String("workspace", "", "workspace name or id (default: the first)")
	asJSON := f.Bool("json", false, "print JSON")
	switch sub {
	case "create":
		name := f.String("name", "", "source name")
		channel := f.String("channel", "other", "channel: "+channelList())
		if err := f.parse(args); err != nil {
			return err
		}
		if strings.TrimSpace(*name) == "" {
			return usageError{"--name is required"}
		}
		if !opstore.Channel(*channel).Valid() {
			return usageError{fmt.Sprintf("--channel %q is not one of %s", *channel, channelList())}
		}
		a, w, err := openWorkspace(ctx, e, *data, *ws)
		if err != nil {
			return err
		}
		defer a.Close()
		s := opstore.Source{WorkspaceID: w.ID, Name: strings.TrimSpace(*name), Channel: opstore.Channel(*channel)}
		if err := a.Ops.CreateSource(ctx, &s); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(sourceJSON(s))
		}
		fmt.Fprintf(e.stdout, "Created source %q (%s) in workspace %q.\nWrite key: %s\n", s.Name, s.Channel, w.Name, s.WriteKey)
		return nil
	case "list":
		if err := f.parse(args); err != nil {
			return err
		}
		a, w, err := openWorkspace(ctx, e, *data, *ws)
		if err != nil {
			return err
		}
		defer a.Close()
		srcs, err := a.Ops.Sources(ctx, w.ID)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]map[string]any, 0, len(srcs))
			for _, s := range srcs {
				out = append(out, sourceJSON(s))
			}
			return json.NewEncoder(e.stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCHANNEL\tWRITE KEY")
		for _, s := range srcs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Name, s.Channel, s.WriteKey)
		}
		return tw.Flush()
	}
	return usageError{fmt.Sprintf("source: unknown subcommand %q (want create or list)", sub)}
}

func sourceJSON(s opstore.Source) map[string]any {
	return map[string]any{"id": s.ID, "workspace_id": s.WorkspaceID, "name": s.Name, "channel": s.Channel,
		"write_key": s.WriteKey, "disabled": s.Disabled, "created_at": s.CreatedAt}
}

func channelList() string {
	var cs []string
	for _, c := range opstore.Channels {
		cs = append(cs, string(c))
	}
	return strings.Join(cs, ", ")
}
