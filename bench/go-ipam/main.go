// Baseline for bench/run.sh: metal-stack/go-ipam's AcquireChildPrefix on the
// same workload as ours (/24s out of 10.0.0.0/8), in memory or on PostgreSQL.
// Prints one JSON object on stdout; progress goes to stderr.
//
//	go-ipam-bench -mode memory -prefill 50000 -prefill-method load -ops 10000 -windows 5 -max-seconds 30
//	go-ipam-bench -mode postgres -pg-host 127.0.0.1 -pg-port 5432 -pg-user ipam -pg-db goipam -ops 2000
//	go-ipam-bench -mode verify -prefill 1500
//
// Prefill: go-ipam's AcquireChildPrefix rebuilds an IP set from every child
// of the parent on each call (O(children) per allocation), so filling a /8
// with 50,000 /24s through it takes far too long for a benchmark run (about
// 25 ms per call at 20,000 children on the reference machine, growing
// linearly). "-prefill-method load" instead builds the exact state those
// 50,000 calls would leave (parent with 50,000 used child entries and
// version 50,000; one child prefix per /24 with its network and broadcast
// addresses reserved) and hands it to go-ipam's own Load(). "-mode verify"
// checks that this synthetic state equals, as go-ipam's Dump() reports it,
// the state real AcquireChildPrefix calls produce, and that the next
// allocation is the same in both.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"syscall"
	"time"

	"github.com/lib/pq"
	goipam "github.com/metal-stack/go-ipam"
)

type result struct {
	Tool          string    `json:"tool"`
	Mode          string    `json:"mode"`
	Parent        string    `json:"parent"`
	Length        int       `json:"length"`
	Prefill       int       `json:"prefill"`
	PrefillMethod string    `json:"prefillMethod"`
	PrefillSec    float64   `json:"prefillSeconds"`
	OpsRequested  int       `json:"opsRequested"`
	Ops           int       `json:"ops"`
	Seconds       float64   `json:"seconds"`
	RateTotal     float64   `json:"rateTotal"`
	WindowRates   []float64 `json:"windowRates"`
	Rate          float64   `json:"rate"`
	WindowCPU     []float64 `json:"windowCpuRates"`
	CPURate       float64   `json:"cpuRate"`
	FirstCidr     string    `json:"firstCidr"`
	LastCidr      string    `json:"lastCidr"`
	CappedByTime  bool      `json:"cappedByTime"`
	GoVersion     string    `json:"goVersion"`
	GoIpamVersion string    `json:"goIpamVersion"`
	Note          string    `json:"note,omitempty"`
	VerifyOK      *bool     `json:"verifyOk,omitempty"`
}

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "go-ipam-bench: "+format+"\n", a...)
	os.Exit(1)
}

// childCidr is the i-th /length inside parent (0-based).
func childCidr(parent netip.Prefix, length, i int) string {
	a := parent.Addr().As4()
	base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v := base + uint32(i)<<(32-length)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), length).String()
}

func lastAddr(p netip.Prefix) string {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (uint32(1) << (32 - p.Bits())) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// prefixJSON mirrors go-ipam's stored and dumped form of a prefix (its json.go).
type prefixJSON struct {
	Cidr                   string          `json:"Cidr"`
	ParentCidr             string          `json:"ParentCidr"`
	Namespace              string          `json:"Namespace"`
	AvailableChildPrefixes map[string]bool `json:"AvailableChildPrefixes"`
	ChildPrefixLength      int             `json:"ChildPrefixLength"`
	IsParent               bool            `json:"IsParent"`
	IPs                    map[string]bool `json:"IPs"`
	Version                int64           `json:"Version"`
}

// syntheticPrefixes is the state n AcquireChildPrefix(parent, length) calls leave behind.
func syntheticPrefixes(parentCidr string, length, n int) []prefixJSON {
	parent := netip.MustParsePrefix(parentCidr)
	out := make([]prefixJSON, 0, n+1)
	avail := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		c := childCidr(parent, length, i)
		avail[c] = false
		cp := netip.MustParsePrefix(c)
		out = append(out, prefixJSON{Cidr: c, ParentCidr: parentCidr, AvailableChildPrefixes: map[string]bool{},
			IPs: map[string]bool{cp.Addr().String(): true, lastAddr(cp): true}})
	}
	out = append(out, prefixJSON{Cidr: parentCidr, AvailableChildPrefixes: avail, IsParent: n > 0,
		IPs: map[string]bool{parent.Addr().String(): true, lastAddr(parent): true}, Version: int64(n)})
	return out
}

