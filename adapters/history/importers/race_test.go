//go:build race

package importers

// raceEnabled: the race detector makes the real-data corruption test ten
// times slower (minutes) and it runs on one goroutine; it is skipped then
// (the plain `go test ./...` of CI runs it).
const raceEnabled = true
