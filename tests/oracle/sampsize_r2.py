# sampsize_r2.py - an independent computation of the population Cox-Snell
# R^2 of a logistic model with C-statistic c at prevalence phi (the model
# behind Riley et al. 2021's conversion and pmsampsize's cstat2rsq):
# linear predictor N(mu, 1) in events and N(0, 1) in non-events, mu =
# sqrt(2) qnorm(c), so the true log odds are logit(phi) - mu^2/2 + mu x.
# Simpson's rule with 200000 intervals in pure Python (statistics.NormalDist
# for qnorm), written apart from engine/sampsize.c. Prints the values that
# tests/lua/test_validate_sampsize.lua checks.
#   python3 tests/oracle/sampsize_r2.py
import math
from statistics import NormalDist

def r2(c, phi):
    mu = math.sqrt(2) * NormalDist().inv_cdf(c)
    a, b = math.log(phi / (1 - phi)) - mu * mu / 2, mu
    sp = lambda e: max(e, 0) + math.log1p(math.exp(-abs(e)))
    lo, hi, m = min(0, mu) - 12, max(0, mu) + 12, 200000
    h, s = (hi - lo) / m, 0.0
    for i in range(m + 1):
        x = lo + i * h
        w = 1 if i in (0, m) else (4 if i % 2 else 2)
        e = a + b * x
        f1 = math.exp(-(x - mu) ** 2 / 2) / math.sqrt(2 * math.pi)
        f0 = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        s += w * (phi * f1 * (e - sp(e)) + (1 - phi) * f0 * (-sp(e)))
    l0 = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    return 1 - math.exp(-2 * (s * h / 3 - l0))

for c, phi in [(0.89, 0.174), (0.7, 0.5), (0.8, 0.05)]:
    print("%.2f,%.3f,%.17g" % (c, phi, r2(c, phi)))
