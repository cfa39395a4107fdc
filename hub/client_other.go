//go:build !unix

package hub

import (
	"errors"
	"net"
	"syscall"
)

// rawConn is nil: without unix sockets every write goes through writeLoop.
func rawConn(net.Conn) syscall.RawConn { return nil }

func (c *client) tryWrite([]byte) (int, error) {
	return 0, errors.New("hub: no non-blocking writes on this platform")
}
