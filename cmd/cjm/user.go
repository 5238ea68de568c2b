package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cjmhq/cjm/auth"
	"github.com/cjmhq/cjm/opstore"
)

func cmdUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"user: want a subcommand: add or list"}
	}
	sub, args := args[0], args[1:]
	f := newFlags("user "+sub, e)
	data := dataFlag(f, "cjm-data")
	ws := f.String("workspace", "", "workspace name or id (default: the first)")
	switch sub {
	case "add":
		email := f.String("email", "", "e-mail address (the login)")
		name := f.String("name", "", "display name")
		password := f.String("password", "", "password, at least 8 characters")
		role := f.String("role", "", "role in the workspace: owner, editor or viewer (default: owner for the first user, else viewer)")
		if err := f.parse(args); err != nil {
			return err
		}
		if !strings.Contains(*email, "@") {
			return usageError{"--email must be an e-mail address"}
		}
		if err := auth.ValidatePassword(*password); err != nil {
			return usageError{"--password: " + err.Error()}
		}
		a, w, err := openWorkspace(ctx, e, *data, *ws)
		if err != nil {
			return err
		}
		defer a.Close()
		n, err := a.Ops.UserCount(ctx)
		if err != nil {
			return err
		}
		r := opstore.Role(*role)
		if r == "" {
			r = opstore.Viewer
			if n == 0 {
				r = opstore.Owner
			}
		}
		if !r.Valid() {
			return usageError{fmt.Sprintf("--role %q: want owner, editor or viewer", *role)}
		}
		u, err := ensureUser(ctx, a.Ops, *email, *name, *password)
		if err != nil {
			return err
		}
		if err := a.Ops.SetMember(ctx, w.ID, u.ID, r); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "User %s is %s of workspace %q.\n", u.Email, r, w.Name)
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
		ms, err := a.Ops.Members(ctx, w.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.User.Email, m.User.Name, m.Role)
		}
		return tw.Flush()
	}
	return usageError{fmt.Sprintf("user: unknown subcommand %q (want add or list)", sub)}
}

// ensureUser returns the user with that e-mail, creating it with the password when new.
func ensureUser(ctx context.Context, ops opstore.Store, email, name, password string) (opstore.User, error) {
	u, err := ops.UserByEmail(ctx, email)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, opstore.ErrNotFound) {
		return u, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return u, err
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	u = opstore.User{Email: email, Name: name, PasswordHash: hash}
	if err := ops.CreateUser(ctx, &u); err != nil {
		return u, err
	}
	return u, nil
}
