# csv_pandas.py PATH REPEAT - times pandas.read_csv (C engine) on PATH and
# prints "seconds rows cols" for the best of REPEAT runs (for bench_csv.lua).
import sys
import time

import pandas as pd

path, repeat = sys.argv[1], int(sys.argv[2])
best = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter()
    d = pd.read_csv(path, engine="c")
    best = min(best, time.perf_counter() - t0)
print(best, d.shape[0], d.shape[1])
