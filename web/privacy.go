package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cjmhq/cjm/identity"
	"github.com/cjmhq/cjm/opstore"
	"github.com/cjmhq/cjm/privacy"
)

// The privacy pages: data subjects' requests (export and erasure, with
// their audit records), the event retention policy, the merge review queue,
// a profile's merge log, and the consent and privacy slots of the profile
// page.
//
// Who may do what (the law asks that only authorised staff handle personal
// data requests): the privacy page and exports are for editors and owners;
// erasures and the retention policy for owners only. Viewers do not see
// the privacy page. Reviews, merge logs and consent are read by every
// member; approving, rejecting, splitting and recording consent need an
// editor.

// privacyPages serve the privacy pages with the privacy service.
type privacyPages struct {
	*server
	svc *privacy.Service
}

// privacyRoutes registers the privacy pages and returns them, for the
// profile page's slots (see profileSlots).
func (s *server) privacyRoutes(svc *privacy.Service) *privacyPages {
	p := &privacyPages{server: s, svc: svc}
	s.route("GET /privacy", member, opstore.Editor, p.privacyPage)
	s.route("POST /privacy/export", member, opstore.Editor, p.exportPerson)
	s.route("GET /privacy/requests/{id}/download", member, opstore.Editor, p.downloadExport)
	s.route("POST /privacy/delete", member, opstore.Owner, p.deletePerson)
	s.route("POST /privacy/retention", member, opstore.Owner, p.setRetention)

	s.route("GET /customers/reviews", member, "", p.reviewsPage)
	s.route("POST /customers/reviews/{id}/approve", member, opstore.Editor, p.decideReview(true))
	s.route("POST /customers/reviews/{id}/reject", member, opstore.Editor, p.decideReview(false))
	s.route("GET /customers/{id}/merges", member, "", p.mergesPage)
	s.route("POST /customers/{id}/merges/{merge}/split", member, opstore.Editor, p.splitMerge)
	s.route("POST /customers/{id}/consent", member, opstore.Editor, p.recordConsent)
	return p
}

type privacyData struct {
	Requests   []requestRow
	Form       *form // export or erase: identifier, format
	RetForm    *form // days
	Retention  opstore.RetentionPolicy
	Suppressed int
	Confirm    *confirmData // set while an erasure waits for confirmation
}

type requestRow struct {
	opstore.PrivacyRequest
	Counts []countItem
}

type countItem struct {
	Key  string // catalog key of the store's name, "" for one it does not know
	Name string
	N    int64
}

type confirmData struct {
	Identifier string // as entered
	Preview    privacy.Preview
	Form       *form
}

// countOrder are the stores whose counts the page names, in order, and
// countKeys the catalog keys of their names.
var (
	countOrder = []string{"events", "identifiers", "merges", "consent_records", "rejected", "profile", "suppressed", "exports"}
	countKeys  = map[string]string{
		"events": "privacy.count_events", "identifiers": "privacy.count_identifiers", "merges": "privacy.count_merges",
		"consent_records": "privacy.count_consent_records", "rejected": "privacy.count_rejected", "profile": "privacy.count_profile",
		"suppressed": "privacy.count_suppressed", "exports": "privacy.count_exports",
	}
)

func (p *privacyPages) privacyPage(q *req) error {
	f := newForm(nil)
	f.Values.Set("format", privacy.FormatJSON)
	return p.renderPrivacy(q, f, nil, nil, http.StatusOK)
}

