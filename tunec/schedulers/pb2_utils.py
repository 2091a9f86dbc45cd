"""The GP-bandit math of PB2 (Population Based Bandits; Parker-Holder,
Nguyen and Roberts, NeurIPS 2020), as Ray 1.x ``ray.tune.schedulers.pb2``
does it, in NumPy alone (Ray needs GPy, scikit-learn and SciPy).

The model. Each data row is one training interval of one trial with fixed
hyperparameters: ``x = [t, r, h_1 .. h_d]`` (``t`` the time at the end of the
interval, ``r`` the score at its start, ``h`` the hyperparameters) and
``y = (score_end - score_start) / (t_end - t_start)``, the rate of change.
A Gaussian process with the time-varying squared-exponential kernel of
TV-GP-UCB (Bogunovic et al. 2016) models y:

    k(x, x') = variance * exp(-|z - z'|^2 / lengthscale)
                        * (1 - epsilon) ** (|t - t'| / 2),     z = x[1:]

so old observations count less the further apart in time they are.
``lengthscale`` divides the squared distance as in Ray's kernel (it plays
the role of 2 l^2). The next hyperparameters of a trial that clones a donor
maximise the upper confidence bound ``mean + sqrt(beta) * std`` over the box,
with ``t`` and ``r`` fixed at the donor's, and ``std`` conditioned also on
the points already chosen for other trials whose outcome is not yet known
(GP-BUCB, Desautels et al. 2014: the posterior variance does not depend on
the labels, so pending points reduce it without being observed).

Inputs are normalised before fitting: ``t`` and ``r`` to [0, 1] over the data
rows, the hyperparameters to [0, 1] over their bounds, ``y`` standardised and
clipped to [-2, 2].

Everything here is a pure function of NumPy arrays; randomness only comes
from a ``numpy.random.Generator`` passed in. Shapes: ``n`` data rows, ``d``
hyperparameters, ``m`` query points, ``p`` pending points.
"""
import numpy as np

# Ray keeps the most recent rows only, so the GP stays cheap; its
# select_length compares log-likelihoods of windows of 200 or more rows,
# which (a sum over rows) practically always picks the shortest, 200.
MAX_POINTS = 200

# Ray's UCB schedule: beta_t = c1 + max(0, log(c2 * n)).
UCB_C1 = 0.2
UCB_C2 = 0.4

# Hyperparameter ranges. Ray caps epsilon at 0.5 inside the kernel and clips
# the fitted lengthscale to at most 1.
EPSILON_MAX = 0.5
LENGTHSCALE_MIN = 1e-3
LENGTHSCALE_MAX = 1.0

_LENGTHSCALE_GRID = np.geomspace(0.01, LENGTHSCALE_MAX, 7)
_EPSILON_GRID = np.array([0.0, 0.05, 0.1, 0.2, 0.35, 0.5])
# Noise as a fraction of the signal variance; the lower end is the jitter
# that keeps duplicate rows factorisable.
_NOISE_RATIO_GRID = np.geomspace(1e-6, 10.0, 43)
_LOG_2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------

def normalize(data, low, high):
    """Map ``data`` (..., k) to [0, 1] per column: ``(data - low) / (high -
    low)``; low, high: (k,). A column with ``high == low`` maps to 0 (Ray
    adds 1e-8 to the denominator for the same reason)."""
    data = np.asarray(data, dtype=float)
    low = np.asarray(low, dtype=float)
    span = np.asarray(high, dtype=float) - low
    span = np.where(span > 0, span, 1.0)
    return (data - low) / span


def standardize(y):
    """(n,) -> (n,): zero mean, unit standard deviation, clipped to [-2, 2]
    so that one outlying interval cannot dominate the fit."""
    y = np.asarray(y, dtype=float)
    z = (y - y.mean()) / (y.std() + 1e-8)
    return np.clip(z, -2.0, 2.0)


