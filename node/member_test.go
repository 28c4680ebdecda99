package node_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
	"github.com/hakit/hakit/transport/config"
	"github.com/hakit/hakit/transport/link"
	"github.com/hakit/hakit/transport/totem"
)

const twoNodeConf = `totem {
	version: 2
	cluster_name: test
	interface {
		linknumber: 0
		knet_link_priority: 20
	}
	interface {
		linknumber: 1
		knet_link_priority: 10
	}
}
nodelist {
	node {
		name: a
		nodeid: 1
		ring0_addr: 10.0.0.1
		ring1_addr: 10.1.0.1
	}
	node {
		name: b
		nodeid: 2
		ring0_addr: 10.0.0.2
		ring1_addr: 10.1.0.2
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
`

var key = bytes.Repeat([]byte{0x42}, 64)

func parse(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse("corosync.conf", []byte(twoNodeConf))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFromConfigAppliesCorosyncDerivedValues(t *testing.T) {
	cfg, err := node.FromConfig(parse(t), key)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Totem.Token != 3000*time.Millisecond || cfg.Totem.Consensus != 3600*time.Millisecond {
		t.Errorf("token %v consensus %v, want 3s and 3.6s", cfg.Totem.Token, cfg.Totem.Consensus)
	}
	if len(cfg.Links) != 2 || cfg.Links[0].PingInterval != 750*time.Millisecond || cfg.Links[0].PingTimeout != 1500*time.Millisecond || cfg.Links[0].Priority != 20 {
		t.Errorf("links %+v, want knet 750/1500 ms with priority 20 on link 0", cfg.Links)
	}
	if !cfg.Quorum.TwoNode || !cfg.Quorum.WaitForAll || cfg.LinkMode != link.Passive {
		t.Errorf("quorum %+v mode %v: two_node must imply wait_for_all", cfg.Quorum, cfg.LinkMode)
	}
	if _, err := node.FromConfig(parse(t), []byte("short")); err == nil {
		t.Error("a short authkey was accepted")
	}
}

// pair builds two hosts with two plain links and starts a member on each,
// the second with the given authkey.
func pair(t *testing.T, keyB []byte) (*sim.World, []*node.Member, *[]string) {
	w := sim.New(1)
	lan0, lan1 := w.AddSwitch("lan0", sim.LAN()), w.AddSwitch("lan1", sim.LAN())
	members := make([]*node.Member, 2)
	var delivered []string
	for i, k := range [][]byte{key, keyB} {
		h := w.AddHost(fmt.Sprintf("h%d", i+1))
		h.BindNode(env.NodeID(i + 1))
		h.AttachLink(0, h.AddNIC("eth0", lan0))
		h.AttachLink(1, h.AddNIC("eth1", lan1))
		w.StartProcess(h, "hanode", func(e env.Env) {
			cfg, err := node.FromConfig(parse(t), k)
			if err != nil {
				t.Fatal(err)
			}
			m, err := node.StartMember(e, cfg, node.Observer{
				Deliver: func(_ totem.RingID, from env.NodeID, p []byte) {
					delivered = append(delivered, fmt.Sprintf("%d:%d:%s", e.Node, from, p))
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			members[i] = m
		})
	}
	return w, members, &delivered
}

func TestMembersFormARingAndDeliverInOrder(t *testing.T) {
	w, m, delivered := pair(t, key)
	w.RunFor(10 * time.Second)
	for i, mem := range m {
		st := mem.Status()
		if st.State != totem.StateOperational || len(st.Members) != 2 || !st.Quorum.Quorate {
			t.Fatalf("member %d: %+v", i+1, st)
		}
	}
	m[0].Send([]byte("x"))
	m[1].Send([]byte("y"))
	w.RunFor(time.Second)
	perNode := map[string][]string{}
	for _, d := range *delivered { // "receiver:sender:payload"
		perNode[d[:1]] = append(perNode[d[:1]], d[2:])
	}
	if len(perNode["1"]) != 2 || fmt.Sprint(perNode["1"]) != fmt.Sprint(perNode["2"]) {
		t.Errorf("members delivered %v and %v; want the same two messages in the same order", perNode["1"], perNode["2"])
	}
}

func TestWrongAuthKeyNeverJoinsAndIsCounted(t *testing.T) {
	w, m, _ := pair(t, bytes.Repeat([]byte{0x43}, 64))
	w.RunFor(10 * time.Second)
	for i, mem := range m {
		if st := mem.Status(); len(st.Members) != 1 {
			t.Errorf("member %d is in a ring with %v despite the wrong key", i+1, st.Members)
		}
		if mem.Wire().AuthFailed == 0 || mem.Stats().FramesDropped == 0 {
			t.Errorf("member %d: no authentication failures counted: %+v", i+1, mem.Wire())
		}
	}
}
