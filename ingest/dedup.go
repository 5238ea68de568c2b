package ingest

// keySet is an open-addressing hash set of 64-bit dedup keys: 8 bytes a key at
// a load factor of at most 3/4, far smaller than a Go map. Key 0 is stored as 1.
type keySet struct {
	slots []uint64
	n     int
}

func newKeySet(capacity int) *keySet {
	size := 1024
	for size*3 < capacity*4 {
		size <<= 1
	}
	return &keySet{slots: make([]uint64, size)}
}

func fix(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

// add inserts k and reports whether it was new.
func (s *keySet) add(k uint64) bool {
	k = fix(k)
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := mix(k) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = k
			s.n++
			return true
		case k:
			return false
		}
	}
}

func (s *keySet) has(k uint64) bool {
	k = fix(k)
	mask := uint64(len(s.slots) - 1)
	for i := mix(k) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case k:
			return true
		}
	}
}

// remove deletes k (backward-shift deletion keeps probe chains intact).
func (s *keySet) remove(k uint64) {
	k = fix(k)
	mask := uint64(len(s.slots) - 1)
	i := mix(k) & mask
	for ; s.slots[i] != k; i = (i + 1) & mask {
		if s.slots[i] == 0 {
			return
		}
	}
	s.slots[i] = 0
	s.n--
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		home := mix(s.slots[j]) & mask
		// Move slot j back to i if its home is not in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)) {
			s.slots[i] = s.slots[j]
			s.slots[j] = 0
			i = j
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, len(old)*2)
	s.n = 0
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}

func (s *keySet) len() int { return s.n }

// mix spreads the bits of already-hashed keys (a murmur3 finaliser), so that
// keys made by other means (tests) still spread.
func mix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return k
}
