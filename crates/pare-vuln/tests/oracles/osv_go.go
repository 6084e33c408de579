// The Go oracle of tests/ecosystems.rs: evaluates the OSV records of a
// folder for (name, version) queries read from stdin ("name\tversion" a
// line), with the Go team's own version order, golang.org/x/mod/semver
// (Debian's golang-golang-x-mod-dev). Prints "name\tversion\tID\tfixed"
// for every record affecting the query ("-" when no fix is known).
//
// Toolchain versions (stdlib "go1.20", "go1.21rc2") are turned into the
// semantic versions the Go vulnerability database uses, as its
// cmd/vulnreport does (go1.20 -> 1.20.0, go1.21rc2 -> 1.21.0-rc.2).
//
// Nothing here comes from pare: the range walk follows the OSV schema's
// evaluation pseudo-code, the order is x/mod/semver's.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/mod/semver"
)

type event struct {
	Introduced   string `json:"introduced"`
	Fixed        string `json:"fixed"`
	LastAffected string `json:"last_affected"`
	Limit        string `json:"limit"`
}

type record struct {
	ID       string `json:"id"`
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string  `json:"type"`
			Events []event `json:"events"`
		} `json:"ranges"`
		Versions []string `json:"versions"`
	} `json:"affected"`
}

var tag = regexp.MustCompile(`^go(\d+\.\d+)(\.\d+|)((beta|rc)(\d+))?$`)

func toolchain(v string) string {
	m := tag.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	out := m[1]
	if m[2] != "" {
		out += m[2]
	} else {
		out += ".0"
	}
	if m[3] != "" {
		out += "-" + m[4] + "." + m[5]
	}
	return out
}

// cmp orders unprefixed versions; "0" is below everything.
func cmp(a, b string) int {
	switch {
	case a == "0" && b == "0":
		return 0
	case a == "0":
		return -1
	case b == "0":
		return 1
	}
	return semver.Compare("v"+a, "v"+b)
}

func value(e event) string {
	for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
		if v != "" {
			return v
		}
	}
	return ""
}

func main() {
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.json"))
	if err != nil {
		panic(err)
	}
	var records []record
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			panic(fmt.Sprintf("%s: %v", f, err))
		}
		records = append(records, r)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		parts := strings.SplitN(in.Text(), "\t", 2)
		name, raw := parts[0], parts[1]
		v := strings.TrimPrefix(raw, "v")
		if name == "stdlib" {
			v = toolchain(raw)
		}
		if v == "" || !semver.IsValid("v"+v) {
			continue
		}
		for _, r := range records {
			affected, best := false, ""
			for _, a := range r.Affected {
				if a.Package.Ecosystem != "Go" || a.Package.Name != name {
					continue
				}
				for _, l := range a.Versions {
					if cmp(l, v) == 0 {
						affected = true
					}
				}
				for _, rg := range a.Ranges {
					if rg.Type != "SEMVER" {
						continue
					}
					evs := append([]event(nil), rg.Events...)
					sort.SliceStable(evs, func(i, j int) bool { return cmp(value(evs[i]), value(evs[j])) < 0 })
					in, closing := false, ""
					for i, e := range evs {
						switch {
						case e.Introduced != "" && cmp(v, e.Introduced) >= 0:
							in, closing = true, ""
							// The interval ends at the next fixed event.
							for _, n := range evs[i+1:] {
								if n.Fixed != "" {
									closing = n.Fixed
									break
								}
								if n.LastAffected != "" || n.Introduced != "" {
									break
								}
							}
						case e.Fixed != "" && cmp(v, e.Fixed) >= 0:
							in = false
						case e.LastAffected != "" && cmp(v, e.LastAffected) > 0:
							in = false
						}
					}
					if in {
						affected = true
						if closing != "" && (best == "" || cmp(closing, best) < 0) {
							best = closing
						}
					}
				}
			}
			if affected {
				if best == "" {
					best = "-"
				}
				fmt.Printf("%s\t%s\t%s\t%s\n", name, raw, r.ID, best)
			}
		}
	}
}
