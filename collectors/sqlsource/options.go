package sqlsource

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/record"
)

// Options configure an SQL source.
type Options struct {
	// Driver is postgres (the pgx driver) or mysql.
	Driver string `yaml:"driver"`
	// DSN is the connection string (postgres://user:pass@host:5432/db,
	// or user:pass@tcp(host:3306)/db?parseTime=true for MySQL). It is a
	// secret: it prints as <secret>. Or DSNEnv names an environment
	// variable that holds it.
	DSN    collectors.Secret `yaml:"dsn,omitempty"`
	DSNEnv string            `yaml:"dsn_env,omitempty"`
	// Queries has one query per record kind (cases, evaluations, tickets,
	// calls, items).
	Queries map[string]Query `yaml:"queries"`
	// Timeout bounds one query (default 1m).
	Timeout time.Duration `yaml:"timeout,omitempty"`
}

// Query reads one record kind.
type Query struct {
	// SQL selects the rows changed after the cursor, ordered by the
	// cursor columns, at most PageSize of them. Its parameters ($1, $2 for
	// PostgreSQL; ? for MySQL) are the cursor values, in Cursor's order.
	SQL string `yaml:"sql"`
	// Cursor names the result columns whose values, taken from the last
	// row of a page, are the next page's parameters: [updated_at, id] for
	// a composite cursor, or one column.
	Cursor Columns `yaml:"cursor,omitempty"`
	// TieKey names a unique column (the id) when Cursor is one column
	// compared with >=: rows at the boundary value already delivered are
	// skipped by it. See the package documentation.
	TieKey string `yaml:"tie_key,omitempty"`
	// Start gives the cursor values of the first run, one per cursor
	// column, passed as text (default "1970-01-01 00:00:00" for the first
	// column and "" for the others; an integer id wants "0").
	Start []string `yaml:"start,omitempty"`
	// PageSize is the query's LIMIT: a page with fewer rows is the last
	// (default 5000).
	PageSize int `yaml:"page_size,omitempty"`
	// Snapshot (items only) reads the whole catalog on every run, with no
	// cursor and no parameters, and replaces the catalog with it.
	Snapshot bool `yaml:"snapshot,omitempty"`
}

// Columns is a list of column names; YAML may give one name as a scalar.
type Columns []string

// UnmarshalYAML reads a name or a list of names.
func (c *Columns) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*c = Columns{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*c = list
	return nil
}

func (q *Query) check(k record.Kind, driver string) error {
	if strings.TrimSpace(q.SQL) == "" {
		return errors.New("sql: required")
	}
	params := countParams(q.SQL, driver)
	if q.Snapshot {
		if k != record.KindItem {
			return errors.New("snapshot: only the items catalog is read as a whole")
		}
		if len(q.Cursor) > 0 || q.TieKey != "" {
			return errors.New("snapshot: a snapshot query has no cursor or tie_key")
		}
		if params != 0 {
			return fmt.Errorf("sql: a snapshot query takes no parameters, this one has %d", params)
		}
		return nil
	}
	if len(q.Cursor) == 0 {
		return errors.New("cursor: name the column(s) that order the rows, e.g. [updated_at, id]")
	}
	if q.TieKey != "" && len(q.Cursor) > 1 {
		return errors.New("tie_key: a composite cursor needs none (its last column already breaks ties)")
	}
	if params != len(q.Cursor) {
		return fmt.Errorf("sql: the query has %d parameter(s) and the cursor %d column(s); each cursor value is one parameter", params, len(q.Cursor))
	}
	if len(q.Start) > len(q.Cursor) {
		return fmt.Errorf("start: %d values for %d cursor column(s)", len(q.Start), len(q.Cursor))
	}
	if q.PageSize < 0 {
		return errors.New("page_size: must be positive")
	}
	return nil
}

// countParams counts the distinct parameters of a query: $n (the highest
// n) for PostgreSQL, ? for MySQL, outside quotes and comments.
func countParams(sql, driver string) int {
	n := 0
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := strings.IndexByte(sql[i+1:], c)
			if j < 0 {
				return n
			}
			i += j + 1
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return n
			}
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return n
			}
			i += j + 3
		case driver == "mysql" && c == '?':
			n++
		case driver == "pgx" && c == '$':
			v, j := 0, i+1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				v = v*10 + int(sql[j]-'0')
				j++
			}
			n = max(n, v)
			i = j - 1
		}
	}
	return n
}

// startCursor is the cursor of a kind's first run.
func (q *Query) startCursor() kindCursor {
	kc := kindCursor{After: make([]cursorValue, len(q.Cursor))}
	for i := range kc.After {
		s := ""
		if i == 0 {
			s = "1970-01-01 00:00:00"
		}
		if i < len(q.Start) {
			s = q.Start[i]
		}
		kc.After[i] = cursorValue{S: &s}
	}
	return kc
}
