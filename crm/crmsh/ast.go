package crmsh

// Command is one parsed configure command: *Primitive, *Group, *Clone,
// *Location, *Colocation, *Order, *Property, *Delete, *Erase or *Show.
type Command interface {
	// Position is where the command starts.
	Position() Pos
	command()
}

// Pair is one name=value of a params, meta or utilization list, or of an
// op or a property command.
type Pair struct {
	Name, Value string
	Pos         Pos
}

// Ref is a resource named by a command, with where it was named.
type Ref struct {
	ID  string
	Pos Pos
}

// Primitive is `primitive ID class:provider:type ...`.
type Primitive struct {
	Pos
	ID                    string
	IDPos                 Pos
	Class, Provider, Type string
	Template              string // @template instead of class:provider:type
	Description           string
	Params, Meta, Util    []Pair
	Ops                   []OpSpec
}

// OpSpec is one `op NAME k=v ...`.
type OpSpec struct {
	Name  string
	Attrs []Pair
	Pos   Pos
}

// Group is `group ID rsc... [description=] [meta ...] [params ...]`.
type Group struct {
	Pos
	ID           string
	IDPos        Pos
	Children     []Ref
	Description  string
	Params, Meta []Pair
}

// Clone is `clone ID rsc ...`, or with Master the legacy `ms ID rsc ...`.
type Clone struct {
	Pos
	ID           string
	IDPos        Pos
	Master       bool
	Child        Ref
	Description  string
	Params, Meta []Pair
}

// Location is `location ID rsc [role=R] (SCORE: node | rule ...) [resource-discovery=...]`.
type Location struct {
	Pos
	ID                string
	IDPos             Pos
	Rsc               Ref
	RscPattern        string // ~regex instead of a resource
	Role              string
	Score, Node       string
	ResourceDiscovery string
	Rules             []RuleSpec
}

// RuleSpec is one `rule [id=] [role=] SCORE: expression`.
type RuleSpec struct {
	ID, Role              string
	Score, ScoreAttribute string
	BooleanOp             string // "" for a single expression
	Exprs                 []ExprSpec
}

// ExprSpec is `[not_]defined attr` or `attr [type:]op value`.
type ExprSpec struct {
	Attribute, Operation, Value, Type string
}

// SetSpec is a resource set in a colocation or order: a run of plain
// resources (sequential), ( ... ) (sequential=false) or [ ... ]
// (sequential=false, require-all=false).
type SetSpec struct {
	Resources    []Ref
	Sequential   string
	RequireAll   string
	Role, Action string
}

// Colocation is `colocation ID SCORE: rsc[:role] with-rsc[:role] [node-attribute=]`,
// or with more than two resources or brackets, resource sets.
type Colocation struct {
	Pos
	ID                   string
	IDPos                Pos
	Score                string
	Rsc, WithRsc         Ref
	RscRole, WithRscRole string
	NodeAttribute        string
	Sets                 []SetSpec
}

// Order is `order ID [KIND:|SCORE:] first[:action] then[:action] [symmetrical=]`.
type Order struct {
	Pos
	ID                      string
	IDPos                   Pos
	Kind, Score             string
	First, Then             Ref
	FirstAction, ThenAction string
	Symmetrical             string
	RequireAll              string
	Sets                    []SetSpec
}

// Section names which option sets a Property command edits.
type Section int

const (
	CRMConfig   Section = iota // property
	RscDefaults                // rsc_defaults
	OpDefaults                 // op_defaults
)

// Property is `property|rsc_defaults|op_defaults [SETID:] k=v ...`.
type Property struct {
	Pos
	Section Section
	SetID   string // "" for the default set
	Pairs   []Pair
}

// Delete is `delete ID...`.
type Delete struct {
	Pos
	IDs []Ref
}

// Erase is `erase`: everything but the nodes.
type Erase struct{ Pos }

// ShowCmd is `show [ID...]`; Apply leaves the CIB alone (see ShowIDs).
type ShowCmd struct {
	Pos
	IDs []Ref
}

func (p Pos) Position() Pos { return p }

func (*Primitive) command()  {}
func (*Group) command()      {}
func (*Clone) command()      {}
func (*Location) command()   {}
func (*Colocation) command() {}
func (*Order) command()      {}
func (*Property) command()   {}
func (*Delete) command()     {}
func (*Erase) command()      {}
func (*ShowCmd) command()    {}