func (p *privacyPages) renderPrivacy(q *req, f, rf *form, confirm *confirmData, status int) error {
	d := privacyData{Form: f, RetForm: rf, Confirm: confirm}
	var err error
	if d.Retention, err = p.svc.RetentionPolicy(q.ctx, q.ws.ID); err != nil {
		return err
	}
	if d.RetForm == nil {
		d.RetForm = newForm(nil)
		d.RetForm.Values.Set("days", strconv.Itoa(d.Retention.EventDays))
	}
	if d.Suppressed, err = p.svc.SuppressedCount(q.ctx, q.ws.ID); err != nil {
		return err
	}
	rs, err := p.svc.Requests(q.ctx, q.ws.ID, 200)
	if err != nil {
		return err
	}
	for _, r := range rs {
		row := requestRow{PrivacyRequest: r}
		names := make([]string, 0, len(r.Counts))
		for k := range r.Counts {
			names = append(names, k)
		}
		slices.SortFunc(names, func(a, b string) int {
			ia, ib := slices.Index(countOrder, a), slices.Index(countOrder, b)
			if ia < 0 {
				ia = len(countOrder)
			}
			if ib < 0 {
				ib = len(countOrder)
			}
			if ia != ib {
				return ia - ib
			}
			return strings.Compare(a, b)
		})
		for _, k := range names {
			if r.Counts[k] != 0 {
				row.Counts = append(row.Counts, countItem{Key: countKeys[k], Name: k, N: r.Counts[k]})
			}
		}
		d.Requests = append(d.Requests, row)
	}
	s := p.server
	s.render(q, status, "privacy", q.page("privacy.title", "nav.privacy", d))
	return nil
}

// parseIdentifier reads an identifier as staff type it: "kind:value", or a
// bare e-mail address or phone number.
func parseIdentifier(s string) (identity.Identifier, error) {
	s = strings.TrimSpace(s)
	if kind, _, ok := strings.Cut(s, ":"); ok {
		if _, known := identity.ParseKind(kind); known {
			return identity.ParseIdentifier(s)
		}
	}
	switch {
	case strings.Contains(s, "@"):
		return identity.ParseIdentifier("email:" + s)
	case s != "" && strings.Trim(s, "+0123456789 .-()") == "":
		return identity.ParseIdentifier("phone:" + s)
	}
	return identity.ParseIdentifier(s)
}

// staffName names the user in audit records and consent sources.
func staffName(q *req) string {
	if q.user.Name != "" {
		return q.user.Name
	}
	return q.user.Email
}

func (p *privacyPages) exportPerson(q *req) error {
	f := newForm(q.r.PostForm)
	id, err := parseIdentifier(f.Get("identifier"))
	if err != nil {
		f.Fail("identifier", "err.identifier")
	}
	format := f.Get("format")
	if format != privacy.FormatJSON && format != privacy.FormatCSV {
		f.Fail("format", "err.privacy_format")
	}
	if !f.OK() {
		return p.renderPrivacy(q, f, nil, nil, http.StatusUnprocessableEntity)
	}
	if _, err := p.svc.ExportFile(q.ctx, q.ws.ID, id, privacy.Actor("staff", q.user.Email), format); err != nil {
		p.log.Error("privacy export failed", "workspace", q.ws.ID, "err", err)
		return q.redirect("/privacy", "flash.privacy_failed")
	}
	return q.redirect("/privacy", "flash.privacy_exported")
}

