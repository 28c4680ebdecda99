package runtime

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hakit/hakit/node/env"
)

// DirDisk is an env.Disk over one directory of a real file system.
type DirDisk struct {
	dir string
}

var _ env.Disk = (*DirDisk)(nil)

// NewDirDisk returns a Disk keeping its files in dir, creating it (0700) if
// needed.
func NewDirDisk(dir string) (*DirDisk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &DirDisk{dir: dir}, nil
}

// path refuses names that would leave the directory: the Disk namespace is
// flat by contract.
func (d *DirDisk) path(name string) (string, error) {
	if err := env.CheckDiskName(name); err != nil {
		return "", err
	}
	return filepath.Join(d.dir, name), nil
}

func (d *DirDisk) ReadFile(name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

func (d *DirDisk) WriteFile(name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o600)
}

func (d *DirDisk) Sync(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	// A file created by WriteFile needs its directory entry synced too.
	return d.syncDir()
}

func (d *DirDisk) syncDir() error {
	dir, err := os.Open(d.dir)
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// WriteFileAtomic writes a temporary file, syncs it, renames it over name
// and syncs the directory so that the rename itself survives a power loss.
func (d *DirDisk) WriteFileAtomic(name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	return WriteFileAtomic(p, data, 0o600)
}

// WriteFileAtomic replaces the file at path with data so that a crash
// leaves either the old content or the new, never a mix: a temporary file
// in the same directory (rename is atomic only within one file system) is
// written with mode perm, synced and renamed over path, then the directory
// is synced so that the rename itself is durable.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
