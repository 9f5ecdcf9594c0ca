package synth

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
)

// rng is one deterministic random stream: a PCG generator seeded with the
// configuration's seed and a hash of the stream's name. Every process owns
// its own stream, so the values a process draws do not depend on how many
// other processes exist or in which order they are stepped.
type rng struct {
	r        *rand.Rand
	spare    float64
	hasSpare bool
}

func newRNG(seed uint64, name string) *rng {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &rng{r: rand.New(rand.NewPCG(seed, h.Sum64()))}
}

// uniform returns a float64 in [0, 1).
func (g *rng) uniform() float64 { return g.r.Float64() }

// norm returns a standard normal deviate by the Marsaglia polar method. It
// uses only arithmetic, math.Sqrt (correctly rounded everywhere) and
// math.Log1p (pure Go on every architecture but s390x), never math.Exp or
// math.Log, whose amd64 assembly chooses an FMA path by CPU feature; so the
// same seed gives the same bits on every amd64 machine. (rand.NormFloat64
// calls math.Exp and math.Log and is avoided for the same reason.)
func (g *rng) norm() float64 {
	if g.hasSpare {
		g.hasSpare = false
		return g.spare
	}
	for {
		u := 2*g.r.Float64() - 1
		v := 2*g.r.Float64() - 1
		s := u*u + v*v
		if s >= 1 || s == 0 {
			continue
		}
		m := math.Sqrt(-2 * math.Log1p(s-1) / s)
		g.spare, g.hasSpare = v*m, true
		return u * m
	}
}

// exp is e^x computed from math.Expm1 (pure Go) rather than math.Exp (CPU
// dependent assembly on amd64), accurate to a few ulps for every x.
func exp(x float64) float64 {
	if x >= 0 {
		return 1 + math.Expm1(x)
	}
	return 1 / (1 + math.Expm1(-x))
}

// compound returns the growth factor of an APY over dt years:
// (1 + apy)^dt = exp(dt * log1p(apy)).
func compound(apy, dt float64) float64 {
	if apy <= -1 {
		return 0
	}
	return exp(dt * math.Log1p(apy))
}

// ou is an Ornstein-Uhlenbeck process sampled exactly on a fixed step:
//
//	x' = mean + (x - mean)*a + sd*sqrt(1 - a^2)*z,  a = 2^(-dt/halfLife),  z ~ N(0, 1)
//
// sd is the stationary standard deviation and halfLife the time (in years)
// for a deviation to halve. The process starts from its stationary law.
type ou struct {
	mean, sd float64
	a, b     float64
	x        float64
	g        *rng
}

func newOU(g *rng, mean, sd, halfLife, dt float64) *ou {
	a := exp(-math.Ln2 * dt / halfLife)
	p := &ou{mean: mean, sd: sd, a: a, b: sd * math.Sqrt(1-a*a), g: g}
	p.x = mean + sd*g.norm()
	return p
}

// step advances the process by one time step.
func (p *ou) step() {
	p.x = p.mean + (p.x-p.mean)*p.a + p.b*p.g.norm()
}

// logOU is a positive quantity whose logarithm is an OU process around
// log(level): value = level * e^x with x an OU around 0. sd is the
// stationary standard deviation of the log.
type logOU struct {
	level float64
	x     *ou
}

func newLogOU(g *rng, level, sd, halfLife, dt float64) *logOU {
	return &logOU{level: level, x: newOU(g, 0, sd, halfLife, dt)}
}

func (p *logOU) value() float64 { return p.level * exp(p.x.x) }
func (p *logOU) step()          { p.x.step() }

// studentT returns a Student-t deviate with nu degrees of freedom (nu > 2)
// scaled to unit variance: z / sqrt(chi2/nu) x sqrt((nu-2)/nu), chi2 the
// sum of nu squared normals (arithmetic and math.Sqrt only, as norm).
func (g *rng) studentT(nu int) float64 {
	z := g.norm()
	chi := 0.0
	for range nu {
		n := g.norm()
		chi += n * n
	}
	if chi == 0 {
		return z
	}
	return z / math.Sqrt(chi/float64(nu)) * math.Sqrt(float64(nu-2)/float64(nu))
}

// priceProc is a market price with no mean reversion: its log is a random
// walk whose steps are Student-t (fat tails within a step) with a
// volatility that itself clusters (a log-volatility OU, so that calm and
// wild weeks alternate and daily returns keep fat tails too):
//
//	log p' = log p + s z - s^2/2,  s = vol x e^(v - vsd^2) x sqrt(dt),  z ~ t(nu) of unit variance
//
// with v an OU around 0 of stationary sd vsd; E[s^2] = vol^2 dt, and the
// price is a martingale. The log price is reflected at [lo, hi] x level so
// that a path of decades stays within plausible prices.
type priceProc struct {
	level, logp, lo, hi float64
	vol, vsd, sqdt      float64
	nu                  int
	v                   *ou
	g                   *rng
}

func newPriceProc(g, gv *rng, level float64, c priceCalib, dt float64) *priceProc {
	return &priceProc{level: level, lo: math.Log(c.lo), hi: math.Log(c.hi), vol: c.vol, vsd: c.volSD,
		sqdt: math.Sqrt(dt), nu: c.nu, g: g, v: newOU(gv, 0, c.volSD, c.volHalfLife, dt)}
}

func (p *priceProc) value() float64 { return p.level * exp(p.logp) }

func (p *priceProc) step() {
	s := p.vol * exp(p.v.x-p.vsd*p.vsd) * p.sqdt
	p.logp += s*p.g.studentT(p.nu) - s*s/2
	for p.logp > p.hi || p.logp < p.lo {
		if p.logp > p.hi {
			p.logp = 2*p.hi - p.logp
		} else {
			p.logp = 2*p.lo - p.logp
		}
	}
	p.v.step()
}

// logistic maps the real line to (0, 1).
func logistic(y float64) float64 { return 1 / (1 + exp(-y)) }

// logit is the inverse of logistic for p in (0, 1).
func logit(p float64) float64 { return math.Log1p(p/(1-p) - 1) }

// knot is one point of a scenario shape: a value at a number of days
// relative to the scenario's anchor.
type knot struct{ day, v float64 }

// shape is a piecewise-linear function of days since the anchor, flat
// before its first knot and after its last. Knots are in ascending day.
type shape []knot

func (s shape) at(day float64) float64 {
	if len(s) == 0 {
		return 0
	}
	if day <= s[0].day {
		return s[0].v
	}
	for i := 1; i < len(s); i++ {
		if day <= s[i].day {
			a, b := s[i-1], s[i]
			return a.v + (b.v-a.v)*(day-a.day)/(b.day-a.day)
		}
	}
	return s[len(s)-1].v
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// sig rounds v to the given number of significant decimal digits, so that
// the generated history carries the precision real sources carry and its
// CSV form stays small. It uses only exact operations and correctly rounded
// IEEE arithmetic, so it gives the same bits on every machine; values whose
// scale falls outside the exact powers of ten go through strconv.
func sig(v float64, digits int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	a := math.Abs(v)
	e := 0 // a in [10^e, 10^(e+1))
	switch {
	case a >= 1:
		for e+1 < len(pow10) && a >= pow10[e+1] {
			e++
		}
	default:
		e = -1
		for -e < len(pow10)-1 && a*pow10[-e] < 1 {
			e--
		}
	}
	p := digits - 1 - e // round to 10^-p
	switch {
	case p >= 0 && p < len(pow10):
		s := pow10[p]
		return math.Round(v*s) / s
	case p < 0 && -p < len(pow10):
		s := pow10[-p]
		return math.Round(v/s) * s
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return r
}
