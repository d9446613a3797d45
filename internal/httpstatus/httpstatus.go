// Package httpstatus maps the domain's error codes to HTTP statuses: the
// one place where that happens, for the API (http/) and the web interface
// (web/) alike.
package httpstatus

import (
	"net/http"

	"github.com/cyberpact/cyberpact"
)

// Of returns the HTTP status of an error code (cyberpact.ErrorCode).
func Of(code string) int {
	switch code {
	case cyberpact.EINVALID:
		return http.StatusBadRequest
	case cyberpact.ENOTFOUND:
		return http.StatusNotFound
	case cyberpact.ECONFLICT:
		return http.StatusConflict
	case cyberpact.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case cyberpact.EFORBIDDEN:
		return http.StatusForbidden
	case cyberpact.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case cyberpact.ENOTIMPLEMENTED:
		return http.StatusNotImplemented
	case cyberpact.EBUSY:
		return http.StatusServiceUnavailable
	case cyberpact.EFULL:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}
