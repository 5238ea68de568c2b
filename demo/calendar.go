package demo

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Durations in milliseconds, the unit of every time inside the generator.
const (
	second int64 = 1000
	minute       = 60 * second
	hour         = 60 * minute
	day          = 24 * hour
	// tzOffset is Asia/Ho_Chi_Minh (UTC+7, no daylight saving time).
	tzOffset = 7 * hour
)

// ict is the shop's local time zone; a fixed zone so that no tz database is needed.
var ict = time.FixedZone("ICT", int(tzOffset/second))

// calendar is the time model of one data set: the window, weights that give
// weekly and daily seasonality, and the dates of the stories.
type calendar struct {
	start, end int64 // the data window [start, end), Unix ms
	day0       int64 // the local midnight on or before start
	nDays      int

	// Cumulative day weights for browsing, store visits and calls, and
	// cumulative hour-of-day weights (local time).
	browse, store, calls   []float64
	hBrowse, hStore, hCall [24]float64

	wall             int64 // login wall from this instant on
	hotFrom, hotTo   int64 // hotline overload week
	saleFrom, saleTo int64 // the double-day sale, three days
	saleLabel        string
	saleName         string // context.campaign.name, e.g. "sale-11-11"
	saleCoupon       string
	blasts           [3]int64 // sale messages: teaser email, launch, last day
	newsletters      []int64
}

// Local weekday factors, Sunday first.
var (
	browseWeekday = [7]float64{1.3, 0.95, 0.95, 1, 1, 1.05, 1.25}
	storeWeekday  = [7]float64{1.9, 0.8, 0.8, 0.85, 0.85, 1.1, 1.7}
	callWeekday   = [7]float64{0.6, 1.3, 1.05, 1, 1, 1, 0.8}
	browseHours   = [24]float64{0.6, 0.3, 0.15, 0.1, 0.1, 0.2, 0.5, 0.9, 1.2, 1.4, 1.5, 1.6, 2.0, 1.8, 1.3, 1.3, 1.3, 1.4, 1.6, 2.2, 2.8, 3.0, 2.4, 1.4}
	storeHours    = [24]float64{9: 0.6, 10: 0.9, 11: 1, 12: 1.1, 13: 0.9, 14: 0.9, 15: 1, 16: 1.1, 17: 1.3, 18: 1.6, 19: 2, 20: 2, 21: 1.3}
	callHours     = [24]float64{8: 1.2, 9: 1.5, 10: 1.5, 11: 1.3, 12: 0.8, 13: 1, 14: 1.3, 15: 1.3, 16: 1.2, 17: 1, 18: 0.8, 19: 0.7, 20: 0.6}
)

