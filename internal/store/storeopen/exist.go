package storeopen

import (
	"fmt"
	"os"
)

// mustExist checks that a bbolt file is there: a read-only open would not
// create it, and "no such file" says more than bbolt does.
func mustExist(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	return nil
}
