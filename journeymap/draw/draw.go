// Package draw renders a customer journey map (a journeymap.Map) as an
// image to print or share: SVG, PNG and PDF.
//
// All three come from one layout: the map is measured with the embedded
// Noto Sans fonts and laid out once as a small display list (rectangles,
// paths, text lines, the persona picture), which three small backends draw.
// Text therefore wraps identically in every format.
//
// The drawing has a header (name, state, goal, departments, persona), then
// the grid: a column per stage, with its name, customer goal and how many of
// its cards are backed by evidence; and a row per lane: what was measured
// (Options.Measures), the touchpoints, actions, thoughts, the emotion curve,
// pain points, opportunities, solutions, resources had and needed, owner,
// KPIs and moments of truth. A lane empty in every stage is left out, except
// touchpoints and emotion. A legend closes the drawing.
//
// SVG keeps text as text (searchable, read by screen readers). PNG is drawn
// at twice the layout size. PDF pages are landscape, A3 or, for a wide map,
// the smallest larger A size on which body text stays about 8 pt: the
// drawing is scaled to the page's width (never enlarged), and a drawing
// taller than a page continues on further pages, cut between rows, each
// repeating the stage headers.
//
// The output is deterministic: the same map and options give the same bytes.
package draw

import (
	"errors"
	"io"
	"math"
	"runtime"
	"slices"

	"github.com/cjmhq/cjm/i18n"
	"github.com/cjmhq/cjm/journeymap"
)

// Options tune a drawing.
type Options struct {
	// T translates the labels of the drawing, the keys listed in Keys; nil,
	// or a T that returns "" or the key itself, gives English.
	T func(key string) string
	// Measures holds measured text per stage or touchpoint key, such as
	// "12,345 customers · 41%"; missing keys draw a placeholder.
	Measures map[string]string
	// Generated is an optional footer, such as "cjm · exported 2026-11-22 14:05".
	Generated string
}

// SVG writes m as an SVG document.
func SVG(w io.Writer, m *journeymap.Map, o Options) error {
	sc, err := layout(m, o)
	if err != nil {
		return err
	}
	return writeSVG(w, sc)
}

// PNG writes m as a PNG image at twice the layout size (less for a map so
// large that the image would pass maxPixels).
func PNG(w io.Writer, m *journeymap.Map, o Options) error {
	sc, err := layout(m, o)
	if err != nil {
		return err
	}
	scale := min(2, math.Sqrt(maxPixels/(sc.w*sc.h)))
	return writePNG(w, sc, scale)
}

// maxPixels bounds the size of a PNG (4 bytes a pixel in memory).
const maxPixels = 40e6

// PDF writes m as a PDF document of landscape pages (A3 unless the map is
// too wide for it).
func PDF(w io.Writer, m *journeymap.Map, o Options) error {
	sc, err := layout(m, o)
	if err != nil {
		return err
	}
	return writePDF(w, sc)
}

// Translation keys of the labels in a drawing. Most are the keys the web
// UI's catalog uses for the same words; the "mapdraw." ones are the
// drawing's own.
const (
	KeyStateCurrent        = "map.state_current"
	KeyStateFuture         = "map.state_future"
	KeyGoalWhy             = "map.goal_why"
	KeyGoalAchieve         = "map.goal_achieve"
	KeyGoalAudience        = "map.goal_audience"
	KeyDepartments         = "map.departments"
	KeyComparePersona      = "map.compare_persona"
	KeyUnplanned           = "map.unplanned"
	KeyPersonaGoals        = "persona.goals"
	KeyPersonaFrustrations = "persona.frustrations"

	KeyCompareTo       = "mapdraw.compare_to"
	KeyCustomer        = "mapdraw.customer"
	KeyBacked          = "mapdraw.backed"
	KeyLegend          = "mapdraw.legend"
	KeyLegendEmotion   = "mapdraw.legend.emotion"
	KeyLegendNoEmotion = "mapdraw.legend.no_emotion"
	KeyLegendEvidence  = "mapdraw.legend.evidence"
	KeyLegendUnplanned = "mapdraw.legend.unplanned"
	KeyLegendMoment    = "mapdraw.legend.moment"

	// Lane titles are KeyLane + the lane: "measured", "touchpoints",
	// "emotion", "owner" and each of journeymap.LaneKeys.
	KeyLane = "lane."
	// Channel names are KeyChannel + each of journeymap.Channels.
	KeyChannel = "tpchannel."
	// Service names are KeyService + each of journeymap.Services; a
	// service of the map's own is drawn as written.
	KeyService = "service."
)

