"""Reference implementation of the TPE core (src/engine/search_tpe.c), in
Python with NumPy.

Written from Optuna's TPESampler (optuna/samplers/_tpe: sampler.py,
parzen_estimator.py, probability_distributions.py, _truncnorm.py) in its
own shape: every suggestion re-ranks the trials, re-sorts each estimator's
values with a stable argsort, builds every kernel and sums every kernel's
density at every candidate with a log-sum-exp over a (candidates x kernels)
matrix. The C core does none of that (it keeps sorted arrays as trials
arrive, caches kernel normalisers and sums only the kernels near a
candidate), which is what tests/test_tpe_reference.py checks it against:
the densities must agree to 1e-9 and the suggestions must be the same.

The deviations from Optuna are the C core's, listed in its header comment;
the sampling (which kernel, which value) mirrors the C core's draw for draw
on the engine's generator, so that both sides weigh the same candidates:
``Rng`` is tests/sched_reference.py's xoshiro256**, ``normal`` is
src/engine/rng.c's Box-Muller, and the few sums that decide a draw are
summed in the C core's order. Nothing here imports tunec.
"""

import math

import numpy as np

from sched_reference import Rng

FLOAT, INT, CATEGORICAL = 0, 1, 2
RUNNING, COMPLETE, GONE = 0, 1, 2
LOG_SQRT_2PI = 0.91893853320467274178032973640562
RAMP_FLAT = 25
MAX_REJECT = 1000

EI_FLOOR = 24
DEFAULTS = dict(n_startup_trials=10, n_ei_candidates=24, ei_budget=0, gamma_fraction=0.1,
                gamma_max=25,
                prior_weight=1.0, consider_prior=1, consider_magic_clip=1, consider_endpoints=0,
                multivariate=1, constant_liar=0, mode_max=0, seed=0)


# ---------------------------------------------------------------------------
# the generator's draws, as src/engine/rng.c makes them


def normal(rng):
    u1 = 1.0 - rng.random()
    u2 = rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586476925286766559 * u2)


def pick(rng, weights):
    u = rng.random()
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


def sample_trunc(rng, mu, sigma, lo, hi):
    for _ in range(MAX_REJECT):
        x = mu + sigma * normal(rng)
        if lo <= x <= hi:
            return x
    return min(max(mu, lo), hi)


# ---------------------------------------------------------------------------
# the standard normal's tails (Optuna's _truncnorm, scalar)


def ndtr(a):
    x = a * 0.70710678118654752440084436210485
    if x < -0.70710678118654752440084436210485:
        return 0.5 * math.erfc(-x)
    if x < 0.70710678118654752440084436210485:
        return 0.5 + 0.5 * math.erf(x)
    return 1.0 - 0.5 * math.erfc(x)


def log_ndtr(a):
    if a > 6:
        return -ndtr(-a)
    if a > -20:
        return math.log(ndtr(a))
    log_lhs = -0.5 * a * a - math.log(-a) - LOG_SQRT_2PI
    total, last, numerator, denom_factor, sign, i = 1.0, 0.0, 1.0, 1.0, 1, 0
    while abs(last - total) > 2.220446049250313e-16:
        i += 1
        last = total
        sign = -sign
        denom_factor *= 1.0 / (a * a)
        numerator *= 2 * i - 1
        total += sign * numerator * denom_factor
    return log_lhs + math.log(total)


def _log1p_neg_exp(x):
    return math.log1p(-math.exp(x)) if x < 0 else -math.inf


def log_gauss_mass_scalar(a, b):
    if b <= 0:
        lb, la = log_ndtr(b), log_ndtr(a)
        return lb + _log1p_neg_exp(la - lb) if lb > -math.inf else -math.inf
    if a > 0:
        return log_gauss_mass_scalar(-b, -a)
    return math.log1p(-ndtr(a) - ndtr(-b))


log_gauss_mass = np.frompyfunc(log_gauss_mass_scalar, 2, 1)


def lgm(a, b):
    return np.asarray(log_gauss_mass(a, b), dtype=float)


def logsumexp_rows(m):
    mx = m.max(axis=1)
    mx[np.isneginf(mx)] = 0
    with np.errstate(divide="ignore"):
        return np.log(np.exp(m - mx[:, None]).sum(axis=1)) + mx


