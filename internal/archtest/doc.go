// Package archtest holds the test that keeps the project's import layers
// one way (see docs/ARCHITECTURE.md). It has no code of its own.
package archtest
