// Package crm is hakit's cluster resource manager, the job Pacemaker does:
// the CIB model with Pacemaker CIB XML import and export, the crm shell
// parser, the scheduler (scores, placement, action graph) as a pure
// function, the transition engine, DC election, node attributes,
// failcounts and fencing decisions. No OS and no time: the CIB's status
// section and the Env are its only inputs. The resource-manager issue fills
// this package; crm/cib holds the CIB model, its Pacemaker XML import and
// export, validation and canonical digest.
package crm
