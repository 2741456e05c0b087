package overlay

// OnRequest makes the client a server too: requests that arrive on its
// connection (a broker hands it the requests for services it registered with
// service.add) go to fn, on the reader goroutine, so fn must not block. In
// particular fn should not Send its response itself, since Send waits while
// the connection's send queue is full, and a reader waiting on its writer can
// deadlock with a peer doing the same (STYLE.md 5): answer from another
// goroutine (go c.Send(resp)) or hand the request to one that serves it.
// A request with FlagNoResponse (tag 0) wants no answer.
//
// Without it, or after OnRequest(nil), the client answers every request
// ENOSYS as before. Set it before registering a service, so that no request
// arrives first.
func (c *Client) OnRequest(fn func(m *Msg)) {
	if fn == nil {
		c.serve.Store(nil)
		return
	}
	c.serve.Store(&fn)
}

// Send sends a message as is, e.g. a Response built with m.Respond or
// m.RespondError for a request fn received. It blocks while the connection's
// send queue is full. Once the connection is lost it fails with the same error
// as every later call.
func (c *Client) Send(m *Msg) error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.conn.Send(m)
}
