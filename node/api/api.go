// Package api holds the messages of hanode's local API (the unix socket
// hactl talks to, served by node/runtime): what each command answers, so
// that the daemon and the CLI share one definition of the JSON.
package api

// KVAnswer is the answer to a key-value command, as the API sends it (Value
// travels base64-encoded, so any bytes survive).
type KVAnswer struct {
	OK       bool   `json:"ok"`
	Found    bool   `json:"found"`
	Value    []byte `json:"value,omitempty"`
	Revision uint64 `json:"revision"`
	// Keys answers kv-list.
	Keys []string `json:"keys,omitempty"`
	// Stale marks a kv-get --local answer: this replica's value, which a
	// non-quorate node may serve out of date.
	Stale bool `json:"stale,omitempty"`
}

// KVEvent is one streamed change of kv-watch.
type KVEvent struct {
	Key      string `json:"key"`
	Value    []byte `json:"value,omitempty"`
	Deleted  bool   `json:"deleted,omitempty"`
	Revision uint64 `json:"revision"`
}

// BenchReport is one node's account of a run, as bench-report answers it.
// Times are Unix ns on the node's wall clock; latencies are ns.
type BenchReport struct {
	Node uint32 `json:"node"`
	Run  uint64 `json:"run"`

	// The generator: whether it still sends, what it queued, how often the
	// ring refused (totem.ErrBackpressure) and what else went wrong.
	Size         int    `json:"size"`
	Inflight     int    `json:"inflight"`
	Sending      bool   `json:"sending"`
	Sent         uint64 `json:"sent"`
	Backpressure uint64 `json:"backpressure"`
	SendErrors   uint64 `json:"send_errors"`
	LastError    string `json:"last_error,omitempty"`
	FirstSend    int64  `json:"first_send,omitempty"`
	LastSend     int64  `json:"last_send,omitempty"`

	// The recorder: bench messages of this run delivered here.
	Delivered     uint64        `json:"delivered"`
	Bytes         uint64        `json:"bytes"`
	FirstDelivery int64         `json:"first_delivery,omitempty"`
	LastDelivery  int64         `json:"last_delivery,omitempty"`
	Senders       []BenchSender `json:"senders"`
	// Gaps counts sequence numbers skipped, OutOfOrder messages whose
	// sequence number was not above the last one from their sender,
	// Mismatched messages whose header names another sender than the ring
	// says sent them; all three must stay 0.
	Gaps       uint64 `json:"gaps"`
	OutOfOrder uint64 `json:"out_of_order"`
	Mismatched uint64 `json:"mismatched"`
	// Stale counts bench messages of an earlier run delivered during this
	// one (the tail of an interrupted run); they are not counted above.
	Stale uint64 `json:"stale"`
	// OrderHash is a running FNV-1a hash of (sender, seq) in delivery
	// order: nodes that delivered the same messages in the same order have
	// the same hash.
	OrderHash string `json:"order_hash"`
	// Configurations counts the ring configurations (transitional and
	// regular) this node delivered during the run: 0 means the membership
	// held still.
	Configurations uint64 `json:"configurations"`

	LatencyP50 int64 `json:"latency_p50"`
	LatencyP99 int64 `json:"latency_p99"`
	LatencyMax int64 `json:"latency_max"`
	// Latency is the histogram behind the percentiles, as (bucket value,
	// count) pairs, so that hactl can merge the nodes' histograms.
	Latency []HistBucket `json:"latency"`
}

// BenchSender is what one sender's messages looked like at this node.
type BenchSender struct {
	Node    uint32 `json:"node"`
	Count   uint64 `json:"count"`
	LastSeq uint64 `json:"last_seq"`
}

// HistBucket is one non-empty bucket: its representative value and count.
type HistBucket struct {
	V int64  `json:"v"`
	N uint64 `json:"n"`
}

// CRMStatus is the resource manager's view, as crm-status answers it.
type CRMStatus struct {
	Node    string   `json:"node"`
	DC      string   `json:"dc,omitempty"`
	Members []string `json:"members"`
	Quorate bool     `json:"quorate"`
	Settled bool     `json:"settled"`
	Idle    bool     `json:"idle"`
	// CIB is the whole CIB, status section included, as XML.
	CIB string `json:"cib"`
	// Failovers are the most recent failovers with their budgets.
	Failovers []Failover `json:"failovers,omitempty"`
}

// Failover is one recovery of the resources of a lost node, with the time
// each part took (ms; -1 when the part did not happen).
type Failover struct {
	Node       string   `json:"node"`
	Resources  []string `json:"resources"`
	DetectMS   float64  `json:"detection_ms"`
	FenceMS    float64  `json:"fencing_ms"`
	ScheduleMS float64  `json:"scheduling_ms"`
	StartMS    float64  `json:"agent_start_ms"`
	TotalMS    float64  `json:"total_ms"`
}

// Agent is one resource agent hanode can run, as ra-list answers.
type Agent struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Path   string `json:"path,omitempty"`
}
