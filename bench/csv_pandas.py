# csv_pandas.py PATH REPEAT - times pandas.read_csv (C engine) on PATH and
# prints "wall_seconds cpu_seconds rows cols", each the best of REPEAT runs
# (for bench_csv.lua).
import sys
import time

import pandas as pd

path, repeat = sys.argv[1], int(sys.argv[2])
best_wall = best_cpu = float("inf")
for _ in range(repeat):
    w0, c0 = time.perf_counter(), time.process_time()
    d = pd.read_csv(path, engine="c")
    best_wall = min(best_wall, time.perf_counter() - w0)
    best_cpu = min(best_cpu, time.process_time() - c0)
print(best_wall, best_cpu, d.shape[0], d.shape[1])