// english is the built-in text of every key.
var english = map[string]string{
	KeyStateCurrent:        "Current (as-is)",
	KeyStateFuture:         "Future (to-be)",
	KeyGoalWhy:             "Why this map",
	KeyGoalAchieve:         "What it should achieve",
	KeyGoalAudience:        "Audience",
	KeyDepartments:         "Departments",
	KeyComparePersona:      "Compared persona",
	KeyUnplanned:           "unplanned",
	KeyPersonaGoals:        "Goals",
	KeyPersonaFrustrations: "Frustrations",

	KeyCompareTo:       "Compared with",
	KeyCustomer:        "Customer",
	KeyBacked:          "backed",
	KeyLegend:          "Legend",
	KeyLegendEmotion:   "Emotion",
	KeyLegendNoEmotion: "no emotion recorded",
	KeyLegendEvidence:  "backed by evidence (number of sources)",
	KeyLegendUnplanned: "unplanned touchpoint",
	KeyLegendMoment:    "moment of truth",

	KeyLane + "measured":         "Measured",
	KeyLane + "touchpoints":      "Touchpoints",
	KeyLane + "actions":          "Customer actions",
	KeyLane + "thoughts":         "Thoughts",
	KeyLane + "emotion":          "Emotion",
	KeyLane + "pain_points":      "Pain points",
	KeyLane + "opportunities":    "Opportunities",
	KeyLane + "solutions":        "Solutions",
	KeyLane + "resources_have":   "Resources we have",
	KeyLane + "resources_need":   "Resources we need",
	KeyLane + "owner":            "Owner",
	KeyLane + "kpis":             "KPIs",
	KeyLane + "moments_of_truth": "Moments of truth",

	KeyChannel + "website":       "Website",
	KeyChannel + "app":           "App",
	KeyChannel + "marketplace":   "Marketplace",
	KeyChannel + "social":        "Social network",
	KeyChannel + "zalo":          "Zalo",
	KeyChannel + "store":         "Store",
	KeyChannel + "hotline":       "Hotline",
	KeyChannel + "email":         "Email",
	KeyChannel + "sms":           "SMS",
	KeyChannel + "ads":           "Ads",
	KeyChannel + "events":        "Events",
	KeyChannel + "word_of_mouth": "Word of mouth",
	KeyChannel + "other":         "Other",

	KeyService + "information": "Product information",
	KeyService + "booking":     "Booking",
	KeyService + "comparing":   "Comparing",
	KeyService + "prices":      "Prices",
	KeyService + "offers":      "Offers",
	KeyService + "support":     "Support",
	KeyService + "trying":      "Trying",
	KeyService + "ordering":    "Ordering",
	KeyService + "delivery":    "Delivery",
}

// Keys lists every translation key a drawing may ask Options.T for.
var Keys = func() []string {
	keys := make([]string, 0, len(english))
	for k := range english {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}()

// tr returns the text of key through t, falling back to English.
func tr(t func(string) string, key string) string {
	if t != nil {
		if s := t(key); s != "" && s != key {
			return s
		}
	}
	if s, ok := english[key]; ok {
		return s
	}
	return key
}

// Formats lists the formats Write draws in.
var Formats = []string{"svg", "png", "pdf"}

// ErrFormat is returned by Write for a format not in Formats.
var ErrFormat = errors.New("draw: unknown format (svg, png or pdf)")

// drawing bounds how many drawings run at once: a big map takes seconds of
// CPU and up to ~160 MB for a PNG, and exports can be public (share links).
var drawing = make(chan struct{}, max(1, runtime.NumCPU()))

// Write draws m in format (svg, png or pdf) to w. At most one drawing per
// CPU runs at a time; the others wait their turn.
func Write(w io.Writer, format string, m *journeymap.Map, o Options) error {
	drawing <- struct{}{}
	defer func() { <-drawing }()
	switch format {
	case "svg":
		return SVG(w, m, o)
	case "png":
		return PNG(w, m, o)
	case "pdf":
		return PDF(w, m, o)
	}
	return ErrFormat
}

// ContentType is the media type of a format of Write.
func ContentType(format string) string {
	switch format {
	case "svg":
		return "image/svg+xml"
	case "png":
		return "image/png"
	case "pdf":
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Labels translates a drawing's labels into lang from cjm's catalog; a map
// is drawn in its own language (Map.Lang) by the web UI, the API and the CLI.
func Labels(lang string) func(key string) string {
	return func(key string) string { return i18n.T(lang, key) }
}
