package demo_test

import (
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact/demo"
)

func ExampleBundle() {
	raw, err := demo.Bundle(1, time.Date(2025, time.March, 14, 9, 30, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(len(raw) > 100_000, demo.Partners[2].Name)
	// Output: true Japan Defence Ministry Cyber Response Team
}
