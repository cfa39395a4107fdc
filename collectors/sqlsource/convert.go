package sqlsource

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// zoneless lists the database types whose values are wall-clock times
// without a zone: they are written "2006-01-02 15:04:05" and read by
// record.Parser in the business time zone.
var zoneless = map[string]bool{"TIMESTAMP": true, "DATETIME": true}

// canonical renders a scanned value as the string record.Parser reads.
// dbType is the column's database type name (DatabaseTypeName).
func canonical(v any, dbType string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		switch {
		case dbType == "DATE":
			return x.Format(time.DateOnly) // a bare date: the parser says it is not a time
		case zoneless[dbType]:
			return x.Format(time.DateTime)
		}
		return x.Format(time.RFC3339)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []byte:
		return text(string(x), dbType)
	case string:
		return text(x, dbType)
	}
	return fmt.Sprint(v)
}

// text passes text through, except zone-less times with fractional
// seconds (MySQL DATETIME(6) as text): the canonical zone-less form has
// whole seconds.
func text(s, dbType string) string {
	if zoneless[dbType] && len(s) > 19 && s[19] == '.' {
		return s[:19]
	}
	if dbType == "NUMERIC" || dbType == "DECIMAL" {
		// 5.00 → 5: counts and scores stored as decimals.
		if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
			return s[:i]
		}
	}
	return s
}
