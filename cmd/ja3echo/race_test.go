//go:build race

package main

// raceEnabled makes the subprocess binary race-checked too when the tests
// run under -race; its dependencies are already compiled that way.
const raceEnabled = true
