# forest_sklearn.py - one benchmark run of scikit-learn's
# RandomForestClassifier (500 trees by default, max_features="sqrt",
# min_samples_leaf=1), started by bench_forest.lua:
#   /usr/bin/python3 forest_sklearn.py train.csv test.csv threads trees mode
# prints: RESULT train_wall train_cpu predict_wall predict_cpu auc
import sys
import time
import numpy as np
import pandas as pd

train_path, test_path, threads, trees, mode = sys.argv[1:6]
threads, trees = int(threads), int(trees)


def load(path):
    d = pd.read_csv(path)
    return d.drop(columns="y").to_numpy(dtype=np.float64), d["y"].to_numpy()


X, y = load(train_path)
Xt, yt = load(test_path)
if mode == "load":
    print("RESULT 0 0 0 0 0")
    sys.exit(0)
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import roc_auc_score, r2_score

# modes k3 (3 classes, Hand-Till M = roc_auc_score ovo) and reg (regression,
# max_features sqrt as the other tools, R^2): bench_forest_kinds.lua
if mode == "reg":
    m = RandomForestRegressor(n_estimators=trees, max_features="sqrt", min_samples_leaf=1,
                              n_jobs=threads, random_state=1)
else:
    m = RandomForestClassifier(n_estimators=trees, max_features="sqrt", min_samples_leaf=1,
                               n_jobs=threads, random_state=1)
w0, c0 = time.perf_counter(), time.process_time()
m.fit(X, y)
w1, c1 = time.perf_counter(), time.process_time()
if mode == "reg":
    p = m.predict(Xt)
else:
    p = m.predict_proba(Xt)
w2, c2 = time.perf_counter(), time.process_time()
score = (r2_score(yt, p) if mode == "reg" else
         roc_auc_score(yt, p, multi_class="ovo") if mode == "k3" else roc_auc_score(yt, p[:, 1]))
print("RESULT %.4f %.4f %.4f %.4f %.6f" % (w1 - w0, c1 - c0, w2 - w1, c2 - c1, score))