func (p *privacyPages) downloadExport(q *req) error {
	f, r, err := p.svc.OpenExport(q.ctx, q.ws.ID, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := q.w.Header()
	ext := privacy.Ext(privacy.FormatJSON)
	h.Set("Content-Type", "application/json; charset=utf-8")
	if strings.HasSuffix(r.File, ".zip") {
		ext = ".zip"
		h.Set("Content-Type", "application/zip")
	}
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="cjm-privacy-export-%s%s"`, r.ID, ext))
	h.Set("Cache-Control", "no-store")
	p.log.Info("privacy export downloaded", "workspace", q.ws.ID, "request", r.ID, "user", q.user.ID)
	_, err = io.Copy(q.w, f)
	return err
}

// deletePerson erases a person in two steps: the first post shows what
// will be erased and asks to type the identifier again; the second, with
// the identifier retyped in "confirm", erases.
func (p *privacyPages) deletePerson(q *req) error {
	f := newForm(q.r.PostForm)
	f.Values.Set("format", privacy.FormatJSON)
	entered := f.Get("identifier")
	id, err := parseIdentifier(entered)
	if err != nil {
		f.Fail("identifier", "err.identifier")
		return p.renderPrivacy(q, f, nil, nil, http.StatusUnprocessableEntity)
	}
	if _, asked := q.r.PostForm["confirm"]; !asked {
		pv, err := p.svc.PreviewDelete(q.ctx, q.ws.ID, id)
		if err != nil {
			return err
		}
		return p.renderPrivacy(q, f, nil, &confirmData{Identifier: entered, Preview: pv, Form: newForm(nil)}, http.StatusOK)
	}
	cf := newForm(q.r.PostForm)
	again, err := parseIdentifier(cf.Get("confirm"))
	if err != nil || again != id {
		cf.Fail("confirm", "err.confirm_identifier")
		pv, err := p.svc.PreviewDelete(q.ctx, q.ws.ID, id)
		if err != nil {
			return err
		}
		return p.renderPrivacy(q, f, nil, &confirmData{Identifier: entered, Preview: pv, Form: cf}, http.StatusUnprocessableEntity)
	}
	if _, err := p.svc.Delete(q.ctx, q.ws.ID, id, privacy.Actor("staff", q.user.Email)); err != nil {
		p.log.Error("privacy erasure failed", "workspace", q.ws.ID, "err", err)
		return q.redirect("/privacy", "flash.privacy_failed")
	}
	return q.redirect("/privacy", "flash.privacy_deleted")
}

// maxRetentionDays bounds the retention policy (100 years).
const maxRetentionDays = 36500

func (p *privacyPages) setRetention(q *req) error {
	rf := newForm(q.r.PostForm)
	days, err := strconv.Atoi(rf.Get("days"))
	if err != nil || days < 0 || days > maxRetentionDays {
		rf.Fail("days", "err.retention_days")
		f := newForm(nil)
		f.Values.Set("format", privacy.FormatJSON)
		return p.renderPrivacy(q, f, rf, nil, http.StatusUnprocessableEntity)
	}
	if err := p.svc.SetRetention(q.ctx, q.ws.ID, days, staffName(q)); err != nil {
		return err
	}
	return q.redirect("/privacy", "flash.retention_saved")
}

// profilePrivacy is what the profile page's consent and privacy slots show
// (the "profile_consent" and "profile_privacy" templates read it from
// .Data.Privacy).
type profilePrivacy struct {
	Profile  identity.ProfileID
	Consent  []privacy.ConsentState
	Merges   int    // merge log entries
	Identity string // an identifier to prefill the privacy requests form with
}

// profileSlots reads the consent and the privacy facts of a profile for
// its page.
func (p *privacyPages) profileSlots(q *req, id identity.ProfileID) (*profilePrivacy, error) {
	d := &profilePrivacy{Profile: id}
	var err error
	if d.Consent, err = p.svc.Consent(q.ctx, q.ws.ID, id); err != nil {
		return nil, err
	}
	ms, err := p.svc.Graph().Merges(q.ctx, q.ws.ID, id)
	if err != nil {
		return nil, err
	}
	d.Merges = len(ms)
	ids, err := p.svc.Graph().Identifiers(q.ctx, q.ws.ID, id)
	if err != nil {
		return nil, err
	}
	for _, l := range ids {
		if !l.Shared {
			d.Identity = l.String()
			break
		}
	}
	return d, nil
}

func (p *privacyPages) recordConsent(q *req) error {
	id := identity.ProfileID(q.r.PathValue("id"))
	f := newForm(q.r.PostForm)
	purpose, ok := privacy.ParsePurpose(f.Get("purpose"))
	granted := f.Get("granted")
	back := "/customers/" + string(id)
	if !ok || (granted != "yes" && granted != "no") {
		return q.redirect(back, "flash.consent_invalid")
	}
	if _, err := p.svc.Graph().Identifiers(q.ctx, q.ws.ID, id); errors.Is(err, identity.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	_, err := p.svc.RecordConsent(q.ctx, q.ws.ID, id, privacy.ConsentInput{Purpose: purpose, Granted: granted == "yes",
		TextVersion: f.Get("text_version"), Staff: staffName(q)})
	if errors.Is(err, privacy.ErrNoActor) {
		return q.redirect(back, "flash.consent_no_actor")
	}
	if err != nil {
		return err
	}
	return q.redirect(back, "flash.consent_recorded")
}
