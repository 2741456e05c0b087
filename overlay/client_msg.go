package overlay

import "context"

// GoMsg is Go for a request the caller built itself, e.g. with Dst set to a
// rank (NewRequest leaves it "any"). The tag is assigned here.
func (c *Client) GoMsg(m *Msg, done func(resp *Msg, err error)) error {
	return c.start(m, &call{complete: func(r *Msg, err error) {
		if err == nil {
			err = remoteError(r)
		}
		done(r, err)
	}})
}

// RPCTo is RPC addressed to one rank of the instance (AnyRank: the nearest
// provider of the service).
func (c *Client) RPCTo(ctx context.Context, rank int, topic string, req any, resp any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := NewRequest(topic, req)
	if err != nil {
		return err
	}
	m.Dst = int32(rank)
	type result struct {
		m   *Msg
		err error
	}
	ch := make(chan result, 1)
	if err := c.GoMsg(m, func(r *Msg, err error) { ch <- result{r, err} }); err != nil {
		return err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return r.err
		}
		if resp != nil {
			return r.m.Decode(resp)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
