package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cjmhq/cjm/identity"
)

// The merge review queue (merges a guard stopped, for a person to decide)
// and a profile's merge log, with split.

const reviewsPageSize = 100

type reviewsData struct {
	Decided bool // the tab of decided reviews
	Reviews []reviewRow
}

type reviewRow struct {
	identity.Review
	AIDs, BIDs   []identity.Linked // the two profiles' identifiers
	AGone, BGone bool              // the profile is no more (erased, or merged since)
	EventsLink   string            // the live events of the identifier that linked them, "" when it names no actor
}

func (p *privacyPages) reviewsPage(q *req) error {
	d := reviewsData{Decided: q.r.URL.Query().Get("tab") == "decided"}
	g := p.svc.Graph()
	rs, err := g.Reviews(q.ctx, q.ws.ID, !d.Decided, reviewsPageSize)
	if err != nil {
		return err
	}
	for _, r := range rs {
		row := reviewRow{Review: r}
		if row.AIDs, err = g.Identifiers(q.ctx, q.ws.ID, r.A); errors.Is(err, identity.ErrNotFound) {
			row.AGone = true
		} else if err != nil {
			return err
		}
		if row.BIDs, err = g.Identifiers(q.ctx, q.ws.ID, r.B); errors.Is(err, identity.ErrNotFound) {
			row.BGone = true
		} else if err != nil {
			return err
		}
		row.EventsLink = actorEventsLink(r.By)
		d.Reviews = append(d.Reviews, row)
	}
	s := p.server
	s.render(q, http.StatusOK, "reviews", q.page("reviews.title", "nav.reviews", d))
	return nil
}

// actorEventsLink is the live events page filtered to an identifier that
// is a userId or anonymousId, else "".
func actorEventsLink(id identity.Identifier) string {
	if id.Kind != identity.UserID && id.Kind != identity.AnonymousID {
		return ""
	}
	return withQuery("/events", eventFilter{User: id.Value}.query())
}

func (p *privacyPages) decideReview(approve bool) func(*req) error {
	return func(q *req) error {
		id, err := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
		if err != nil {
			return errNotFound
		}
		g := p.svc.Graph()
		actor := staffName(q)
		flash := "flash.review_rejected"
		if approve {
			err, flash = g.Approve(q.ctx, q.ws.ID, id, actor), "flash.review_approved"
		} else {
			err = g.Reject(q.ctx, q.ws.ID, id, actor)
		}
		switch {
		case errors.Is(err, identity.ErrNotFound), errors.Is(err, identity.ErrNoReview):
			return errNotFound
		case err != nil:
			p.log.Warn("deciding a merge review", "review", id, "err", err)
			return q.redirect("/customers/reviews", "flash.review_failed")
		}
		return q.redirect("/customers/reviews", flash)
	}
}

type mergesData struct {
	Profile identity.ProfileID
	Merges  []mergeRow
}

type mergeRow struct {
	identity.Merge
	EventsLink string
}

func (p *privacyPages) mergesPage(q *req) error {
	id := identity.ProfileID(q.r.PathValue("id"))
	g := p.svc.Graph()
	if _, err := g.Identifiers(q.ctx, q.ws.ID, id); errors.Is(err, identity.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	ms, err := g.Merges(q.ctx, q.ws.ID, id)
	if err != nil {
		return err
	}
	d := mergesData{Profile: id}
	for _, m := range ms {
		d.Merges = append(d.Merges, mergeRow{Merge: m, EventsLink: actorEventsLink(m.By)})
	}
	s := p.server
	s.render(q, http.StatusOK, "merges", q.page("merges.title", "nav.customers", d))
	return nil
}

func (p *privacyPages) splitMerge(q *req) error {
	id := q.r.PathValue("id")
	merge, err := strconv.ParseInt(q.r.PathValue("merge"), 10, 64)
	if err != nil {
		return errNotFound
	}
	back := "/customers/" + id + "/merges"
	err = p.svc.Graph().Split(q.ctx, q.ws.ID, merge, staffName(q))
	switch {
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, identity.ErrNoMerge):
		return errNotFound
	case err != nil:
		p.log.Warn("splitting a merge", "merge", merge, "err", err)
		return q.redirect(back, "flash.split_failed")
	}
	return q.redirect(back, "flash.split_done")
}
