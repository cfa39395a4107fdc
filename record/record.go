// Package record holds the canonical platform records of SPEC.md section 3
// (cases, evaluations, tickets, calls, catalog items) and turns raw field
// values into them. Readers deliver strings; this package decides what a
// value means and rejects what it cannot read, naming the field.
//
// Text values are capped, in bytes of UTF-8; a longer value is a bad value
// and its row is rejected with a *FieldError naming the field and the cap:
//
//	case_id, eval_id, ticket_id, call_id      128   (platform numbers run 20-40 characters; UUIDs 36)
//	item_code                                  64   (事项编码: a 31-character 实施编码, with room for a suffix)
//	dept_code, unit_code                      128   (an 18-character credit code, or a department's name: 42 Chinese characters)
//	category                                  256   (a 12345 category path such as 城乡建设/住房保障/公租房)
//
// Region codes are GB/T 2260 codes (6 or 9 digits) and timestamps have
// fixed forms, so neither needs a cap. The readers (package recordio) bound
// a whole row at 1 MiB before it reaches the parser.
package record

import "math"

// Never is the time of an event that has not happened (a null timestamp).
// Using the largest instant makes "happened by t" a plain comparison
// (x <= t) with no separate null flag.
const Never int64 = math.MaxInt64

// Kind is one of the five record types.
type Kind uint8

// The record kinds, in the order SPEC.md lists them.
const (
	KindCase Kind = iota
	KindEvaluation
	KindTicket
	KindCall
	KindItem
	NumKinds = 5
)

var kindNames = [NumKinds]string{"cases", "evaluations", "tickets", "calls", "items"}

// String returns the plural name used for files and API paths ("cases").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind maps a plural name ("cases", "tickets", ...) to its Kind.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// Fields returns the canonical field names of the kind, in SPEC.md order.
// Parsers take values aligned to this slice. The slice must not be modified.
func (k Kind) Fields() []string { return kindFields[k] }

var kindFields = [NumKinds][]string{
	{"case_id", "region_code", "dept_code", "item_code", "channel", "full_online", "submitted_at", "accepted_at", "promised_days", "closed_at", "status"},
	{"eval_id", "case_id", "region_code", "dept_code", "channel", "score", "evaluated_at", "rectified_at"},
	{"ticket_id", "region_code", "unit_code", "category", "kind", "channel", "received_at", "direct", "assigned_at", "deadline_days", "closed_at", "callback"},
	{"call_id", "region_code", "offered_at", "answered", "wait_seconds"},
	{"item_code", "region_code", "dept_code", "online_available", "full_online", "mobile_available", "in_hall", "visits", "legal_days", "promised_days"},
}

// Channel is how a case or evaluation reached the platform.
type Channel uint8

// Case and evaluation channels.
const (
	ChannelOnline Channel = iota + 1
	ChannelMobile
	ChannelWindow
	ChannelSelfService
)

var channelNames = map[string]Channel{"online": ChannelOnline, "mobile": ChannelMobile, "window": ChannelWindow, "self_service": ChannelSelfService}

// Status is the state a case's source system reports. Only Rejected and
// Withdrawn change indicators (SPEC.md section 4); the others are kept for
// display.
type Status uint8

// Case statuses.
const (
	StatusSubmitted Status = iota + 1
	StatusAccepted
	StatusClosed
	StatusRejected
	StatusWithdrawn
)

var statusNames = map[string]Status{"submitted": StatusSubmitted, "accepted": StatusAccepted, "closed": StatusClosed, "rejected": StatusRejected, "withdrawn": StatusWithdrawn}

// TicketKind is the nature of a 12345 ticket; it sets the default deadline.
type TicketKind uint8

// Ticket kinds.
const (
	TicketConsult TicketKind = iota + 1
	TicketHelp
	TicketComplaint
	TicketReport
	TicketSuggestion
	TicketPraise
	NumTicketKinds = 7 // one more than the largest kind, for arrays indexed by kind
)

var ticketKindNames = map[string]TicketKind{"consult": TicketConsult, "help": TicketHelp, "complaint": TicketComplaint, "report": TicketReport, "suggestion": TicketSuggestion, "praise": TicketPraise}

// TicketChannel is how a 12345 ticket was received.
type TicketChannel uint8

// Ticket channels.
const (
	TicketPhone TicketChannel = iota + 1
	TicketWeb
	TicketWechat
	TicketApp
	TicketMessageBoard
	TicketOther
)

var ticketChannelNames = map[string]TicketChannel{"phone": TicketPhone, "web": TicketWeb, "wechat": TicketWechat, "app": TicketApp, "message_board": TicketMessageBoard, "other": TicketOther}

// String returns the kind as the records spell it ("complaint"), or ""
// for a value that is not a kind.
func (k TicketKind) String() string { return nameOf(ticketKindNames, k) }

// String returns the channel as the records spell it ("wechat"), or ""
// for a value that is not a channel.
func (c TicketChannel) String() string { return nameOf(ticketChannelNames, c) }

func nameOf[V comparable](names map[string]V, v V) string {
	for n, x := range names {
		if x == v {
			return n
		}
	}
	return ""
}

// Callback is the result of the satisfaction call-back on a closed ticket.
type Callback uint8

// Callback results; CallbackNone means not yet called back.
const (
	CallbackNone Callback = iota
	CallbackSatisfied
	CallbackBasic
	CallbackUnsatisfied
	CallbackUnreachable
)

var callbackNames = map[string]Callback{"satisfied": CallbackSatisfied, "basic": CallbackBasic, "unsatisfied": CallbackUnsatisfied, "unreachable": CallbackUnreachable}

// Times are Unix nanoseconds; Never marks a null time. Region codes are
// validated GB/T 2260 codes (6 or 9 digits). Optional integers use -1 for null.

// Case is one application for one service item (办件).
type Case struct {
	ID           string
	Region       string
	Dept         string
	Item         string
	Submitted    int64
	Accepted     int64
	Closed       int64
	PromisedDays int32
	Channel      Channel
	Status       Status
	FullOnline   bool
}

// Evaluation is one rating of one service (好差评).
type Evaluation struct {
	ID        string
	CaseID    string
	Region    string
	Dept      string
	Evaluated int64
	Rectified int64
	Channel   Channel
	Score     int8
}

// Bad reports whether the rating is a 差评 (score 1 or 2).
func (e *Evaluation) Bad() bool { return e.Score <= 2 }

// Ticket is one 12345 hotline work order (工单).
type Ticket struct {
	ID           string
	Region       string
	Unit         string
	Category     string
	Received     int64
	Assigned     int64
	Closed       int64
	DeadlineDays int32 // -1: the default of its kind
	Kind         TicketKind
	Channel      TicketChannel
	Callback     Callback
	Direct       bool
}

// Call is one call offered to the 12345 hotline.
type Call struct {
	ID          string
	Region      string
	Offered     int64
	WaitSeconds int32 // -1: not recorded
	Answered    bool
}

// Item is one entry of the service-item catalog (事项).
type Item struct {
	Code            string
	Region          string
	Dept            string
	Visits          int32
	LegalDays       int32 // -1: not set
	PromisedDays    int32 // -1: not set
	OnlineAvailable bool
	FullOnline      bool
	MobileAvailable bool
	InHall          bool
}
