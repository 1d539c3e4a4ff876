//go:build !linux

package server

import "net"

// setCongestion does nothing: loopback_congestion is for Linux, where
// TCP_CONGESTION chooses the algorithm of one socket.
func setCongestion(c *net.TCPConn, name string) error { return nil }
