package fileimport

// SetLimits sets the block size and the record size limit for a test and
// returns a function that restores them.
func SetLimits(block, record int) (restore func()) {
	b, r := blockSize, maxRecord
	blockSize, maxRecord = block, record
	return func() { blockSize, maxRecord = b, r }
}
