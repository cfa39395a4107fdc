package trend

import "math"

// result is a detector's verdict on one point of a count series.
type result struct {
	// Expected is the in-control count: the baseline mean (EARS) or the
	// day-type expectation mu0 (NB CUSUM).
	Expected float64
	// Spread is the in-control standard deviation the detector assumed:
	// max(sd, min_sigma) of the baseline (EARS), sqrt(mu0 + alpha mu0²)
	// (NB CUSUM).
	Spread float64
	// Upper is the count above which the point alarms (surveillance's
	// upperbound; for the NB CUSUM its "cases").
	Upper float64
	// Score is the statistic compared with the threshold: C1(t) or C2(t),
	// the C3 sum, the CUSUM value.
	Score float64
	Alarm bool
}

// earsC evaluates the last point of y as surveillance's earsC (version
// 1.20.3) does, with method C1, C2 or C3, baseline reference values,
// threshold z (R's qnorm(1 - alpha)) and minSigma. It reports false when
// y is too short for the method: baseline+1 points for C1, baseline+3
// for C2, baseline+5 for C3.
//
// C1 compares y(t) with the mean and sd of the baseline days before t, C2
// with those of the baseline days before t-2 (a 2-day guard, so that the
// start of an outbreak does not hide in its own baseline). C3, as R
// computes it, alarms on max(0, C2(t-2)-1) + max(0, C2(t-1)-1) > z: the
// code leaves C2(t) itself out of the sum (its documentation does not),
// so that C3 tells of the two days before and not of t. Divisions by a
// zero sd give ±Inf or NaN exactly as in R (minSigma = 0 only); a NaN
// bound never alarms, where R says NA.
func earsC(m Method, y []float64, baseline int, z, minSigma float64) (result, bool) {
	var lag int // days from t back past the last reference value, guard included
	switch m {
	case EARSC1:
		lag = 0
	case EARSC2:
		lag = 2
	case EARSC3:
		lag = 4
	default:
		return result{}, false
	}
	if baseline < 3 || len(y) < baseline+lag+1 {
		return result{}, false
	}
	t := len(y) - 1
	if m == EARSC1 {
		return earsShewhart(y[t], y[t-baseline:t], z, minSigma), true
	}
	if m == EARSC2 {
		return earsShewhart(y[t], y[t-baseline-2:t-2], z, minSigma), true
	}
	// C3: the C2 statistics of t-2 and t-1, and C2's baseline at t for
	// the bound.
	c2 := func(i int) float64 {
		mean, sd := meanSD(y[i-baseline-2 : i-2])
		return (y[i] - mean) / math.Max(sd, minSigma)
	}
	score := math.Max(0, c2(t-2)-1) + math.Max(0, c2(t-1)-1)
	mean, sd := meanSD(y[t-baseline-2 : t-2])
	spread := math.Max(sd, minSigma)
	upper := math.Max(0, y[t]+spread*(z-score))
	return result{Expected: mean, Spread: spread, Upper: upper, Score: score, Alarm: y[t] > upper}, true
}

// earsShewhart is C1 and C2: a Shewhart chart on a short baseline.
func earsShewhart(y float64, ref []float64, z, minSigma float64) result {
	mean, sd := meanSD(ref)
	spread := math.Max(sd, minSigma)
	upper := mean + z*spread
	return result{Expected: mean, Spread: spread, Upper: upper, Score: (y - mean) / spread, Alarm: y > upper}
}

// meanSD returns the mean and the sample standard deviation (n-1), as R's
// mean and sd; two passes keep it exact for the small integer counts
// detectors see.
func meanSD(x []float64) (mean, sd float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1))
}
