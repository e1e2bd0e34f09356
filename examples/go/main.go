//go:build !inline

// The program as `pulumi up` runs it (the Go language host builds this
// directory without tags). inline.go is the same plan on the Automation API,
// for machines without the Go language host.
package main

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

func main() {
	pulumi.Run(addressPlan)
}
