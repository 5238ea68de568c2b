package web

// navItem is one entry of the left navigation.
type navItem struct {
	Key    string // catalog key of the label
	Href   string
	Soon   bool // a section that is not available yet
	Active bool
}

type navGroup struct {
	Key   string // catalog key of the heading, "" for none
	Items []navItem
}

// section is a part of the product still to come: a page says what it will
// do, and that it is not available yet.
type section struct {
	Path         string
	Title, Intro string   // catalog keys
	Features     []string // catalog keys of what it will do
}

var upcoming = []section{
	{Path: "automation", Title: "automation.title", Intro: "automation.intro", Features: []string{"automation.f1", "automation.f2", "automation.f3"}},
	{Path: "surveys", Title: "surveys.title", Intro: "surveys.intro", Features: []string{"surveys.f1", "surveys.f2", "surveys.f3"}},
}

// navigation returns the left navigation with the entry of section active.
func navigation(active string) []navGroup {
	groups := []navGroup{
		{Items: []navItem{{Key: "nav.overview", Href: "/"}}},
		{Key: "nav.group_data", Items: []navItem{
			{Key: "nav.events", Href: "/events"},
			{Key: "nav.sources", Href: "/sources"},
			{Key: "nav.rejected", Href: "/rejected"},
			{Key: "nav.data", Href: "/data"},
		}},
		{Key: "nav.group_journeys", Items: []navItem{
			{Key: "nav.journeys", Href: "/journeys"},
		}},
		{Key: "nav.group_customers", Items: []navItem{
			{Key: "nav.customers", Href: "/customers"},
			{Key: "nav.reviews", Href: "/customers/reviews"},
			{Key: "nav.privacy", Href: "/privacy"},
		}},
		// The analyses (web/analytics.go).
		{Key: "nav.group_analytics", Items: []navItem{
			{Key: "nav.analytics_home", Href: "/analytics"},
			{Key: "nav.funnels", Href: "/analytics/funnel"},
			{Key: "nav.kpis", Href: "/analytics/kpis"},
			{Key: "nav.paths", Href: "/analytics/paths"},
			{Key: "nav.retention", Href: "/analytics/retention"},
			{Key: "nav.insights", Href: "/analytics/insights"},
		}},
		{Key: "nav.group_soon", Items: []navItem{
			{Key: "nav.automation", Href: "/automation", Soon: true},
			{Key: "nav.surveys", Href: "/surveys", Soon: true},
		}},
		{Key: "nav.group_settings", Items: []navItem{
			{Key: "nav.users", Href: "/settings/users"},
			{Key: "nav.apikeys", Href: "/settings/api-keys"},
			{Key: "nav.workspace", Href: "/settings/workspace"},
		}},
	}
	for g := range groups {
		for i := range groups[g].Items {
			groups[g].Items[i].Active = groups[g].Items[i].Key == active
		}
	}
	return groups
}

func (s *server) upcomingPage(sec section) func(*req) error {
	return func(q *req) error {
		s.render(q, 200, "upcoming", q.page(sec.Title, "nav."+sec.Path, sec))
		return nil
	}
}