// syntheticDump is go-ipam's Dump() format for a parent holding the first n /length children.
func syntheticDump(parentCidr string, length, n int) string {
	b, err := json.Marshal(syntheticPrefixes(parentCidr, length, n))
	if err != nil {
		die("marshal dump: %v", err)
	}
	return string(b)
}

// pgBulkLoad writes the synthetic state straight into go-ipam's table (one
// COPY, one commit) instead of Load()'s one transaction per prefix.
func pgBulkLoad(dsn, parentCidr string, length, n int) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		die("open: %v", err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		die("begin: %v", err)
	}
	st, err := tx.Prepare(pq.CopyIn("prefixes", "cidr", "prefix"))
	if err != nil {
		die("copy: %v", err)
	}
	for _, p := range syntheticPrefixes(parentCidr, length, n) {
		b, err := json.Marshal(p)
		if err != nil {
			die("marshal: %v", err)
		}
		if _, err := st.Exec(p.Cidr, string(b)); err != nil {
			die("copy row: %v", err)
		}
	}
	if _, err := st.Exec(); err != nil {
		die("copy flush: %v", err)
	}
	if err := st.Close(); err != nil {
		die("copy close: %v", err)
	}
	if err := tx.Commit(); err != nil {
		die("commit: %v", err)
	}
}

// canonical parses a Dump() into a comparable form (order-independent, namespace ignored).
func canonical(dump string) map[string]map[string]any {
	var list []map[string]any
	if err := json.Unmarshal([]byte(dump), &list); err != nil {
		die("parse dump: %v", err)
	}
	out := map[string]map[string]any{}
	for _, p := range list {
		delete(p, "Namespace")
		out[p["Cidr"].(string)] = p
	}
	return out
}

func prefill(ctx context.Context, ip goipam.Ipamer, parent string, length, n int, method string) {
	switch method {
	case "load":
		if err := ip.Load(ctx, syntheticDump(parent, length, n)); err != nil {
			die("load: %v", err)
		}
	case "acquire":
		if _, err := ip.NewPrefix(ctx, parent); err != nil {
			die("new prefix: %v", err)
		}
		for i := 0; i < n; i++ {
			if _, err := ip.AcquireChildPrefix(ctx, parent, uint8(length)); err != nil {
				die("prefill acquire %d: %v", i, err)
			}
		}
	default:
		die("unknown -prefill-method %q", method)
	}
}

