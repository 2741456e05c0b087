package client_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/client"
)

// startInstance stands in for `flux start`: an instance on this machine's
// cores, whose URI a program would find in FLUX_URI.
func startInstance() (uri string, stop func()) {
	in, err := broker.Boot(broker.BootOptions{})
	if err != nil {
		panic(err)
	}
	return in.URI, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in.Close(ctx)
	}
}

// Submit one job, wait for it, read its output and exit status.
func Example() {
	uri, stop := startInstance()
	defer stop()
	ctx := context.Background()

	c, err := client.Connect(uri) // "" connects to FLUX_URI
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	id, err := c.Submit(ctx, client.Job{Command: []string{"echo", "hello"}, Tasks: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Wait(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s", res.Stdout)
	fmt.Println("status", res.Status, "success", res.Success())

	_, err = c.Wait(ctx, id+1000)
	fmt.Println("unknown job is ENOENT:", errors.Is(err, syscall.ENOENT))
	// Output:
	// hello
	// status 0 success true
	// unknown job is ENOENT: true
}

// Run many jobs through a Watcher: submit in one batch, collect each result
// as its job ends (a map step), then reduce.
func ExampleWatcher() {
	uri, stop := startInstance()
	defer stop()
	ctx := context.Background()

	c, err := client.Connect(uri)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	w, err := c.Watch(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	var jobs []client.Job
	for i := 0; i < 10; i++ {
		jobs = append(jobs, client.Job{Command: []string{"sh", "-c", fmt.Sprintf("exit %d", i%3)}})
	}
	if _, err := w.Submit(ctx, jobs...); err != nil {
		fmt.Println(err)
		return
	}
	var statuses []int
	for range jobs {
		r, err := w.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		statuses = append(statuses, r.Status)
	}
	sort.Ints(statuses)
	fmt.Println(statuses)

	// A job larger than the instance is refused with the reason.
	_, err = w.Submit(ctx, client.Job{Command: []string{"true"}, Tasks: 100000})
	var se *client.SubmitError
	fmt.Println("refused:", errors.As(err, &se))
	// Output:
	// [0 0 0 0 1 1 1 2 2 2]
	// refused: true
}
