package main

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// stream is a deterministic random source for one tensor: a PCG generator
// seeded from the run seed and the tensor's name, so the values of a tensor do
// not depend on the order in which tensors are written nor on chunk sizes.
type stream struct {
	pcg   *rand.PCG
	cache uint64 // unused bits of the last draw
	nbits uint
}

func newStream(seed uint64, name string) *stream {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &stream{pcg: rand.NewPCG(seed, h.Sum64())}
}

// bits returns n ≤ 32 fresh random bits.
func (s *stream) bits(n uint) uint64 {
	if s.nbits < n {
		s.cache, s.nbits = s.pcg.Uint64(), 64
	}
	v := s.cache & (1<<n - 1)
	s.cache >>= n
	s.nbits -= n
	return v
}

// unit returns a uniform value in [-1, 1).
func (s *stream) unit() float64 {
	return float64(s.bits(24))*(2.0/(1<<24)) - 1
}

// byte returns a uniform random byte.
func (s *stream) byte() byte { return byte(s.bits(8)) }

// normal returns a standard normal value (Box–Muller; inputs are small, speed
// does not matter here).
func (s *stream) normal() float64 {
	u1 := (float64(s.bits(32)) + 0.5) / (1 << 32)
	u2 := float64(s.bits(32)) / (1 << 32)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