// cpuNow is the process's user + system CPU time in seconds (all threads, GC included).
func cpuNow() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		die("getrusage: %v", err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func median(xs []float64) float64 {
	ws := append([]float64(nil), xs...)
	sort.Float64s(ws)
	if len(ws)%2 == 0 {
		return (ws[len(ws)/2-1] + ws[len(ws)/2]) / 2
	}
	return ws[len(ws)/2]
}

func measure(ctx context.Context, ip goipam.Ipamer, parent string, length int, r *result, ops, windows int, maxSeconds float64) {
	// A window closes after ops/windows allocations or maxSeconds/windows
	// seconds, whichever comes first, so a slow run still yields several.
	per := ops / windows
	if per < 1 {
		per = 1
	}
	perSec := maxSeconds / float64(windows)
	start := time.Now()
	wStart, wOps, wCPU := start, 0, cpuNow()
	closeWindow := func(now time.Time) {
		c := cpuNow()
		r.WindowRates = append(r.WindowRates, float64(wOps)/now.Sub(wStart).Seconds())
		r.WindowCPU = append(r.WindowCPU, float64(wOps)/max(c-wCPU, 1e-6))
		wStart, wOps, wCPU = now, 0, c
	}
	for i := 0; i < ops; i++ {
		p, err := ip.AcquireChildPrefix(ctx, parent, uint8(length))
		if err != nil {
			die("acquire after %d: %v", r.Ops, err)
		}
		if r.FirstCidr == "" {
			r.FirstCidr = p.Cidr
		}
		r.LastCidr = p.Cidr
		r.Ops++
		wOps++
		now := time.Now()
		if wOps == per || now.Sub(wStart).Seconds() >= perSec || i == ops-1 {
			closeWindow(now)
		}
		if now.Sub(start).Seconds() > maxSeconds && i < ops-1 {
			if wOps > 0 {
				closeWindow(now)
			}
			r.CappedByTime = true
			break
		}
	}
	r.Seconds = time.Since(start).Seconds()
	r.RateTotal = float64(r.Ops) / r.Seconds
	r.Rate = median(r.WindowRates)
	r.CPURate = median(r.WindowCPU)
}

func verify(ctx context.Context, parent string, length, n int) bool {
	real := goipam.New(ctx)
	prefill(ctx, real, parent, length, n, "acquire")
	synth := goipam.New(ctx)
	prefill(ctx, synth, parent, length, n, "load")
	dr, err := real.Dump(ctx)
	if err != nil {
		die("dump: %v", err)
	}
	ds, err := synth.Dump(ctx)
	if err != nil {
		die("dump: %v", err)
	}
	same := reflect.DeepEqual(canonical(dr), canonical(ds))
	a, err := real.AcquireChildPrefix(ctx, parent, uint8(length))
	if err != nil {
		die("verify acquire: %v", err)
	}
	b, err := synth.AcquireChildPrefix(ctx, parent, uint8(length))
	if err != nil {
		die("verify acquire: %v", err)
	}
	fmt.Fprintf(os.Stderr, "go-ipam-bench verify: %d real acquisitions vs synthetic load: state equal=%v, next %s vs %s\n", n, same, a.Cidr, b.Cidr)
	return same && a.Cidr == b.Cidr && a.Cidr == childCidr(netip.MustParsePrefix(parent), length, n)
}

// goIpamVersion is the go-ipam module version this binary was built with.
func goIpamVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/metal-stack/go-ipam" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	mode := flag.String("mode", "memory", "memory | postgres | verify")
	parent := flag.String("parent", "10.0.0.0/8", "parent prefix")
	length := flag.Int("length", 24, "child prefix length")
	n := flag.Int("prefill", 0, "children allocated before measuring")
	method := flag.String("prefill-method", "load", "load (synthetic state via Load) | acquire (real AcquireChildPrefix calls)")
	ops := flag.Int("ops", 10000, "allocations to measure (at most)")
	windows := flag.Int("windows", 5, "measurement windows (the reported rate is their median)")
	maxSeconds := flag.Float64("max-seconds", 30, "stop measuring after this long")
	pgHost := flag.String("pg-host", "127.0.0.1", "")
	pgPort := flag.String("pg-port", "5432", "")
	pgUser := flag.String("pg-user", "ipam", "")
	pgDB := flag.String("pg-db", "goipam", "")
	flag.Parse()
	ctx := context.Background()

	r := result{Tool: "AcquireChildPrefix", Mode: *mode, Parent: *parent, Length: *length,
		Prefill: *n, PrefillMethod: *method, OpsRequested: *ops, GoVersion: runtime.Version(), GoIpamVersion: goIpamVersion()}
	var ip goipam.Ipamer
	switch *mode {
	case "verify":
		ok := verify(ctx, *parent, *length, *n)
		r.VerifyOK = &ok
		_ = json.NewEncoder(os.Stdout).Encode(r)
		if !ok {
			os.Exit(1)
		}
		return
	case "memory":
		ip = goipam.New(ctx)
		r.Note = "goipam.New (in-memory storage); each AcquireChildPrefix is one call, no durability"
	case "postgres":
		st, err := goipam.NewPostgresStorage(*pgHost, *pgPort, *pgUser, "", *pgDB, goipam.SSLModeDisable)
		if err != nil {
			die("postgres: %v", err)
		}
		ip = goipam.NewWithStorage(st)
		r.Note = "goipam.NewPostgresStorage; each AcquireChildPrefix commits two transactions (parent UPDATE, child INSERT); prefill (if any) is one COPY of the synthetic state into go-ipam's prefixes table, checked against go-ipam's own Dump()"
	default:
		die("unknown -mode %q", *mode)
	}
	t := time.Now()
	switch {
	case *n == 0:
		if _, err := ip.NewPrefix(ctx, *parent); err != nil {
			die("new prefix: %v", err)
		}
	case *mode == "postgres" && *method == "load":
		pgBulkLoad(fmt.Sprintf("postgres://%s@%s:%s/%s?sslmode=disable", *pgUser, *pgHost, *pgPort, *pgDB), *parent, *length, *n)
		// What go-ipam itself reads back must be the state real calls leave (see -mode verify).
		d, err := ip.Dump(ctx)
		if err != nil {
			die("dump: %v", err)
		}
		ok := reflect.DeepEqual(canonical(d), canonical(syntheticDump(*parent, *length, *n)))
		r.VerifyOK = &ok
		if !ok {
			die("go-ipam's Dump() after the bulk load differs from the synthetic state")
		}
	default:
		prefill(ctx, ip, *parent, *length, *n, *method)
	}
	r.PrefillSec = time.Since(t).Seconds()
	runtime.GC()
	fmt.Fprintf(os.Stderr, "go-ipam-bench %s: prefilled %d in %.1fs, measuring up to %d ops / %.0fs\n", *mode, *n, r.PrefillSec, *ops, *maxSeconds)
	measure(ctx, ip, *parent, *length, &r, *ops, *windows, *maxSeconds)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		die("encode: %v", err)
	}
}