def ucb_beta(n):
    """The exploration weight for ``n`` data rows (Ray's schedule)."""
    return UCB_C1 + max(0.0, float(np.log(UCB_C2 * max(n, 1))))


# --------------------------------------------------------------------------
# the kernel
# --------------------------------------------------------------------------

def _sq_dists(A, B):
    """(n, k), (m, k) -> (n, m) squared Euclidean distances."""
    if A.shape[1] == 0:
        return np.zeros((A.shape[0], B.shape[0]))
    d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d2, 0.0)


def _time_dists(A, B):
    """(n, k), (m, k) -> (n, m) |t - t'| of column 0."""
    return np.abs(A[:, :1] - B[:, :1].T)


def _correlation(d2, dt, lengthscale, epsilon):
    """The kernel with variance 1 from precomputed distances."""
    c = np.exp(-d2 / lengthscale)
    if epsilon > 0.0:
        c = c * np.exp(0.5 * dt * np.log1p(-epsilon))
    return c


def tv_se_kernel(X1, X2, variance=1.0, lengthscale=1.0, epsilon=0.1):
    """Time-varying squared-exponential kernel.

    X1: (n, 1 + k), X2: (m, 1 + k); column 0 is time, the other k columns
    are compared with a squared-exponential. Returns (n, m)::

        variance * exp(-|x1[1:] - x2[1:]|^2 / lengthscale)
                 * (1 - epsilon) ** (|x1[0] - x2[0]| / 2)

    epsilon is capped at 0.5 as in Ray's kernel.
    """
    X1 = np.atleast_2d(np.asarray(X1, dtype=float))
    X2 = np.atleast_2d(np.asarray(X2, dtype=float))
    if lengthscale <= 0:
        raise ValueError("tv_se_kernel: lengthscale must be > 0, got {!r}".format(lengthscale))
    if not 0.0 <= epsilon < 1.0:
        raise ValueError("tv_se_kernel: epsilon must be in [0, 1), got {!r}".format(epsilon))
    epsilon = min(float(epsilon), EPSILON_MAX)
    c = _correlation(_sq_dists(X1[:, 1:], X2[:, 1:]), _time_dists(X1, X2), lengthscale, epsilon)
    return variance * c


# --------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------

class GPFit:
    """A GP conditioned on data, with its kernel hyperparameters.

    Attributes: X (n, 1 + k) inputs, y (n,) targets, variance, lengthscale,
    epsilon, noise (the Gaussian noise variance), log_likelihood (the log
    marginal likelihood at these hyperparameters), and the factorisation
    used for prediction: ``linv`` (n, n), the inverse of the lower Cholesky
    factor of K(X, X) + noise I, and ``alpha`` (n,) = (K + noise I)^-1 y.
    """

    __slots__ = ("X", "y", "variance", "lengthscale", "epsilon", "noise", "log_likelihood",
                 "linv", "alpha")

    def kernel(self, A, B):
        return tv_se_kernel(A, B, self.variance, self.lengthscale, self.epsilon)

    def __repr__(self):
        return ("GPFit(n={}, variance={:.4g}, lengthscale={:.4g}, epsilon={:.4g}, noise={:.4g}, "
                "log_likelihood={:.4g})".format(len(self.y), self.variance, self.lengthscale,
                                                self.epsilon, self.noise, self.log_likelihood))


def _cholesky_inverse(K):
    """Inverse of the lower Cholesky factor of K (n, n), adding jitter to the
    diagonal (up to 1e-2 of its mean) when K is numerically singular."""
    n = K.shape[0]
    scale = max(float(np.mean(np.diag(K))), 1e-12)
    for jitter in (0.0, 1e-8, 1e-6, 1e-4, 1e-2):
        try:
            L = np.linalg.cholesky(K + jitter * scale * np.eye(n))
        except np.linalg.LinAlgError:
            continue
        return np.linalg.solve(L, np.eye(n)), jitter * scale
    raise np.linalg.LinAlgError("kernel matrix is not positive definite")


