package cib

import "testing"

// PropertyPair names the nvpair Property reads, so that a message can
// send the admin to its line.
func TestPropertyPair(t *testing.T) {
	c := mustParse(t, "p.xml", []byte(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
<configuration>
<crm_config>
<cluster_property_set id="other" score="100">
<nvpair id="o-q" name="no-quorum-policy" value="stop"/>
</cluster_property_set>
<cluster_property_set id="cib-bootstrap-options">
<nvpair id="b-q" name="no-quorum-policy" value="ignore"/>
<nvpair id="b-s" name="stonith-enabled" value="false"/>
</cluster_property_set>
</crm_config>
<nodes/><resources/><constraints/>
</configuration>
</cib>`))
	if c.File() != "p.xml" {
		t.Errorf("File() = %q", c.File())
	}
	// cib-bootstrap-options first, whatever the other set's score.
	p, path, err := c.PropertyPair("no-quorum-policy", RuleInput{})
	if err != nil || p == nil || p.ID != "b-q" || p.Line() != 8 ||
		path != "/cib/configuration/crm_config/cluster_property_set[@id='cib-bootstrap-options']/nvpair[@id='b-q']" {
		t.Fatalf("PropertyPair = %+v, %q, %v", p, path, err)
	}
	if v, _, _ := c.Property("no-quorum-policy", RuleInput{}); v != p.Value {
		t.Errorf("Property says %q, PropertyPair %q", v, p.Value)
	}
	if p, path, err := c.PropertyPair("maintenance-mode", RuleInput{}); p != nil || path != "" || err != nil {
		t.Errorf("unset property: %+v, %q, %v", p, path, err)
	}
	// Both halves of DESIGN.md §1's unsafe setup: Validate's warning
	// carries an ID for tools that replace it.
	var ids []string
	for _, pr := range c.Validate() {
		if pr.ID != "" {
			ids = append(ids, pr.ID)
		}
	}
	if len(ids) != 1 || ids[0] != ProblemSplitBrain {
		t.Errorf("problem IDs %q, want the split-brain warning's alone", ids)
	}
}
