package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/crmsh"
	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/runtime"
)

// handleCRM answers the resource manager's API calls; it reports whether
// the call was one of them.
func handleCRM(crm *node.CRM, exec agents.Executor, c *runtime.Call) bool {
	arg := func(name string) string { return c.Args[name] }
	switch c.Cmd {
	case "crm-status":
		c.Reply(crmStatus(crm), nil)
	case "crm-configure":
		// crm shell configure commands applied to the running CIB, then
		// proposed as a whole: every member applies all of it or nothing.
		change(crm, c, func(x *cib.CIB) (*cib.CIB, error) { return crmsh.ApplyText(x, arg("crm")) })
	case "crm-replace":
		change(crm, c, func(x *cib.CIB) (*cib.CIB, error) {
			next, err := cib.Parse(arg("name"), []byte(arg("xml")))
			if err != nil {
				return nil, err
			}
			// An import replaces the configuration; the versions must
			// still rise, or the members would keep the old one on merge.
			next.AdminEpoch = max(next.AdminEpoch, x.AdminEpoch)
			return next, nil
		})
	case "crm-node":
		name := arg("node")
		if name == "" {
			name = crmStatus(crm).Node
		}
		value := map[string]string{"standby": "on", "online": ""}[arg("state")]
		if arg("state") != "standby" && arg("state") != "online" {
			c.Reply(nil, fmt.Errorf("node state %q: want standby or online", arg("state")))
			return true
		}
		change(crm, c, func(x *cib.CIB) (*cib.CIB, error) { return x, x.SetNodeAttr(name, "standby", value) })
	case "crm-resource":
		rsc := arg("resource")
		switch arg("action") {
		case "start", "stop":
			role := map[string]string{"start": "Started", "stop": "Stopped"}[arg("action")]
			change(crm, c, func(x *cib.CIB) (*cib.CIB, error) { return x, x.SetMeta(rsc, "target-role", role) })
		case "cleanup":
			c.Reply(nil, crm.Cleanup(rsc, arg("node")))
		default:
			c.Reply(nil, fmt.Errorf("resource action %q: want start, stop or cleanup", arg("action")))
		}
	case "crm-wait":
		crm.WhenIdle(func() { c.Reply(crmStatus(crm), nil) })
	case "ra-list":
		list, err := exec.Agents()
		out := []api.Agent{}
		for _, a := range list {
			out = append(out, api.Agent{Name: a.Agent.String(), Source: a.Source, Path: a.Path})
		}
		c.Reply(out, err)
	default:
		return false
	}
	return true
}

// change applies edit to a copy of the running CIB and proposes the
// result; the call is answered once the members applied it or refused it.
func change(crm *node.CRM, c *runtime.Call, edit func(*cib.CIB) (*cib.CIB, error)) {
	next, err := edit(crm.Controller().CIB().Clone())
	if err != nil {
		c.Reply(nil, err)
		return
	}
	if next == nil {
		c.Reply(nil, errors.New("the change produced no configuration"))
		return
	}
	crm.Configure(next, func(err error) {
		if err != nil {
			c.Reply(nil, err)
			return
		}
		c.Reply(crmStatus(crm), nil)
	})
}

func crmStatus(crm *node.CRM) api.CRMStatus {
	ctl := crm.Controller()
	st := api.CRMStatus{Node: crm.Name(), Settled: ctl.Settled(), Idle: ctl.Idle(), Quorate: ctl.Quorate(), Members: []string{}}
	if dc := ctl.DC(); dc != 0 {
		st.DC = crm.NameOf(dc)
	}
	for _, id := range ctl.Members() {
		st.Members = append(st.Members, crm.NameOf(id))
	}
	slices.Sort(st.Members)
	if b, err := ctl.CIB().Marshal(); err == nil {
		st.CIB = string(b)
	}
	for _, f := range ctl.Failovers() {
		st.Failovers = append(st.Failovers, api.Failover{Node: f.Node, Resources: f.Resources,
			DetectMS: ms(f.Detection), FenceMS: ms(f.Fencing), ScheduleMS: ms(f.Scheduling),
			StartMS: ms(f.AgentStart), TotalMS: ms(f.Total)})
	}
	return st
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return float64(d) / float64(time.Millisecond)
}
