package node_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
	"github.com/hakit/hakit/transport/cmap"
)

// failingDisk refuses atomic writes of one file.
type failingDisk struct {
	env.Disk
	name string
}

func (d failingDisk) WriteFileAtomic(name string, data []byte) error {
	if name == d.name {
		return errors.New("disk failure")
	}
	return d.Disk.WriteFileAtomic(name, data)
}

// kvPair starts two members as pair does, with wrap (if set) around each
// one's disk, and returns their processes too.
func kvPair(t *testing.T, wrap func(i int, d env.Disk) env.Disk) (*sim.World, []*node.Member, []*sim.Host, []*sim.Process) {
	w := sim.New(1)
	lan0, lan1 := w.AddSwitch("lan0", sim.LAN()), w.AddSwitch("lan1", sim.LAN())
	members := make([]*node.Member, 2)
	var hosts []*sim.Host
	var procs []*sim.Process
	for i := range 2 {
		h := w.AddHost(fmt.Sprintf("h%d", i+1))
		h.BindNode(env.NodeID(i + 1))
		h.AttachLink(0, h.AddNIC("eth0", lan0))
		h.AttachLink(1, h.AddNIC("eth1", lan1))
		hosts = append(hosts, h)
		procs = append(procs, w.StartProcess(h, "hanode", func(e env.Env) {
			if wrap != nil {
				e.Disk = wrap(i, e.Disk)
			}
			cfg, err := node.FromConfig(parse(t), key)
			if err != nil {
				t.Fatal(err)
			}
			m, err := node.StartMember(e, cfg, node.Observer{})
			if err != nil {
				t.Fatal(err)
			}
			members[i] = m
		}))
	}
	return w, members, hosts, procs
}

func kvDo(t *testing.T, w *sim.World, m *node.Member, op cmap.Op) cmap.Result {
	t.Helper()
	var res *cmap.Result
	if err := m.KV(op, func(r cmap.Result) { res = &r }); err != nil {
		t.Fatalf("KV(%v %s): %v", op.Kind, op.Key, err)
	}
	w.RunFor(time.Second)
	if res == nil {
		t.Fatalf("KV(%v %s): no result", op.Kind, op.Key)
	}
	return *res
}

// TestKVEpochSurvivesRestart: each member writes the store's epoch to
// cmap-epoch once its configuration is writable; a restarted member
// starts empty but announces that epoch, and copies the state back from
// the member that holds it.
func TestKVEpochSurvivesRestart(t *testing.T) {
	w, m, hosts, procs := kvPair(t, nil)
	w.RunFor(10 * time.Second)
	if r := kvDo(t, w, m[0], cmap.Op{Kind: cmap.Set, Key: "a", Value: []byte("1")}); r.Err != nil {
		t.Fatal(r.Err)
	}
	epoch := m[0].KVStatus().Epoch
	for i, h := range hosts {
		b, err := h.Disk().ReadFile("cmap-epoch")
		if err != nil || string(b) != strconv.FormatUint(epoch, 10) || epoch == 0 {
			t.Fatalf("host %d: cmap-epoch %q, %v; the store's epoch is %d", i+1, b, err, epoch)
		}
	}
	procs[0].Crash()
	procs[0].Restart()
	w.RunFor(time.Millisecond)
	if st := m[0].KVStatus(); st.Epoch != 0 || st.KnownEpoch != epoch || st.Keys != 0 {
		t.Fatalf("restarted member: %+v, want empty, knowing epoch %d", st, epoch)
	}
	w.RunFor(10 * time.Second)
	if st := m[0].KVStatus(); !st.Writable || st.Epoch <= epoch {
		t.Fatalf("restarted member after rejoining: %+v", st)
	}
	if v, ok := m[0].KVLocal("a"); !ok || string(v) != "1" {
		t.Fatalf("restarted member reads %q, %v", v, ok)
	}
}

// TestKVStopsWhenItsEpochCannotBePersisted: a member that cannot write
// the store's epoch stops rather than acknowledge anything in it.
func TestKVStopsWhenItsEpochCannotBePersisted(t *testing.T) {
	w, m, _, _ := kvPair(t, func(i int, d env.Disk) env.Disk {
		if i == 0 {
			return failingDisk{Disk: d, name: "cmap-epoch"}
		}
		return d
	})
	w.RunFor(10 * time.Second)
	if err := m[0].KV(cmap.Op{Kind: cmap.Get, Key: "a"}, nil); err == nil {
		t.Fatal("the member whose disk fails still serves the store")
	}
	if err := m[0].Send([]byte("x")); err == nil {
		t.Fatal("the member whose disk fails still sends")
	}
}
