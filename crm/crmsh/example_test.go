package crmsh_test

import (
	"fmt"

	"github.com/hakit/hakit/crm/crmsh"
)

func Example() {
	c, err := crmsh.ApplyText(crmsh.Empty(), `
primitive vip ocf:heartbeat:IPaddr2 params ip=192.168.122.100 cidr_netmask=24 op monitor interval=10s
location vip-needs-gateway vip rule -inf: not_defined pingd or pingd lte 0
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(crmsh.Show(c))
	_, err = crmsh.ApplyText(c, "location preferred-node vip node1")
	fmt.Println(err)
	// Output:
	// primitive vip ocf:heartbeat:IPaddr2 \
	// 	params ip=192.168.122.100 cidr_netmask=24 \
	// 	op monitor interval=10s
	// location vip-needs-gateway vip \
	// 	rule -inf: not_defined pingd or pingd lte 0
	// line 1, column 29: expected SCORE: before "node1"
}
