package fileimport

import (
	"bufio"
	"errors"
	"os"
)

// RejectsFile is where an import's rejected lines go (Options.Rejects): the
// file is created on the first write, so a clean import leaves none, and
// writes are buffered. Close flushes it.
type RejectsFile struct {
	Path string
	Perm os.FileMode // default 0o600
	f    *os.File
	w    *bufio.Writer
}

// Write implements io.Writer.
func (r *RejectsFile) Write(p []byte) (int, error) {
	if r.f == nil {
		perm := r.Perm
		if perm == 0 {
			perm = 0o600
		}
		f, err := os.OpenFile(r.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
		if err != nil {
			return 0, err
		}
		r.f, r.w = f, bufio.NewWriter(f)
	}
	return r.w.Write(p)
}

// Close flushes and closes the file, if it was created.
func (r *RejectsFile) Close() error {
	if r.f == nil {
		return nil
	}
	return errors.Join(r.w.Flush(), r.f.Close())
}
