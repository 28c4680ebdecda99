package bad

import (
	"context" // want "import \"context\""
	"crypto/cipher"
	crand "crypto/rand" // want "import \"crypto/rand\""
	"hash/maphash"      // want "import \"hash/maphash\""
	"io/ioutil"         // want "import \"io/ioutil\""
	"log/slog"
	"math/rand" // want "import \"math/rand\""
	r2 "math/rand/v2"
	"net" // want "import \"net\""
	"net/netip"
	"os"
	"os/exec" // want "import \"os/exec\""
	"path/filepath"
	. "strings" // want "dot import"
	"sync"      // want "import \"sync\""
	clock "time"
)

func violations(ch1, ch2 chan int) {
	_ = clock.Now()               // want "clock.Now"
	clock.Sleep(clock.Second)     // want "clock.Sleep"
	_ = clock.Since(clock.Time{}) // want "clock.Since"
	<-clock.After(clock.Second)   // want "clock.After"
	_ = clock.NewTimer(1)         // want "clock.NewTimer"
	_ = clock.NewTicker(1)        // want "clock.NewTicker"
	now := clock.Now              // want "clock.Now"
	_ = now
	_ = rand.Intn(3)                          // (reported at the import)
	_ = r2.IntN(3)                            // want "rand.IntN"
	_ = r2.New(r2.NewPCG(1, 2))               // allowed: a seeded stream
	_, _ = net.Dial("udp", "127.0.0.1:1")     // (reported at the import)
	_, _ = netip.ParseAddr("10.0.0.1")        // allowed: addresses are values
	_ = os.Getenv("HOME")                     // want "os.Getenv"
	_, _ = os.ReadFile("x")                   // want "os.ReadFile"
	_ = os.ErrNotExist                        // allowed: an error value
	var wg sync.WaitGroup                     // (reported at the import)
	wg.Go(func() {})                          // (reported at the import)
	_ = exec.Command                          // (reported at the import)
	_ = crand.Reader                          // (reported at the import)
	_ = context.Background()                  // (reported at the import)
	_ = maphash.MakeSeed                      // (reported at the import)
	_, _ = ioutil.ReadFile("x")               // (reported at the import)
	slog.Info("hello")                        // want "slog.Info"
	_ = slog.New(nil)                         // allowed: a logger built from a handler
	_, _ = cipher.NewGCMWithRandomNonce(nil)  // want "cipher.NewGCMWithRandomNonce"
	_, _ = filepath.Glob("*")                 // want "filepath.Glob"
	_ = filepath.Join("a", "b")               // allowed: string manipulation
	_, _ = clock.LoadLocation("Europe/Paris") // want "clock.LoadLocation"
	_ = clock.Time{}.Local()                  // want ".Local()"
	_ = clock.Time{}.UTC()                    // allowed
	_ = ToUpper("x")                          // (reported at the dot import)
	go func() {}()                            // want "go statement"
	select {                                  // want "select with 2 cases"
	case <-ch1:
	case <-ch2:
	}
	select { // allowed: one case and a default cannot race
	case <-ch1:
	default:
	}
	_ = clock.Duration(5) * clock.Millisecond // allowed: durations are values, not readings
}
