// A small Go program built in module mode with one vendored dependency, so
// the binary carries real build info: main module, a dependency, settings.
package main

import (
	"fmt"
	"os"

	"github.com/pkg/errors"
)

var version = "(devel)"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--fail" {
		fmt.Println(errors.Wrap(errors.New("asked to fail"), "hello"))
		os.Exit(1)
	}
	fmt.Println("hello from go", version)
}
