package ingest

import (
	"math/rand/v2"
	"testing"
)

// TestKeySetMatchesMap runs random adds and removes against a Go map.
func TestKeySetMatchesMap(t *testing.T) {
	s := newKeySet(0)
	ref := map[uint64]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		k := 2 + r.Uint64N(5000) // small range: many collisions and re-adds
		if i%7 == 0 {
			k = 0 // the reserved value (stored as 1, which this test never uses) must still work
		}
		switch r.IntN(3) {
		case 0, 1:
			if got, want := s.add(k), !ref[k]; got != want {
				t.Fatalf("add(%d) = %v, want %v", k, got, want)
			}
			ref[k] = true
		case 2:
			s.remove(k)
			delete(ref, k)
		}
		if i%1000 == 0 {
			for q := range uint64(5002) {
				if q == 1 {
					continue
				}
				if s.has(q) != ref[q] {
					t.Fatalf("step %d: has(%d) = %v, want %v", i, q, s.has(q), ref[q])
				}
			}
		}
	}
}
