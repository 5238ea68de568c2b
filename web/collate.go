package web

import (
	"slices"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/cjmhq/cjm/opstore"
)

// sortByName sorts items by the name people see, in the order a Vietnamese
// reader expects: letters with diacritics next to their base letter (a ă â …
// d đ … u ư …), case and tone marks as finer differences, numbers by value
// ("Cửa hàng 2" before "Cửa hàng 10"). Sorting by code point, as the
// database does, puts "Ứng dụng" and "Đà Nẵng" after "Zalo". The names are
// Vietnamese whatever the UI language, so the order is the same in every
// language. Items with equal names keep their order.
func sortByName[T any](items []T, name func(T) string) {
	// A collator is not safe for concurrent use: one per sort.
	c := collate.New(language.Vietnamese, collate.Numeric)
	slices.SortStableFunc(items, func(a, b T) int { return c.CompareString(name(a), name(b)) })
}

func sortSources(s []opstore.Source) { sortByName(s, func(s opstore.Source) string { return s.Name }) }

func sortWorkspaces(w []opstore.Workspace) {
	sortByName(w, func(w opstore.Workspace) string { return w.Name })
}

// sortMembers orders members by name, then by e-mail.
func sortMembers(ms []opstore.Member) {
	sortByName(ms, func(m opstore.Member) string { return m.User.Email })
	sortByName(ms, func(m opstore.Member) string { return m.User.Name })
}
