// Command etcd is the stock etcd server, built from the pinned
// go.etcd.io/etcd/server/v3 module (see go.mod) for the e2e harness.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
