// Package cib owns hakit's cluster information base: the model of
// Pacemaker's CIB, its import from and export to Pacemaker's XML (what
// `cibadmin -Q` prints and cib.xml stores), its validation, its canonical
// digest, and the readings the scheduler needs from it: rule evaluation,
// effective meta-attributes, scores, intervals, and each resource's state
// as its operation history records it.
//
// # Using it
//
//	c, err := cib.Parse("cib.xml", data)   // structure: *Error with file, line, XPath
//	if err != nil { ... }
//	if err := c.Validate().Err(); err != nil { ... } // meaning: every problem at once
//	next := c.Clone()                       // edit a copy ...
//	next.Config.Constraints = append(next.Config.Constraints, &cib.Location{...})
//	if err := next.Validate().Err(); err == nil {
//		c = next                            // ... and swap only when it validates
//	}
//	out, err := c.Marshal()                 // Pacemaker XML; write it atomically
//	sum, err := c.Digest()                  // over the canonical configuration
//
// The CIB is plain data: fields hold attribute values as written, and the
// typed readings (ScoreValue, OrderKind, ParseInterval, Meta, ...) parse on
// demand, so that a value Pacemaker would reject survives long enough for
// Validate to name it. Nothing here reads the clock or the disk (the
// package is part of hakit's deterministic core); date rules, which need
// the time, are kept and exported but evaluate to ErrDateRule.
//
// # What is modelled
//
// The version tuple (admin_epoch, epoch, num_updates) and validate-with;
// crm_config cluster_property_sets; nodes with instance attributes and
// utilization; primitives (class:provider:type or template, instance and
// meta attributes, utilization, operations with their own attribute
// sets), groups, clones and promotable clones, both as promotable=true and
// as the legacy <master> element (kept on export); rsc_defaults and
// op_defaults; rsc_location (score and node, or rules; rsc, rsc-pattern or
// resource sets), rsc_colocation and rsc_order (with resource sets);
// rules with expression, rsc_expression, op_expression and nested rules;
// and the status section: node_state, transient_attributes, and the lrm
// operation history.
//
// # What is kept but not interpreted
//
// Everything else survives a round trip verbatim (as Raw elements and Extra
// attributes): bundles and templates, rsc_ticket, fencing-topology, acls,
// tags, alerts, lifetime, date_expression, and any attribute or element a
// newer Pacemaker adds. Comments and whitespace-only text are dropped, as
// Pacemaker drops them.
//
// # Round trips
//
// Parse then Marshal keeps what Pacemaker reads: the output differs from
// the input only in layout, in attribute order (modelled attributes come
// first, in Pacemaker's order, then the rest in input order), in the order
// of children of different kinds within one element (for example
// meta_attributes before operations), and in empty optional sections being
// dropped. Marshal(Parse(Marshal(c))) is byte-for-byte Marshal(c).
//
// The digest covers only the configuration section, in a canonical form
// (sorted attributes, no whitespace), so re-indenting a file or reordering
// attributes never changes it, while any change Pacemaker would see does.
// This is what lets hakit detect a damaged cib.xml without refusing a file
// a text editor merely reformatted (DESIGN.md §7).
//
// # Pacemaker concepts
//
// Scores saturate at ±INFINITY (1,000,000) with -INFINITY winning (Score);
// intervals follow pcmk_parse_interval_spec (ParseInterval); booleans
// crm_is_true (ParseBool); rules pcmk_evaluate_rule (Rule.EvalWith); option
// sets pcmk_unpack_nvpair_blocks (Values); a resource's state on a node a
// documented subset of unpack_lrm_resource (CIB.History); fail counts
// pe_get_failcount (CIB.FailCount).
package cib
