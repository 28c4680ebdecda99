package main

import (
	"errors"
	"fmt"

	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/runtime"
	"github.com/hakit/hakit/transport/cmap"
)

// handle answers one API call on the member's loop.
func handle(m *node.Member, c *runtime.Call) {
	arg := func(name string) string { return c.Args[name] }
	switch c.Cmd {
	case "status":
		st := m.Status()
		c.Reply(map[string]any{"status": st, "text": st.Text(), "kv": m.KVStatus()}, nil)
	case "kv-get":
		if arg("local") == "true" {
			v, found := m.KVLocal(arg("key"))
			c.Reply(api.KVAnswer{OK: found, Found: found, Value: v, Revision: m.KVStatus().Revision, Stale: true}, nil)
			return
		}
		submit(m, c, cmap.Op{Kind: cmap.Get, Key: arg("key")})
	case "kv-set":
		submit(m, c, cmap.Op{Kind: cmap.Set, Key: arg("key"), Value: []byte(arg("value"))})
	case "kv-delete":
		submit(m, c, cmap.Op{Kind: cmap.Delete, Key: arg("key")})
	case "kv-cas":
		_, hasExpect := c.Args["expect"]
		absent := arg("absent") == "true"
		if hasExpect == absent {
			c.Reply(nil, errors.New("kv-cas needs exactly one of expect and absent"))
			return
		}
		submit(m, c, cmap.Op{Kind: cmap.CAS, Key: arg("key"), Value: []byte(arg("value")), Expect: []byte(arg("expect")), ExpectAbsent: absent})
	case "kv-list":
		c.Reply(api.KVAnswer{OK: true, Keys: m.KVKeys(arg("prefix")), Revision: m.KVStatus().Revision, Stale: true}, nil)
	case "kv-watch":
		var cancel func()
		cancel = m.KVWatch(arg("prefix"), func(ev cmap.WatchEvent) {
			if !c.Stream(api.KVEvent{Key: ev.Key, Value: ev.Value, Deleted: ev.Deleted, Revision: ev.Revision}) {
				cancel()
			}
		})
		c.OnClose(cancel)
		// An empty item tells the client the watch is in place: changes
		// applied after it are reported.
		c.Stream(api.KVEvent{Revision: m.KVStatus().Revision})
	default:
		c.Reply(nil, fmt.Errorf("unknown command %q", c.Cmd))
	}
}

func submit(m *node.Member, c *runtime.Call, op cmap.Op) {
	err := m.KV(op, func(r cmap.Result) {
		if r.Err != nil {
			c.Reply(nil, r.Err)
			return
		}
		c.Reply(api.KVAnswer{OK: r.OK, Found: r.Found, Value: r.Value, Revision: r.Revision}, nil)
	})
	if err != nil {
		c.Reply(nil, err)
	}
}
