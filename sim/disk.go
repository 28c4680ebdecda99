package sim

import (
	"io/fs"
	"maps"
	"slices"

	"github.com/hakit/hakit/node/env"
)

// Disk is a host's disk. It keeps two layers: what is durable, and writes
// still in the page cache. A power loss drops the page cache; a process
// crash does not (the kernel still holds its writes), exactly as on Linux.
type Disk struct {
	w       *World
	host    string
	durable map[string][]byte
	cached  map[string][]byte
}

var _ env.Disk = (*Disk)(nil)

func newDisk(w *World, host string) *Disk {
	return &Disk{w: w, host: host, durable: map[string][]byte{}, cached: map[string][]byte{}}
}

func (d *Disk) ReadFile(name string) ([]byte, error) {
	if err := env.CheckDiskName(name); err != nil {
		return nil, err
	}
	if data, ok := d.cached[name]; ok {
		return slices.Clone(data), nil
	}
	if data, ok := d.durable[name]; ok {
		return slices.Clone(data), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (d *Disk) WriteFile(name string, data []byte) error {
	if err := env.CheckDiskName(name); err != nil {
		return err
	}
	d.cached[name] = slices.Clone(data)
	d.w.tracef(d.host, "disk", "write %s len=%d", name, len(data))
	return nil
}

func (d *Disk) Sync(name string) error {
	if err := env.CheckDiskName(name); err != nil {
		return err
	}
	data, ok := d.cached[name]
	if !ok {
		if _, ok := d.durable[name]; ok {
			return nil
		}
		return &fs.PathError{Op: "sync", Path: name, Err: fs.ErrNotExist}
	}
	d.durable[name] = data
	delete(d.cached, name)
	d.w.tracef(d.host, "disk", "sync %s", name)
	return nil
}

func (d *Disk) WriteFileAtomic(name string, data []byte) error {
	if err := env.CheckDiskName(name); err != nil {
		return err
	}
	d.durable[name] = slices.Clone(data)
	delete(d.cached, name)
	d.w.tracef(d.host, "disk", "write-atomic %s len=%d", name, len(data))
	return nil
}

func (d *Disk) loseUnsynced() {
	for _, name := range slices.Sorted(maps.Keys(d.cached)) {
		d.w.tracef(d.host, "disk", "lost unsynced %s", name)
	}
	clear(d.cached)
}
