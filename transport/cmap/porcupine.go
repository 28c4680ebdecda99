package cmap

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	"github.com/anishathalye/porcupine"
)

// ModelInput is an operation as PorcupineModel reads it (porcupine's
// Operation.Input).
type ModelInput struct {
	Kind         OpKind
	Key          string
	Value        string
	Expect       string
	ExpectAbsent bool
}

// ModelOutput is a result as PorcupineModel reads it (Operation.Output).
// Found and Value are the key's state before the operation, as in Result.
type ModelOutput struct {
	OK    bool
	Found bool
	Value string
	// Unknown marks a write whose outcome the client never learned
	// (ErrUnknownOutcome, or still pending at the end): record it with
	// Return = math.MaxInt64 and move the client to a new ClientId, as
	// etcd's robustness tests do. The model lets it take effect at any
	// point after its call, or never. Leave reads of unknown outcome out of
	// the history.
	Unknown bool
}

// InputOf converts an operation for the model.
func InputOf(op Op) ModelInput {
	return ModelInput{Kind: op.Kind, Key: op.Key, Value: string(op.Value), Expect: string(op.Expect), ExpectAbsent: op.ExpectAbsent}
}

// OutputOf converts a successful result for the model.
func OutputOf(r Result) ModelOutput {
	return ModelOutput{OK: r.OK, Found: r.Found, Value: string(r.Value)}
}

// modelState is one key's state: the model is partitioned by key.
type modelState struct {
	found bool
	value string
}

// PorcupineModel is the sequential specification of the store for
// porcupine: a map with get, set, delete and compare-and-set, partitioned
// by key (partitions in key order). Every output is checked, the previous
// value reported by writes included; Revision is not (it is global to the
// store, which the per-key partitions cannot see).
func PorcupineModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			return partition(history, func(o porcupine.Operation) string { return o.Input.(ModelInput).Key })
		},
		PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
			keyOf := map[int]string{}
			return partition(history, func(e porcupine.Event) string {
				if e.Kind == porcupine.CallEvent {
					keyOf[e.Id] = e.Value.(ModelInput).Key
				}
				return keyOf[e.Id]
			})
		},
		Init: func() any { return modelState{} },
		Step: func(state, input, output any) (bool, any) {
			return modelStep(state.(modelState), input.(ModelInput), output.(ModelOutput))
		},
		Equal: func(a, b any) bool { return a.(modelState) == b.(modelState) },
		Hash: func(state any) uint64 {
			st := state.(modelState)
			h := fnv.New64a()
			if st.found {
				h.Write([]byte{1})
			}
			h.Write([]byte(st.value))
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			return describeOp(input.(ModelInput), output.(ModelOutput))
		},
		DescribeState: func(state any) string { return describeState(state.(modelState)) },
	}
}

func modelStep(st modelState, in ModelInput, out ModelOutput) (bool, modelState) {
	prevOK := out.Found == st.found && (!st.found || out.Value == st.value)
	switch in.Kind {
	case Get:
		return out.Unknown || prevOK && out.OK == st.found, st
	case Set:
		next := modelState{found: true, value: in.Value}
		return out.Unknown || prevOK && out.OK, next
	case Delete:
		return out.Unknown || prevOK && out.OK == st.found, modelState{}
	case CAS:
		match := !st.found && in.ExpectAbsent || st.found && !in.ExpectAbsent && st.value == in.Expect
		next := st
		if match {
			next = modelState{found: true, value: in.Value}
		}
		return out.Unknown || prevOK && out.OK == match, next
	}
	return false, st
}

// partition groups operations by key, keys in ascending order, each group
// in history order.
func partition[T any](history []T, key func(T) string) [][]T {
	groups := map[string][]T{}
	for _, o := range history {
		k := key(o)
		groups[k] = append(groups[k], o)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, groups[k])
	}
	return out
}

func describeState(st modelState) string {
	if !st.found {
		return "(absent)"
	}
	return strconv.Quote(st.value)
}

func describeOp(in ModelInput, out ModelOutput) string {
	prev := describeState(modelState{found: out.Found, value: out.Value})
	res := ""
	switch {
	case out.Unknown:
		res = " -> ?"
	case in.Kind == Get:
		res = " -> " + prev
	default:
		res = fmt.Sprintf(" -> ok=%t prev=%s", out.OK, prev)
	}
	switch in.Kind {
	case Get:
		return fmt.Sprintf("get(%q)%s", in.Key, res)
	case Set:
		return fmt.Sprintf("set(%q, %q)%s", in.Key, in.Value, res)
	case Delete:
		return fmt.Sprintf("delete(%q)%s", in.Key, res)
	case CAS:
		exp := strconv.Quote(in.Expect)
		if in.ExpectAbsent {
			exp = "(absent)"
		}
		return fmt.Sprintf("cas(%q, %s -> %q)%s", in.Key, exp, in.Value, res)
	}
	return "<invalid>"
}
