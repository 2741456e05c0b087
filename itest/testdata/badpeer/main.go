// Command badpeer tries to join an instance with a key of its own: the
// broker it dials must refuse it. It exits 0 when refused, 1 if let in.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
)

func main() {
	key, _ := overlay.NewKey()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := overlay.DialLink(ctx, os.Args[1], overlay.LinkConfig{Key: key, Session: "nstest", Rank: 1, Encrypt: true})
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	l.Close()
	fmt.Println("let in with a wrong key")
	os.Exit(1)
}