func newCalendar(o Options) *calendar {
	c := &calendar{
		start: o.End.AddDate(0, -o.Months, 0).UnixMilli(),
		end:   o.End.UnixMilli(),
	}
	c.day0 = localMidnight(c.start)
	c.nDays = int((c.end - c.day0 + day - 1) / day)
	c.browse = make([]float64, c.nDays)
	c.store = make([]float64, c.nDays)
	c.calls = make([]float64, c.nDays)
	var sb, ss, sc float64
	for d := 0; d < c.nDays; d++ {
		lt := time.UnixMilli(c.day0 + int64(d)*day).In(ict)
		wd := lt.Weekday()
		trend := 0.9 + 0.2*float64(d)/float64(c.nDays)
		pay := 1.0
		if dom := lt.Day(); dom >= 25 || dom <= 5 {
			pay = 1.08 // payday
		}
		sb += browseWeekday[wd] * trend * pay
		ss += storeWeekday[wd] * trend * pay
		sc += callWeekday[wd] * trend
		c.browse[d], c.store[d], c.calls[d] = sb, ss, sc
	}
	cumulate(&c.hBrowse, &browseHours)
	cumulate(&c.hStore, &storeHours)
	cumulate(&c.hCall, &callHours)

	// Story 1: the login wall, about two months before the end.
	c.wall = max(localMidnight(o.End.AddDate(0, -2, 0).UnixMilli()), c.start)

	// Story 2: the hotline week, a Monday about 15 weeks before the end.
	hot := localMidnight(c.end - 105*day)
	if hot < c.start+7*day {
		hot = localMidnight(c.start + 7*day)
	}
	wd := int(time.UnixMilli(hot).In(ict).Weekday())
	hot += int64((8-wd)%7) * day // next Monday (or this one)
	c.hotFrom, c.hotTo = hot, hot+7*day

	// Story 3: the latest double-day sale (M.M) that fits in the window with
	// a few days to spare before the end.
	lt := o.End.In(ict)
	for i := 0; i < 24 && c.saleFrom == 0; i++ {
		y, m := lt.Year(), int(lt.Month())-i
		for m < 1 {
			m += 12
			y--
		}
		s := time.Date(y, time.Month(m), m, 0, 0, 0, 0, ict).UnixMilli()
		if s >= c.start && s+4*day <= c.end {
			c.saleFrom = s
			c.saleLabel = strconv.Itoa(m) + "." + strconv.Itoa(m)
			c.saleName = "sale-" + strconv.Itoa(m) + "-" + strconv.Itoa(m)
			c.saleCoupon = "SALE" + strconv.Itoa(m) + strconv.Itoa(m)
		}
	}
	if c.saleFrom == 0 { // a window too short for any M.M date
		c.saleFrom = max(localMidnight(c.end-10*day), c.day0)
		d := time.UnixMilli(c.saleFrom).In(ict)
		c.saleLabel = strconv.Itoa(d.Day()) + "." + strconv.Itoa(int(d.Month()))
		c.saleName = "sale-" + strconv.Itoa(d.Day()) + "-" + strconv.Itoa(int(d.Month()))
		c.saleCoupon = "SALE" + strconv.Itoa(d.Day()) + strconv.Itoa(int(d.Month()))
	}
	c.saleTo = c.saleFrom + 3*day
	c.blasts = [3]int64{c.saleFrom - 5*hour, c.saleFrom + 8*hour, c.saleFrom + 2*day + 11*hour}

	// Newsletters: every five weeks, Thursday 10:00.
	n := localMidnight(c.start + 3*day)
	wd = int(time.UnixMilli(n).In(ict).Weekday())
	n += int64((11-wd)%7)*day + 10*hour
	for ; n < c.end; n += 35 * day {
		c.newsletters = append(c.newsletters, n)
	}
	return c
}

func cumulate(dst, src *[24]float64) {
	s := 0.0
	for i, w := range src {
		s += w
		dst[i] = s
	}
}

// localMidnight is the start of the local (ICT) day containing t.
func localMidnight(t int64) int64 {
	l := t + tzOffset
	return l - ((l%day)+day)%day - tzOffset
}

// localHour is the local hour of day of t.
func localHour(t int64) int {
	return int((((t+tzOffset)%day)+day)%day) / int(hour)
}

func (c *calendar) dayIndex(t int64) int {
	d := int((t - c.day0) / day)
	return min(max(d, 0), c.nDays-1)
}

// sample draws a time in [lo, hi) following the day weights cdf and the
// hour-of-day weights hcdf.
func (c *calendar) sample(r *rand.Rand, cdf []float64, hcdf *[24]float64, lo, hi int64) int64 {
	lo, hi = max(lo, c.start), min(hi, c.end)
	if hi <= lo {
		return lo
	}
	dlo, dhi := c.dayIndex(lo), c.dayIndex(hi-1)
	a, b := 0.0, cdf[dhi]
	if dlo > 0 {
		a = cdf[dlo-1]
	}
	for range 8 {
		d := sort.SearchFloat64s(cdf[dlo:dhi+1], a+r.Float64()*(b-a)) + dlo
		h := sort.SearchFloat64s(hcdf[:], r.Float64()*hcdf[23])
		t := c.day0 + int64(min(d, dhi))*day + int64(h)*hour + r.Int64N(hour)
		if t >= lo && t < hi {
			return t
		}
	}
	return lo + r.Int64N(hi-lo)
}

// openHours moves t forward into the local hours [from, to), the same day or
// the next, at a random minute.
func openHours(r *rand.Rand, t int64, from, to int) int64 {
	h := localHour(t)
	switch {
	case h < from:
		return localMidnight(t) + int64(from)*hour + r.Int64N(2*hour)
	case h >= to:
		return localMidnight(t) + day + int64(from)*hour + r.Int64N(2*hour)
	}
	return t
}
