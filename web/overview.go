package web

import (
	"net/http"
	"time"

	"github.com/cjmhq/cjm/eventstore"
	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/ingest"
)

type overviewData struct {
	Today, Week, Total int64
	Sources, Rejected  int
	Members            int
	Stats              *ingest.Stats
	Behind             uint64 // messages in the log not yet in the event store
	Chart              chart
	Checklist          []checkItem
	Done               int // checklist items done
	FirstSource        string
}

type checkItem struct {
	Title, Text string // catalog keys
	Href        string
	Done        bool
}

// chart is a bar chart of events per day, drawn as inline SVG.
type chart struct {
	Width, Height float64
	Top, Bottom   float64 // plot area edges (y)
	Max           int64
	Bars          []bar
}

type bar struct {
	Label, Long string // day labels: short under the bar, long for the table and tooltip
	Count       int64
	X, Y, W, H  float64
	LabelX      float64
	Today       bool
}

const chartDays = 14

func (s *server) overview(q *req) error {
	ws := q.ws.ID
	now := s.now().In(q.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, q.loc)
	count := func(from, to time.Time) (int64, error) {
		return s.events.Count(q.ctx, eventstore.Filter{WorkspaceID: ws, From: from, To: to})
	}
	var d overviewData
	var err error
	if d.Total, err = count(time.Time{}, time.Time{}); err != nil {
		return err
	}
	if d.Today, err = count(today, time.Time{}); err != nil {
		return err
	}
	if d.Week, err = count(today.AddDate(0, 0, -6), time.Time{}); err != nil {
		return err
	}
	counts := make([]int64, chartDays)
	days := make([]time.Time, chartDays)
	for i := range chartDays {
		day := today.AddDate(0, 0, i-chartDays+1)
		days[i] = day
		if counts[i], err = count(day, day.AddDate(0, 0, 1)); err != nil {
			return err
		}
	}
	d.Chart = newChart(q.lang, days, counts)
	sources, err := s.ops.Sources(q.ctx, ws)
	if err != nil {
		return err
	}
	sortSources(sources)
	d.Sources = len(sources)
	if len(sources) > 0 {
		d.FirstSource = "/sources/" + sources[0].ID
	}
	if d.Rejected, err = s.ops.RejectedCount(q.ctx, ws); err != nil {
		return err
	}
	members, err := s.ops.Members(q.ctx, ws)
	if err != nil {
		return err
	}
	d.Members = len(members)
	if s.stats != nil {
		st := s.stats()
		d.Stats = &st
		if st.LogSeq > st.LoadedSeq {
			d.Behind = st.LogSeq - st.LoadedSeq
		}
	}
	sendHref := "/sources"
	if d.FirstSource != "" {
		sendHref = d.FirstSource
	}
	d.Checklist = []checkItem{
		{Title: "overview.check_source.title", Text: "overview.check_source.text", Href: "/sources", Done: d.Sources > 0},
		{Title: "overview.check_event.title", Text: "overview.check_event.text", Href: sendHref, Done: d.Total > 0},
		{Title: "overview.check_team.title", Text: "overview.check_team.text", Href: "/settings/users", Done: d.Members > 1},
	}
	for _, c := range d.Checklist {
		if c.Done {
			d.Done++
		}
	}
	s.render(q, http.StatusOK, "overview", q.page("overview.title", "nav.overview", d))
	return nil
}

// newChart lays out one bar per day.
func newChart(lang string, days []time.Time, counts []int64) chart {
	c := chart{Width: 700, Height: 200, Top: 24, Bottom: 170}
	for _, n := range counts {
		c.Max = max(c.Max, n)
	}
	scale := c.Max
	if scale == 0 {
		scale = 1
	}
	const left, right = 8.0, 8.0
	slot := (c.Width - left - right) / float64(len(days))
	for i, day := range days {
		h := (c.Bottom - c.Top) * float64(counts[i]) / float64(scale)
		if counts[i] > 0 && h < 2 {
			h = 2 // a day with events is always visible
		}
		x := left + float64(i)*slot
		c.Bars = append(c.Bars, bar{
			Label: day.Format(i18n.T(lang, "fmt.day")), Long: day.Format(i18n.T(lang, "fmt.date")),
			Count: counts[i], X: x + slot*0.18, W: slot * 0.64, Y: c.Bottom - h, H: h,
			LabelX: x + slot/2, Today: i == len(days)-1,
		})
	}
	return c
}
