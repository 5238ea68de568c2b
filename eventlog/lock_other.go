//go:build !unix

package eventlog

import "os"

// lockDir does nothing where flock is not available.
func lockDir(dir string) (*os.File, error) { return nil, nil }
