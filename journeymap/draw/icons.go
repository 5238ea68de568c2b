package draw

import "github.com/cjmhq/cjm/journeymap"

// Icons are line pictograms in a 24×24 box, drawn with no fill, a stroke of
// width 2 and round caps and joins (the convention of common icon sets). They
// use only the absolute commands M, L, H, V, C, Q and Z, so that one small
// parser draws them in the PDF and the PNG, and the web UI can put the same
// data in an inline SVG.
var channelIcons = map[journeymap.Channel]string{
	// A globe: the outline, a meridian and the equator.
	"website": "M21 12C21 16.97 16.97 21 12 21C7.03 21 3 16.97 3 12C3 7.03 7.03 3 12 3C16.97 3 21 7.03 21 12Z" +
		"M12 3C9.6 5.5 8.4 8.6 8.4 12C8.4 15.4 9.6 18.5 12 21C14.4 18.5 15.6 15.4 15.6 12C15.6 8.6 14.4 5.5 12 3Z" +
		"M3.5 9H20.5M3.5 15H20.5",
	// A phone with a home bar.
	"app": "M8 2H16C17.1 2 18 2.9 18 4V20C18 21.1 17.1 22 16 22H8C6.9 22 6 21.1 6 20V4C6 2.9 6.9 2 8 2Z" +
		"M10.5 18.5H13.5",
	// A shopping bag.
	"marketplace": "M5.5 8H18.5L19.5 21H4.5L5.5 8Z" +
		"M9 11V6.5C9 4.6 10.3 3 12 3C13.7 3 15 4.6 15 6.5V11",
	// Two people.
	"social": "M12.5 8C12.5 9.93 10.93 11.5 9 11.5C7.07 11.5 5.5 9.93 5.5 8C5.5 6.07 7.07 4.5 9 4.5C10.93 4.5 12.5 6.07 12.5 8Z" +
		"M2.5 20.5C2.5 16.9 5.4 14.5 9 14.5C12.6 14.5 15.5 16.9 15.5 20.5" +
		"M15.5 4.7C17.1 5 18.3 6.4 18.3 8C18.3 9.6 17.1 11 15.5 11.3" +
		"M18 14.8C20.1 15.5 21.5 17.7 21.5 20.5",
	// A chat bubble with a Z.
	"zalo": "M6 3.5H18C19.66 3.5 21 4.84 21 6.5V13.5C21 15.16 19.66 16.5 18 16.5H11.5L7 20.5V16.5H6C4.34 16.5 3 15.16 3 13.5V6.5C3 4.84 4.34 3.5 6 3.5Z" +
		"M9 7.5H15L9 12.5H15",
	// A shopfront: awning, walls and door.
	"store": "M4.5 3.5H19.5L21 9H3L4.5 3.5Z" +
		"M3 9C3 10.66 4.34 12 6 12C7.66 12 9 10.66 9 9C9 10.66 10.34 12 12 12C13.66 12 15 10.66 15 9C15 10.66 16.34 12 18 12C19.66 12 21 10.66 21 9" +
		"M4.5 12V20.5H19.5V12M10 20.5V16H14V20.5",
	// A telephone handset.
	"hotline": "M5 3.5H8.5L10.5 8.5L8 10C9.1 12.3 11.7 14.9 14 16L15.5 13.5L20.5 15.5V19C20.5 20.1 19.6 21 18.5 21C10.7 20.5 3.5 13.3 3 5.5C3 4.4 3.9 3.5 5 3.5Z",
	// An envelope.
	"email": "M4 5H20C21.1 5 22 5.9 22 7V17C22 18.1 21.1 19 20 19H4C2.9 19 2 18.1 2 17V7C2 5.9 2.9 5 4 5Z" +
		"M2.5 6.5L12 13L21.5 6.5",
	// A message bubble with three dots.
	"sms": "M4 4H20C21.1 4 22 4.9 22 6V15C22 16.1 21.1 17 20 17H9L5 20.5V17H4C2.9 17 2 16.1 2 15V6C2 4.9 2.9 4 4 4Z" +
		"M7.5 10.5H7.51M12 10.5H12.01M16.5 10.5H16.51",
	// A megaphone.
	"ads": "M3 9.5H7L16 4.5V19.5L7 14.5H3V9.5Z" +
		"M7 14.5L8.5 20H11L9.8 15.9" +
		"M19 9C20.2 10.5 20.2 13.5 19 15",
	// A calendar.
	"events": "M5 5H19C20.1 5 21 5.9 21 7V19C21 20.1 20.1 21 19 21H5C3.9 21 3 20.1 3 19V7C3 5.9 3.9 5 5 5Z" +
		"M3 10H21M8 3V7M16 3V7" +
		"M7.5 14H7.51M12 14H12.01M16.5 14H16.51M7.5 17.5H7.51M12 17.5H12.01",
	// Two speech bubbles.
	"word_of_mouth": "M5 3H13C14.1 3 15 3.9 15 5V10C15 11.1 14.1 12 13 12H8L5 14.5V12C3.9 12 3 11.1 3 10V5C3 3.9 3.9 3 5 3Z" +
		"M18 8H19C20.1 8 21 8.9 21 10V15C21 16.1 20.1 17 19 17V19.5L16 17H11C9.9 17 9 16.1 9 15V14.5",
	// A ring with a dot.
	"other": "M20 12C20 16.42 16.42 20 12 20C7.58 20 4 16.42 4 12C4 7.58 7.58 4 12 4C16.42 4 20 7.58 20 12Z" +
		"M12 12H12.01",
}