def log_marginal_likelihood(X, y, variance, lengthscale, epsilon, noise):
    """log p(y | X) of a GP with the TV-SE kernel and Gaussian noise.
    X: (n, 1 + k), y: (n,). Returns a float."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float).reshape(-1)
    K = tv_se_kernel(X, X, variance, lengthscale, epsilon) + noise * np.eye(len(y))
    L = np.linalg.cholesky(K)
    a = np.linalg.solve(L, y)
    return float(-0.5 * a @ a - np.log(np.diag(L)).sum() - 0.5 * len(y) * _LOG_2PI)


def _profile(d2, dt, y, lengthscale, epsilon):
    """Best log marginal likelihood at (lengthscale, epsilon) over the noise
    ratio grid, with the signal variance at its closed-form optimum.

    With K = s2 (C + g I), the optimum is s2 = y' (C + g I)^-1 y / n and
    one eigendecomposition of C gives every g at once.
    Returns (log_likelihood, s2, g)."""
    n = len(y)
    lam, Q = np.linalg.eigh(_correlation(d2, dt, lengthscale, epsilon))
    lam = np.maximum(lam, 0.0)
    z2 = (Q.T @ y) ** 2
    den = lam[None, :] + _NOISE_RATIO_GRID[:, None]          # (G, n)
    s2 = np.maximum((z2[None, :] / den).sum(1) / n, 1e-12)
    ll = -0.5 * n * (np.log(s2) + 1.0 + _LOG_2PI) - 0.5 * np.log(den).sum(1)
    i = int(np.argmax(ll))
    return float(ll[i]), float(s2[i]), float(_NOISE_RATIO_GRID[i])


def optimize_hyperparameters(X, y):
    """Maximise the log marginal likelihood over (variance, lengthscale,
    epsilon, noise), deterministically: a grid over lengthscale x epsilon,
    then a compass search from the best grid point (lengthscale on a log
    scale); the variance is profiled in closed form and the noise ratio is
    searched on a fine grid at each point.

    X: (n, 1 + k), y: (n,). Returns a dict with keys variance, lengthscale,
    epsilon, noise, log_likelihood.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float).reshape(-1)
    d2 = _sq_dists(X[:, 1:], X[:, 1:])
    dt = _time_dists(X, X)
    lo_u, hi_u = np.log(LENGTHSCALE_MIN), np.log(LENGTHSCALE_MAX)

    seen = {}

    def score(u, e):
        key = (round(u, 12), round(e, 12))
        if key not in seen:
            seen[key] = _profile(d2, dt, y, float(np.exp(u)), e)
        return seen[key][0]

    best = max(((float(np.log(l)), float(e)) for l in _LENGTHSCALE_GRID for e in _EPSILON_GRID),
               key=lambda p: score(*p))
    step_u, step_e = 0.5, 0.1
    while step_u > 0.06:
        moves = [(min(max(best[0] + du, lo_u), hi_u), min(max(best[1] + de, 0.0), EPSILON_MAX))
                 for du, de in ((step_u, 0.0), (-step_u, 0.0), (0.0, step_e), (0.0, -step_e))]
        cand = max(moves, key=lambda p: score(*p))
        if score(*cand) > score(*best) + 1e-9:
            best = cand
        else:
            step_u, step_e = step_u / 2.0, step_e / 2.0
    ll, s2, g = seen[(round(best[0], 12), round(best[1], 12))]
    return {"variance": s2, "lengthscale": float(np.exp(best[0])), "epsilon": best[1],
            "noise": s2 * g, "log_likelihood": ll}


