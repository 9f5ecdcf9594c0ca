// Package all links in every market adapter yieldvault ships, so that
// adapters.Open can build a market of any kind. Import it for its side
// effects from commands and tests:
//
//	import _ "github.com/yieldvault/yieldvault/adapters/all"
package all

import (
	_ "github.com/yieldvault/yieldvault/adapters/amm"     // registers kind amm
	_ "github.com/yieldvault/yieldvault/adapters/lending" // registers kind lending
	_ "github.com/yieldvault/yieldvault/adapters/lrt"     // registers kind lrt
	_ "github.com/yieldvault/yieldvault/adapters/lst"     // registers kind lst
)