# ---------------------------------------------------------------------------
# parameters


class Param:
    def __init__(self, d):
        self.name = d.get("name")
        self.kind = d.get("kind", FLOAT)
        self.low = float(d.get("low", 0))
        self.high = float(d.get("high", 0))
        self.step = float(d.get("step", 0) or 0)
        self.log = bool(d.get("log", False))
        self.n_choices = int(d.get("n_choices", 0) or 0)
        self.cat = self.kind == CATEGORICAL
        self.grid = not self.cat and self.step > 0
        if self.cat:
            self.constant = self.n_choices == 1
            self.lo, self.hi, self.mstep = 0.0, float(self.n_choices - 1), 0.0
            self.L = self.H = self.width = 0.0
            return
        if self.grid:
            k = math.floor((self.high - self.low) / self.step + 1e-9)
            self.ngrid = k + 1
            self.high = min(self.low + k * self.step, self.high)
            self.constant = self.ngrid == 1
        else:
            self.constant = self.low == self.high
        if self.log:
            self.lo = math.log(self.low - self.step / 2 if self.grid else self.low)
            self.hi = math.log(self.high + self.step / 2 if self.grid else self.high)
            self.mstep = 0.0
        else:
            self.lo, self.hi = self.low, self.high
            self.mstep = self.step if self.grid else 0.0
        self.L = self.lo - self.mstep / 2
        self.H = self.hi + self.mstep / 2
        self.width = self.hi - self.lo + self.mstep

    def to_model(self, v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if not math.isfinite(v):
            raise ValueError("value must be finite")
        if self.cat:
            if v != math.floor(v) or v < 0 or v >= self.n_choices:
                raise ValueError("categorical index out of range")
            return float(v)
        v = min(max(float(v), self.low), self.high)
        return math.log(v) if self.log else v

    def snap(self, v):
        return min(max(self.low + math.floor((v - self.low) / self.step + 0.5) * self.step,
                       self.low), self.high)

    def to_grid(self, x):
        if not self.grid:
            return x
        if self.log:
            return math.log(self.snap(math.exp(x)))
        return self.snap(x)

    def to_external(self, x):
        if self.cat or not self.log:
            return x
        if self.grid:
            return self.snap(math.exp(x))
        return min(max(math.exp(x), self.low), self.high)


def default_weights(n):
    """Optuna's default_weights."""
    if n == 0:
        return np.asarray([])
    if n < 25:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)])


def raw_total(n, prior_weight, with_prior):
    """The normalising total the C core sums (ramp first, in order)."""
    if n == 0:
        return 1.0
    s = 0.0
    for w in default_weights(n)[:max(n - RAMP_FLAT, 0)]:
        s += float(w)
    s += float(n - max(n - RAMP_FLAT, 0))
    return s + (prior_weight if with_prior else 0.0)


# ---------------------------------------------------------------------------
# the searcher


