//go:build !hakit_plantbug

package totem

// PlantedBug names the bug compiled in for testing the tests, or is empty.
// Build with -tags hakit_plantbug to plant one and check that the
// simulator's invariants catch it.
const PlantedBug = ""
