package cyberpact

import (
	"errors"
	"fmt"
	"syscall"
)

// Error codes. Each service method documents which of them it returns; the
// HTTP layer maps them to statuses in one place and the CLI maps them to exit
// codes.
const (
	ECONFLICT       = "conflict"        // the request conflicts with stored state
	EINTERNAL       = "internal"        // a fault of the hub, never of the caller
	EINVALID        = "invalid"         // the input is malformed or breaks a rule
	ENOTFOUND       = "not_found"       // no such thing, or the caller may not see it
	EUNAUTHORIZED   = "unauthorized"    // no valid credentials
	EFORBIDDEN      = "forbidden"       // valid credentials, not allowed
	ETOOLARGE       = "too_large"       // the input exceeds a configured limit
	ENOTIMPLEMENTED = "not_implemented" // the operation is not supported here
	EBUSY           = "busy"            // another process holds the store's writer: try again shortly
	EFULL           = "disk_full"       // the disk holding the store is full: the write stored nothing; free space and try again
)

// FullMessage is what a write that met a full disk answers (EFULL).
const FullMessage = "the disk is full where the hub keeps its data: nothing of this write was stored; free space there and try again"

// Error is the error type of the domain. Its Message is safe to show to the
// caller; internal details stay in the wrapped error and are only logged.
type Error struct {
	Code    string
	Message string
	Err     error // the underlying cause, if any; never shown to callers
}

// Error returns the message, with the underlying cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil && e.Message != "" && e.Message != e.Err.Error() {
		return e.Message + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil; EFULL in place of EINTERNAL
// when the cause is a full disk (DiskFull).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Code
	}
	if DiskFull(err) {
		return EFULL
	}
	return EINTERNAL
}

// DiskFull reports whether err, or an error it wraps, says that the disk is
// full: the system's ENOSPC, SQLite's SQLITE_FULL (an error with a Code()
// int method whose primary code is 13, as modernc.org/sqlite's), or
// PostgreSQL's disk_full (an error with SQLState() "53100", as pgconn's),
// or an *Error with the code EFULL.
func DiskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	for ; err != nil; err = errors.Unwrap(err) {
		switch e := err.(type) {
		case *Error:
			if e.Code == EFULL {
				return true
			}
		case interface{ SQLState() string }:
			if e.SQLState() == "53100" {
				return true
			}
		case interface{ Code() int }:
			if e.Code()&0xff == 13 {
				return true
			}
		}
	}
	return false
}

// ErrorMessage returns the caller-safe message of err: the Message of its
// first *Error, or a generic text for internal errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL && e.Message != "" {
		return e.Message
	}
	if DiskFull(err) {
		return FullMessage
	}
	return "internal error"
}
