package broker

import (
	"context"
	"fmt"

	"github.com/fluxtaskfarm/flux/overlay"
)

// WatchResults opens a job.results stream and returns it with its watcher
// id, which jobs submitted with SubmitRequest.Watcher report to. The stream
// may be opened through any broker of the instance.
func WatchResults(c *overlay.Client) (*overlay.Stream, uint64, error) {
	return WatchResultsWith(c, nil)
}

// WatchResultsWith is WatchResults with options (report starts, too).
func WatchResultsWith(c *overlay.Client, req *WatchRequest) (*overlay.Stream, uint64, error) {
	var body any
	if req != nil {
		body = req
	}
	s, err := c.Stream(context.Background(), TopicResults, body)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot watch results: %w", err)
	}
	m, err := s.Recv()
	if err != nil {
		s.Close()
		return nil, 0, fmt.Errorf("cannot watch results: %w", err)
	}
	var first ResultBatch
	if err := m.Decode(&first); err != nil || first.Watcher == 0 {
		s.Close()
		return nil, 0, fmt.Errorf("cannot watch results: the instance did not name the stream (%v)", err)
	}
	return s, first.Watcher, nil
}
