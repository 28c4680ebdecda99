// Package crmsh owns hakit's crm shell configure language: the parser for
// `crm configure` command lines (primitive, group, clone, ms, location,
// colocation, order, property, rsc_defaults, op_defaults, delete, erase,
// show), their application to a CIB, and the printer that renders a CIB's
// configuration back as such lines, as `crm configure show` does.
//
// # Using it
//
//	cmds, err := crmsh.Parse(text)          // *Error: line, column, token
//	next, err := crmsh.Apply(c, cmds)       // c is never modified
//	fmt.Print(crmsh.Show(next))             // parse + apply gives the same Digest
//
// Parse reads one command per line; a backslash at the end of a line
// continues it; '#' starts a comment; values may be quoted with " or '; an
// optional leading "crm configure" or "configure" is accepted. Every
// syntax error is an *Error naming the line, the column (1-based, in
// characters) and the offending token.
//
// Apply works on a Clone of the CIB and validates the result with
// cib.Validate (and checks that it encodes), so a batch with one bad
// command leaves the input untouched: nothing is half-applied. Nested
// elements get ids the way crmsh makes them (vip-instance_attributes,
// vip-instance_attributes-ip, vip-monitor-10s, loc-rule,
// loc-rule-expression, cib-bootstrap-options-stonith-enabled, ...); when
// an id is taken, "-0", "-1", ... is appended, so ids are unique and
// depend only on the configuration and the commands.
//
// Show prints resources and constraints in document order (a group's or
// clone's members just before it), then property, rsc_defaults and
// op_defaults sets. Parts of a CIB the language here cannot express (raw
// resources and constraints, nodes, rules in option sets, op
// meta_attributes, ...) are printed as "# not shown:" comments.
//
// Like the rest of hakit's core, nothing here reads the clock, the disk or
// randomness.
package crmsh
