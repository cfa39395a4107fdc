package trend

import "math"

// Day types of the NB baseline. A hotline's volume follows China's
// calendar, not the bare weekday: an official holiday on a Wednesday is
// as quiet as a Sunday, and a make-up working day (调休) on a Saturday is
// as busy as a Monday, so the seasonal adjustment groups days by what
// package calendar says they are.
const (
	workday uint8 = 0
	restday uint8 = 1
)

// nbBaseline is a series' in-control model: the expected count of each
// day type and the negative binomial dispersion alpha (variance
// mu + alpha mu²).
type nbBaseline struct {
	mean  [2]float64
	alpha float64
}

// fitNB fits the baseline to the counts y of days of the given types.
// Each day type's mean is shrunk toward the overall mean L by pseudo
// days, (sum of the type + pseudo L) / (days of the type + pseudo), so
// that a sparse series' rest-day mean does not rest on 8 small counts
// alone, while a busy series keeps its own weekly shape. alpha is the
// moment estimate sum((y-mu)² - mu) / sum(mu²), at least alphaFloor: a
// few quiet weeks must not make the chart believe in a Poisson series
// that a real hotline never is.
func fitNB(y []float64, types []uint8, pseudo, alphaFloor float64) nbBaseline {
	var sum, days [2]float64
	total := 0.0
	for i, v := range y {
		sum[types[i]] += v
		days[types[i]]++
		total += v
	}
	l := total / float64(len(y))
	var b nbBaseline
	for g := range b.mean {
		b.mean[g] = l
		if days[g]+pseudo > 0 {
			b.mean[g] = (sum[g] + pseudo*l) / (days[g] + pseudo)
		}
	}
	num, den := 0.0, 0.0
	for i, v := range y {
		m := b.mean[types[i]]
		num += (v-m)*(v-m) - m
		den += m * m
	}
	b.alpha = alphaFloor
	if den > 0 {
		b.alpha = math.Max(alphaFloor, num/den)
	}
	return b
}

// muFloor is the least mean whose NB standard deviation sqrt(mu + alpha
// mu²) is s: min_sigma for the NB chart. Without it a series that was
// always 0 expects 0, and its first 3 tickets look like an epidemic.
// (The root of alpha mu² + mu - s², written without cancellation.)
func muFloor(s, alpha float64) float64 {
	return 2 * s * s / (math.Sqrt(1+4*alpha*s*s) + 1)
}

// nbCUSUM runs the negative binomial LR CUSUM of Höhle and Paul (2008)
// over the counts x with in-control means mu0 and dispersion alpha > 0:
// the chart that surveillance's glrnb runs with a known change kappa (its
// lr_cusum_nb), to detect the means becoming exp(kappa) times larger.
//
//	z(t) = kappa x(t) + (x(t) + 1/alpha) log((1 + alpha mu0) / (1 + alpha mu0 e^kappa))
//	S(t) = max(0, S(t-1) + z(t)), alarm when S(t) > h, then S restarts at 0
//
// It appends one result per point to out: Score S(t), Upper the count
// x(t) at which S(t) would reach h (glrnb's "cases", at least 0).
func nbCUSUM(x, mu0 []float64, alpha, kappa, h float64, out []result) []result {
	s := 0.0
	for i, xi := range x {
		mu := mu0[i]
		l := math.Log((1 + alpha*mu) / (1 + alpha*mu*math.Exp(kappa)))
		z := kappa*xi + (xi+1/alpha)*l
		cases := -(s*alpha + l - h*alpha) / alpha / (kappa + l)
		s = math.Max(0, s+z)
		r := result{Expected: mu, Spread: math.Sqrt(mu + alpha*mu*mu), Upper: math.Max(0, cases), Score: s, Alarm: s > h}
		if r.Alarm {
			s = 0 // glrnb restarts the chart after the alarm
		}
		out = append(out, r)
	}
	return out
}
