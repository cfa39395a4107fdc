// Package all lists the built-in connector types. Adding a connector is
// one folder under collectors/ and one line here.
package all

import (
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/filedrop"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/collectors/sqlsource"
)

// Types returns the built-in connector types by name.
func Types() collectors.Types {
	return collectors.Types{
		"httppull": httppull.Type(),
		"push":     push.Type(),
		"filedrop": filedrop.Type(),
		"sql":      sqlsource.Type(),
	}
}