// IconPath returns the SVG path data of the pictogram of channel c, in a
// 24×24 box (viewBox="0 0 24 24"), to draw with fill="none",
// stroke="currentColor", stroke-width="2", stroke-linecap="round" and
// stroke-linejoin="round". An unknown channel has the "other" pictogram.
func IconPath(c journeymap.Channel) string {
	if d, ok := channelIcons[c]; ok {
		return d
	}
	return channelIcons["other"]
}

// Other line pictograms of the drawing, in the same 24×24 convention.
const (
	iconCheck  = "M5 12.5L10 17.5L19.5 7"
	iconPerson = "M16 8C16 10.2 14.2 12 12 12C9.8 12 8 10.2 8 8C8 5.8 9.8 4 12 4C14.2 4 16 5.8 16 8Z" +
		"M4.5 21C4.5 16.9 7.9 14.5 12 14.5C16.1 14.5 19.5 16.9 19.5 21"
	iconChart = "M4 20V4M4 20H20M8 16V12M12 16V8M16 16V10"
)

// Filled shapes, in a 24×24 box centred on (12, 12).
const (
	shapeStar     = "M12 2.5L14.9 8.6L21.5 9.4L16.6 13.9L17.9 20.5L12 17.2L6.1 20.5L7.4 13.9L2.5 9.4L9.1 8.6Z"
	shapeDiamond  = "M12 1.5L22.5 12L12 22.5L1.5 12Z"
	shapeTriangle = "M2 4.5H22L12 21.5Z"
	shapeSquare   = "M3.5 3.5H20.5V20.5H3.5Z"
	shapeCross    = "M5 5L19 19M19 5L5 19"
	shapeArrow    = "M2.5 4L12 10L21.5 4L12 21Z"
)

// marker is how one emotion point is drawn: the shape encodes the score,
// so that the curve never relies on colour alone.
type marker struct {
	name   string // for data-shape in the SVG
	d      string // shape in the 24×24 box; "" is a circle
	filled bool
	line   bool // drawn as strokes only (the cross)
}

// markers[series][2-score]: the persona's curve uses circles, a diamond
// and downward triangles; the compared persona's squares, a cross and
// downward arrowheads. Filled shapes are the strong feelings.
var markers = [2][5]marker{
	{
		{"circle-filled", "", true, false},
		{"circle", "", false, false},
		{"diamond", shapeDiamond, false, false},
		{"triangle-down", shapeTriangle, false, false},
		{"triangle-down-filled", shapeTriangle, true, false},
	},
	{
		{"square-filled", shapeSquare, true, false},
		{"square", shapeSquare, false, false},
		{"cross", shapeCross, false, true},
		{"arrow-down", shapeArrow, false, false},
		{"arrow-down-filled", shapeArrow, true, false},
	},
}

func markerFor(series, score int) marker {
	return markers[series][2-clampScore(score)]
}

func clampScore(s int) int { return max(-2, min(2, s)) }

// parsed icon and shape data, checked once (the data are constants; a
// mistake in them is a bug the tests catch).
var shapes = func() map[string][]seg {
	m := map[string][]seg{}
	for _, d := range channelIcons {
		m[d] = mustPath(d)
	}
	for _, d := range []string{iconCheck, iconPerson, iconChart, shapeStar, shapeDiamond, shapeTriangle, shapeSquare, shapeCross, shapeArrow} {
		m[d] = mustPath(d)
	}
	m[""] = circlePath(12, 12, 9.5)
	return m
}()
