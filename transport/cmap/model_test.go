package cmap

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestPorcupineModel: the model accepts what a map can do and rejects
// what it cannot, including through writes of unknown outcome.
func TestPorcupineModel(t *testing.T) {
	type o = porcupine.Operation
	inf := int64(math.MaxInt64)
	in := func(op Op) ModelInput { return InputOf(op) }
	absent := ModelOutput{}
	val := func(v string) ModelOutput { return ModelOutput{OK: true, Found: true, Value: v} }
	setOut := func(prev *string) ModelOutput {
		if prev == nil {
			return ModelOutput{OK: true}
		}
		return ModelOutput{OK: true, Found: true, Value: *prev}
	}
	one := "1"
	unknown := ModelOutput{Unknown: true}
	cases := []struct {
		name  string
		ops   []o
		legal bool
	}{
		{"read your write", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 1},
			{ClientId: 1, Input: in(getOp("a")), Call: 2, Output: val("1"), Return: 3},
		}, true},
		{"stale read", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 1},
			{ClientId: 1, Input: in(getOp("a")), Call: 2, Output: absent, Return: 3},
		}, false},
		{"concurrent read may see either", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 10},
			{ClientId: 1, Input: in(getOp("a")), Call: 2, Output: absent, Return: 3},
			{ClientId: 2, Input: in(getOp("a")), Call: 4, Output: val("1"), Return: 5},
		}, true},
		{"new then old", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 10},
			{ClientId: 1, Input: in(getOp("a")), Call: 2, Output: val("1"), Return: 3},
			{ClientId: 2, Input: in(getOp("a")), Call: 4, Output: absent, Return: 5},
		}, false},
		{"wrong previous value", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 1},
			{ClientId: 0, Input: in(setOp("a", "2")), Call: 2, Output: setOut(nil), Return: 3},
		}, false},
		{"previous value", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 1},
			{ClientId: 0, Input: in(setOp("a", "2")), Call: 2, Output: setOut(&one), Return: 3},
		}, true},
		{"two creates both win", []o{
			{ClientId: 0, Input: in(casAbsentOp("a", "x")), Call: 0, Output: ModelOutput{OK: true}, Return: 5},
			{ClientId: 1, Input: in(casAbsentOp("a", "y")), Call: 0, Output: ModelOutput{OK: true}, Return: 5},
		}, false},
		{"one create wins", []o{
			{ClientId: 0, Input: in(casAbsentOp("a", "x")), Call: 0, Output: ModelOutput{OK: true}, Return: 5},
			{ClientId: 1, Input: in(casAbsentOp("a", "y")), Call: 0, Output: ModelOutput{Found: true, Value: "x"}, Return: 5},
		}, true},
		{"cas and delete", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 1},
			{ClientId: 0, Input: in(casOp("a", "1", "2")), Call: 2, Output: ModelOutput{OK: true, Found: true, Value: "1"}, Return: 3},
			{ClientId: 0, Input: in(delOp("a")), Call: 4, Output: ModelOutput{OK: true, Found: true, Value: "2"}, Return: 5},
			{ClientId: 0, Input: in(delOp("a")), Call: 6, Output: absent, Return: 7},
		}, true},
		{"unknown write may land late", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: unknown, Return: inf},
			{ClientId: 1, Input: in(getOp("a")), Call: 5, Output: absent, Return: 6},
			{ClientId: 1, Input: in(getOp("a")), Call: 7, Output: val("1"), Return: 8},
		}, true},
		{"unknown write may never land", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: unknown, Return: inf},
			{ClientId: 1, Input: in(getOp("a")), Call: 5, Output: absent, Return: 6},
		}, true},
		{"unknown write cannot be undone", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: unknown, Return: inf},
			{ClientId: 1, Input: in(getOp("a")), Call: 5, Output: val("1"), Return: 6},
			{ClientId: 1, Input: in(getOp("a")), Call: 7, Output: absent, Return: 8},
		}, false},
		{"keys are independent", []o{
			{ClientId: 0, Input: in(setOp("a", "1")), Call: 0, Output: setOut(nil), Return: 1},
			{ClientId: 1, Input: in(getOp("b")), Call: 2, Output: absent, Return: 3},
		}, true},
	}
	for _, tc := range cases {
		res, _ := porcupine.CheckOperationsVerbose(PorcupineModel(), tc.ops, 0)
		if (res == porcupine.Ok) != tc.legal {
			t.Errorf("%s: porcupine says %v, want legal=%t", tc.name, res, tc.legal)
		}
	}
	// The descriptions render without panicking.
	m := PorcupineModel()
	for _, op := range []Op{getOp("a"), setOp("a", "1"), delOp("a"), casOp("a", "1", "2"), casAbsentOp("a", "1")} {
		if m.DescribeOperation(InputOf(op), unknown) == "" || m.DescribeOperation(InputOf(op), val("x")) == "" {
			t.Fatal("empty description")
		}
	}
}
