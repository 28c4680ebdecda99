package bad

import (
	crand "crypto/rand" // want "import \"crypto/rand\""
	"math/rand"         // want "import \"math/rand\""
	r2 "math/rand/v2"
	"net"
	"os"
	"os/exec" // want "import \"os/exec\""
	"sync"
	clock "time"
)

func violations(ch1, ch2 chan int) {
	_ = clock.Now()                       // want "clock.Now"
	clock.Sleep(clock.Second)             // want "clock.Sleep"
	_ = clock.Since(clock.Time{})         // want "clock.Since"
	<-clock.After(clock.Second)           // want "clock.After"
	_ = clock.NewTimer(1)                 // want "clock.NewTimer"
	_ = clock.NewTicker(1)                // want "clock.NewTicker"
	_ = rand.Intn(3)                      // (already reported at the import)
	_ = r2.IntN(3)                        // want "rand.IntN"
	_ = r2.New(r2.NewPCG(1, 2))           // allowed: a seeded stream
	_, _ = net.Dial("udp", "127.0.0.1:1") // want "net.Dial"
	_, _ = net.ListenPacket("udp", ":0")  // want "net.ListenPacket"
	_ = os.Getenv("HOME")                 // want "os.Getenv"
	_, _ = os.ReadFile("x")               // want "os.ReadFile"
	_ = os.ErrNotExist                    // allowed: an error value
	var m sync.Map                        // want "sync.Map"
	_ = m
	_ = exec.Command
	_ = crand.Reader
	go func() {}() // want "go statement"
	select {       // want "select with 2 cases"
	case <-ch1:
	case <-ch2:
	}
	select { // allowed: one case and a default cannot race
	case <-ch1:
	default:
	}
	_ = clock.Duration(5) * clock.Millisecond // allowed: durations are values, not readings
}