def fit_gp(X, y, variance=None, lengthscale=None, epsilon=None, noise=None):
    """Condition a GP on (X (n, 1 + k), y (n,)). Kernel hyperparameters that
    are not given are all fitted by :func:`optimize_hyperparameters`;
    give all four to skip the fit. Returns a :class:`GPFit`."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float).reshape(-1)
    if X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError("fit_gp: X has {} rows, y has {}; need the same, at least 1".format(
            X.shape[0], y.shape[0]))
    given = (variance, lengthscale, epsilon, noise)
    if any(v is None for v in given):
        hp = optimize_hyperparameters(X, y)
    else:
        hp = {"variance": float(variance), "lengthscale": float(lengthscale),
              "epsilon": float(epsilon), "noise": float(noise), "log_likelihood": None}
    fit = GPFit()
    fit.X, fit.y = X, y
    fit.variance, fit.lengthscale = hp["variance"], hp["lengthscale"]
    fit.epsilon, fit.noise = hp["epsilon"], hp["noise"]
    K = fit.kernel(X, X) + fit.noise * np.eye(len(y))
    fit.linv, _ = _cholesky_inverse(K)
    fit.alpha = fit.linv.T @ (fit.linv @ y)
    if hp["log_likelihood"] is None:
        a = fit.linv @ y
        hp["log_likelihood"] = float(-0.5 * a @ a + np.log(np.abs(np.diag(fit.linv))).sum()
                                     - 0.5 * len(y) * _LOG_2PI)
    fit.log_likelihood = hp["log_likelihood"]
    return fit


def posterior(fit, Xs):
    """Posterior of the latent function at Xs (m, 1 + k): (mean (m,),
    variance (m,)), the variance without the observation noise."""
    Xs = np.atleast_2d(np.asarray(Xs, dtype=float))
    Ks = fit.kernel(fit.X, Xs)                       # (n, m)
    v = fit.linv @ Ks
    var = np.maximum(fit.variance - (v * v).sum(0), 0.0)
    return Ks.T @ fit.alpha, var


def pending_variance(fit, P, Xs):
    """Posterior variance at Xs (m, 1 + k) of the GP ``fit`` after also
    observing the pending inputs P (p, 1 + k) (labels unknown; the variance
    does not depend on them). Same kernel hyperparameters. Returns (m,)."""
    Xs = np.atleast_2d(np.asarray(Xs, dtype=float))
    if P is None or len(P) == 0:
        return posterior(fit, Xs)[1]
    Xa = np.vstack([fit.X, np.atleast_2d(np.asarray(P, dtype=float))])
    linv, _ = _cholesky_inverse(fit.kernel(Xa, Xa) + fit.noise * np.eye(len(Xa)))
    v = linv @ fit.kernel(Xa, Xs)
    return np.maximum(fit.variance - (v * v).sum(0), 0.0)


# --------------------------------------------------------------------------
# acquisition
# --------------------------------------------------------------------------

def ucb_scorer(fit, fixed, pending=None, beta=None):
    """The UCB acquisition as a vectorised function of the free coordinates.

    fit: a GPFit on inputs [fixed..., free...]; fixed (f,) the coordinates
    that are not chosen (normalised time and score); pending (p, k) full
    inputs of pending points, or None; beta defaults to ucb_beta(n).
    Returns f(U) for U (m, k - f) -> (m,) = mean + sqrt(beta) * std, where
    std includes the pending points.
    """
    fixed = np.asarray(fixed, dtype=float).reshape(-1)
    kappa = np.sqrt(ucb_beta(len(fit.y)) if beta is None else beta)
    if pending is None or len(pending) == 0:
        linv = fit.linv
        Xa = fit.X
    else:
        Xa = np.vstack([fit.X, np.atleast_2d(np.asarray(pending, dtype=float))])
        linv, _ = _cholesky_inverse(fit.kernel(Xa, Xa) + fit.noise * np.eye(len(Xa)))

    def score(U):
        U = np.atleast_2d(np.asarray(U, dtype=float))
        Xs = np.hstack([np.broadcast_to(fixed, (U.shape[0], fixed.size)), U])
        mean = fit.kernel(fit.X, Xs).T @ fit.alpha
        v = linv @ fit.kernel(Xa, Xs)
        var = np.maximum(fit.variance - (v * v).sum(0), 0.0)
        return mean + kappa * np.sqrt(var)

    return score


def optimize_acquisition(score, dim, rng, n_candidates=None, n_starts=5, init_step=0.1,
                         min_step=1e-3):
    """Maximise score (a function (m, dim) -> (m,)) over the unit box.

    Draws ``n_candidates`` (default 256 * dim, at least 1024) uniform points
    from rng, then refines the best ``n_starts`` by a compass search (each
    coordinate +/- step, clipped to the box; the step halves when no move
    improves, down to min_step). Returns the best point, (dim,) in [0, 1].
    """
    if n_candidates is None:
        n_candidates = max(1024, 256 * dim)
    U = rng.uniform(0.0, 1.0, size=(n_candidates, dim))
    vals = score(U)
    order = np.argsort(-vals, kind="stable")[:n_starts]
    pts, best = U[order].copy(), vals[order].copy()
    step = np.full(len(pts), float(init_step))
    eye = np.eye(dim)
    for _ in range(200):
        live = step >= min_step
        if not live.any():
            break
        idx = np.flatnonzero(live)
        # (s, 2 dim, dim): every +/- move of every live start at once.
        moves = np.concatenate([eye, -eye])[None, :, :] * step[idx, None, None]
        cand = np.clip(pts[idx, None, :] + moves, 0.0, 1.0)
        cv = score(cand.reshape(-1, dim)).reshape(len(idx), 2 * dim)
        j = np.argmax(cv, axis=1)
        top = cv[np.arange(len(idx)), j]
        better = top > best[idx] + 1e-12
        pts[idx[better]] = cand[np.arange(len(idx)), j][better]
        best[idx[better]] = top[better]
        step[idx[~better]] /= 2.0
    return np.clip(pts[int(np.argmax(best))], 0.0, 1.0)


# --------------------------------------------------------------------------
# selection
# --------------------------------------------------------------------------

def select_config(X_raw, y_raw, fixed_raw, low, high, rng, pending=None, max_points=MAX_POINTS):
    """Choose the next hyperparameters by GP-UCB.

    X_raw: (n, 2 + d) raw data rows [time, score at interval start, h_1..h_d];
    y_raw: (n,) raw rates of change of the score; fixed_raw: (2,) the raw
    [time, score] the new interval starts from (the donor's); low, high: (d,)
    bounds; rng: numpy Generator; pending: (p, d) raw hyperparameters chosen
    for other trials whose outcome is not yet in the data, or None.

    Only the ``max_points`` most recent rows (by time) are used. Returns
    (d,) floats within [low, high].
    """
    X_raw = np.atleast_2d(np.asarray(X_raw, dtype=float))
    y_raw = np.asarray(y_raw, dtype=float).reshape(-1)
    low = np.asarray(low, dtype=float).reshape(-1)
    high = np.asarray(high, dtype=float).reshape(-1)
    d = low.size
    if X_raw.shape != (y_raw.size, 2 + d):
        raise ValueError("select_config: X_raw has shape {}, expected ({}, {})".format(
            X_raw.shape, y_raw.size, 2 + d))
    if y_raw.size < 1:
        raise ValueError("select_config: no data rows")
    order = np.argsort(X_raw[:, 0], kind="stable")[-max_points:]
    X_raw, y_raw = X_raw[order], y_raw[order]

    f_low, f_high = X_raw[:, :2].min(0), X_raw[:, :2].max(0)
    X = np.hstack([normalize(X_raw[:, :2], f_low, f_high), normalize(X_raw[:, 2:], low, high)])
    y = standardize(y_raw)
    fixed = normalize(np.asarray(fixed_raw, dtype=float).reshape(2), f_low, f_high)

    fit = fit_gp(X, y)
    P = None
    if pending is not None and len(pending):
        Pn = normalize(np.atleast_2d(np.asarray(pending, dtype=float)), low, high)
        P = np.hstack([np.broadcast_to(fixed, (len(Pn), 2)), Pn])
    u = optimize_acquisition(ucb_scorer(fit, fixed, P), d, rng)
    return np.clip(low + u * (high - low), low, high)
