//go:build hakit_plantbug

package totem

// PlantedBug: with this tag the ring delivers a message as soon as it
// arrives, before the messages ordered ahead of it: delivery before
// agreement. hasim's total-order invariant must catch it.
const PlantedBug = "deliver-before-agreement"