class TPE:
    def __init__(self, params, opts=None):
        self.o = dict(DEFAULTS)
        self.o.update(opts or {})
        if not params:
            raise ValueError("at least one parameter")
        self.params = [Param(p) for p in params]
        self.rng = Rng(self.o["seed"])
        self.values = []    # per trial: model values (None: absent)
        self.state = []
        self.loss = []

    # observations ----------------------------------------------------------

    def add(self, values):
        model = [p.to_model(values[i] if i < len(values) else None)
                 for i, p in enumerate(self.params)]
        self.values.append(model)
        self.state.append(RUNNING)
        self.loss.append(math.nan)
        return len(self.values) - 1

    def _running(self, t):
        if not 0 <= t < len(self.state) or self.state[t] != RUNNING:
            raise ValueError("not a running trial")

    def complete(self, t, objective):
        self._running(t)
        if objective is None or math.isnan(objective):
            return self.fail(t)
        self.state[t] = COMPLETE
        self.loss[t] = -objective if self.o["mode_max"] else objective
        return 0

    def fail(self, t):
        self._running(t)
        self.state[t] = GONE
        return 0

    def observe(self, values, objective):
        t = self.add(values)
        self.complete(t, objective)
        return t

    # suggestions -----------------------------------------------------------

    def _considered(self, t):
        return self.state[t] == COMPLETE or (self.o["constant_liar"] and self.state[t] == RUNNING)

    def suggest(self):
        complete = [t for t, s in enumerate(self.state) if s == COMPLETE]
        n = len(complete)
        if n < self.o["n_startup_trials"]:
            return {"r": [self._random(p) for p in self.params], "random": True,
                    "trace": [None] * len(self.params)}
        ranked = sorted(complete, key=lambda t: (self.loss[t], t))
        n_below = min(math.ceil(self.o["gamma_fraction"] * n), self.o["gamma_max"], n)
        below = set(ranked[:n_below])
        groups = {
            0: [t for t in range(len(self.state)) if t in below],
            1: [t for t in range(len(self.state)) if self._considered(t) and t not in below],
        }
        out = [None] * len(self.params)
        trace = [None] * len(self.params)
        self.ne = self._candidates(n)
        joint = self._joint_group()
        if joint:
            self._suggest_joint(joint, groups, out, trace)
        for i, p in enumerate(self.params):
            if i in joint:
                continue
            if p.constant:
                out[i] = 0.0 if p.cat else p.low
                continue
            self._suggest_univariate(i, groups, out, trace)
        return {"r": out, "random": False, "trace": trace}

    def _candidates(self, n_complete):
        """The candidate count: n_ei_candidates, or ei_budget // (trials
        modelled) clipped to [min(24, n_ei_candidates), n_ei_candidates]."""
        most = self.o["n_ei_candidates"]
        if self.o["ei_budget"] <= 0:
            return most
        n = n_complete + (sum(s == RUNNING for s in self.state) if self.o["constant_liar"]
                          else 0)
        ne = self.o["ei_budget"] // n if n else most
        return max(min(most, EI_FLOOR), min(ne, most))

    def _random(self, p):
        if p.constant:
            return 0.0 if p.cat else p.low
        if p.cat:
            return float(self.rng.below(p.n_choices))
        if p.grid and not p.log:
            return min(max(p.low + self.rng.below(p.ngrid) * p.step, p.low), p.high)
        return p.to_external(p.to_grid(p.L + self.rng.random() * (p.H - p.L)))

    def _joint_group(self):
        if not self.o["multivariate"]:
            return []
        considered = [t for t in range(len(self.state)) if self._considered(t)]
        return [i for i, p in enumerate(self.params) if not p.constant
                and all(self.values[t][i] is not None for t in considered)]

    # univariate ------------------------------------------------------------

    def _estimator(self, i, trials):
        """Kernels of parameter i over the trials (age order), in value order
        as Optuna's stable argsort puts them: (mus, sigmas, weights, is_prior)."""
        p = self.params[i]
        obs = np.asarray([self.values[t][i] for t in trials if self.values[t][i] is not None],
                         dtype=float)
        n = len(obs)
        with_prior = bool(self.o["consider_prior"]) or n == 0
        prior_mu = 0.5 * (p.lo + p.hi)
        mus = np.append(obs, prior_mu) if with_prior else obs
        raw = np.append(default_weights(n), self.o["prior_weight"]) if with_prior and n else (
            default_weights(n) if n else np.array([1.0]))
        order = np.argsort(mus, kind="stable")
        sorted_mus = mus[order]
        ends = np.concatenate([[p.L], sorted_mus, [p.H]])
        sig = np.maximum(ends[1:-1] - ends[:-2], ends[2:] - ends[1:-1])
        if not self.o["consider_endpoints"] and len(ends) >= 4:
            sig[0] = ends[2] - ends[1]
            sig[-1] = ends[-2] - ends[-3]
        if self.o["consider_magic_clip"]:
            minsig = p.width / min(100.0, 1.0 + n + with_prior)
        else:
            minsig = 1e-12
        sig = np.clip(sig, minsig, p.width)
        is_prior = order == len(obs)
        sig[is_prior] = p.width
        w_density = raw / raw.sum()
        total = raw_total(n, self.o["prior_weight"], with_prior)
        w_sample = [float(r) / total for r in raw[order]] if n else [1.0]
        return sorted_mus, sig, w_density[order], w_sample, is_prior, n

    def _log_pdf_numeric(self, p, mus, sig, w, x):
        x = np.asarray(x, dtype=float)[:, None]
        mass = lgm((p.L - mus) / sig, (p.H - mus) / sig)[None, :]
        if p.mstep > 0:
            lo = np.maximum(x - p.mstep / 2, p.L)
            hi = np.minimum(x + p.mstep / 2, p.H)
            comp = lgm((lo - mus) / sig, (hi - mus) / sig) - mass
        else:
            z = (x - mus) / sig
            comp = -0.5 * z * z - LOG_SQRT_2PI - np.log(sig) - mass
        with np.errstate(divide="ignore"):
            return logsumexp_rows(comp + np.log(w)[None, :])

    def _cat_rows(self, p, mus, is_prior, n):
        """Optuna's categorical kernel weights, one row per kernel."""
        nk = n + bool(self.o["consider_prior"])
        rows = np.full((len(mus), p.n_choices), self.o["prior_weight"] / max(nk, 1))
        for k, (m, pr) in enumerate(zip(mus, is_prior)):
            if not pr:
                rows[k, int(m)] += 1
        if n == 0:
            rows[:] = 1.0
        return rows / rows.sum(axis=1, keepdims=True)

    def _log_pdf_cat(self, p, mus, w, is_prior, n, x):
        rows = self._cat_rows(p, mus, is_prior, n)
        idx = np.asarray(x, dtype=int)
        with np.errstate(divide="ignore"):
            return logsumexp_rows(np.log(rows[:, idx].T) + np.log(w)[None, :])

    def _cat_marginal_c_order(self, p, mus, w_sample, is_prior, n):
        """The marginal the C core samples a categorical from, summed as it does."""
        nc = p.n_choices
        pw = self.o["prior_weight"]
        nk = n + (1.0 if self.o["consider_prior"] else 0.0)
        den = nc * pw / (nk if nk > 0 else 1.0) + 1.0
        a, wprior, b = 0.0, 0.0, [0.0] * nc
        for m, w, pr in zip(mus, w_sample, is_prior):
            if pr:
                wprior += w
            else:
                a += w
                b[int(m)] += w
        return [((a * pw / nk + b[j]) / den if n else 0.0) + wprior / nc for j in range(nc)]

    def _suggest_univariate(self, i, groups, out, trace):
        p = self.params[i]
        ne = self.ne
        mus_b, sig_b, w_b, ws_b, prior_b, n_b = self._estimator(i, groups[0])
        if p.cat:
            marg = self._cat_marginal_c_order(p, mus_b, ws_b, prior_b, n_b)
            x = [float(pick(self.rng, marg)) for _ in range(ne)]
            ll = self._log_pdf_cat(p, mus_b, w_b, prior_b, n_b, x)
            mus_a, _, w_a, _, prior_a, n_a = self._estimator(i, groups[1])
            lg = self._log_pdf_cat(p, mus_a, w_a, prior_a, n_a, x)
            values = x
        else:
            x = []
            for _ in range(ne):
                k = pick(self.rng, ws_b)
                x.append(p.to_grid(sample_trunc(self.rng, mus_b[k], sig_b[k], p.L, p.H)))
            ll = self._log_pdf_numeric(p, mus_b, sig_b, w_b, x)
            mus_a, sig_a, w_a, _, _, _ = self._estimator(i, groups[1])
            lg = self._log_pdf_numeric(p, mus_a, sig_a, w_a, x)
            values = [p.to_external(v) for v in x]
        chosen = argmax(ll - lg)
        out[i] = values[chosen]
        trace[i] = {"values": values, "ll": list(ll), "lg": list(lg), "chosen": chosen,
                    "joint": False}

    # multivariate ----------------------------------------------------------

    def _joint_estimator(self, joint, trials):
        n = len(trials)
        with_prior = bool(self.o["consider_prior"]) or n == 0
        raw = default_weights(n)
        if with_prior:
            raw = np.append(raw, self.o["prior_weight"] if n else 1.0)
        total = raw_total(n, self.o["prior_weight"], with_prior)
        w_sample = [float(r) / total for r in raw]
        kernels = {}
        for i in joint:
            p = self.params[i]
            obs = np.asarray([self.values[t][i] for t in trials], dtype=float)
            if p.cat:
                kernels[i] = (np.append(obs, -1.0) if with_prior else obs, None)
                continue
            if self.o["consider_magic_clip"]:
                minsig = p.width / min(100.0, 1.0 + n + with_prior)
            else:
                minsig = 1e-12
            mus, sig = obs, self._joint_sigmas(obs, p, minsig)
            if with_prior:
                mus = np.append(mus, 0.5 * (p.lo + p.hi))
                sig = np.append(sig, p.width)
            kernels[i] = (mus, sig)
        return raw / raw.sum(), w_sample, kernels, n

    def _joint_sigmas(self, obs, p, minsig):
        """Optuna 5's compute_sigmas (parzen_estimator.py), which serves the
        multivariate model too: gaps among the observations alone (the prior
        is appended afterwards), the domain's ends as neighbours."""
        n = len(obs)
        if n == 0:
            return np.zeros(0)
        order = np.argsort(obs, kind="stable")
        ends = np.concatenate([[p.L], obs[order], [p.H]])
        sorted_sig = np.maximum(ends[1:-1] - ends[:-2], ends[2:] - ends[1:-1])
        if not self.o["consider_endpoints"] and len(ends) >= 4:
            sorted_sig[0] = ends[2] - ends[1]
            sorted_sig[-1] = ends[-2] - ends[-3]
        sig = np.empty(n)
        sig[order] = sorted_sig
        return np.clip(sig, minsig, p.width)

    def _joint_rows(self, p, obs, n):
        nk = n + bool(self.o["consider_prior"])
        base = self.o["prior_weight"] / nk if nk > 0 else 0.0
        den = p.n_choices * base + 1.0
        lo, hi = math.log(base / den) if base > 0 else -math.inf, math.log((base + 1.0) / den)
        return lo, hi

    def _joint_log_pdf(self, joint, est, cands):
        w, _, kernels, n = est
        total = np.log(w)[None, :].repeat(len(cands), axis=0)
        for i in joint:
            p = self.params[i]
            x = np.asarray([c[i] for c in cands], dtype=float)[:, None]
            mus, sig = kernels[i]
            if p.cat:
                lo, hi = self._joint_rows(p, mus, n)
                comp = np.where(mus[None, :] == x, hi, lo)
                comp = np.where(mus[None, :] < 0, -math.log(p.n_choices), comp)
            else:
                mass = lgm((p.L - mus) / sig, (p.H - mus) / sig)[None, :]
                if p.mstep > 0:
                    lo = np.maximum(x - p.mstep / 2, p.L)
                    hi = np.minimum(x + p.mstep / 2, p.H)
                    comp = lgm((lo - mus) / sig, (hi - mus) / sig) - mass
                else:
                    z = (x - mus) / sig
                    comp = -0.5 * z * z - LOG_SQRT_2PI - np.log(sig) - mass
            total = total + comp
        return logsumexp_rows(total)

    def _suggest_joint(self, joint, groups, out, trace):
        ne = self.ne
        est_b = self._joint_estimator(joint, groups[0])
        _, ws, kernels, n = est_b
        cands = []
        for _ in range(ne):
            k = pick(self.rng, ws)
            c = {}
            for i in joint:
                p = self.params[i]
                mus, sig = kernels[i]
                if p.cat:
                    o = mus[k]
                    if o < 0:
                        lo = hi = math.exp(-math.log(p.n_choices))
                    else:
                        llo, lhi = self._joint_rows(p, mus, n)
                        lo, hi = math.exp(llo), math.exp(lhi)
                    u, acc, choice = self.rng.random(), 0.0, p.n_choices - 1
                    for j in range(p.n_choices):
                        acc += hi if (o >= 0 and int(o) == j) else lo
                        if u < acc:
                            choice = j
                            break
                    c[i] = float(choice)
                else:
                    c[i] = p.to_grid(sample_trunc(self.rng, mus[k], sig[k], p.L, p.H))
            cands.append(c)
        ll = self._joint_log_pdf(joint, est_b, cands)
        lg = self._joint_log_pdf(joint, self._joint_estimator(joint, groups[1]), cands)
        chosen = argmax(ll - lg)
        for i in joint:
            p = self.params[i]
            values = [p.to_external(c[i]) for c in cands]
            out[i] = values[chosen]
            trace[i] = {"values": values, "ll": list(ll), "lg": list(lg), "chosen": chosen,
                        "joint": True}


def argmax(scores):
    """The first maximum, NaN never chosen (0 when every score is NaN)."""
    best, have = 0, False
    for i, s in enumerate(scores):
        if math.isnan(s):
            continue
        if not have or s > scores[best]:
            best, have = i, True
    return best
