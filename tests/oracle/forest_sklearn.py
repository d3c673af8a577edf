# forest_sklearn.py - scikit-learn's RandomForestClassifier on the Wisconsin
# data as the oracle of sv.forest (tests/lua/test_forest.lua). Run with
# Debian's python from the repository root:
#   /usr/bin/python3 tests/oracle/forest_sklearn.py
# Writes under tests/fixtures/forest/:
#   sklearn_wdbc_auc.csv         test AUC of 500 trees, mtry sqrt, min_leaf 1
#                                for seeds 1..10 (train/test split below)
#   sklearn_wdbc_importance.csv  feature_importances_: mean and SD over the
#                                10 seeds
#   sklearn_wdbc_tree*.csv       one tree, bootstrap=False, max_features=None
#                                on the training rows (gini; entropy with
#                                min_samples_leaf=3; gini with
#                                class_weight="balanced"): node id, feature,
#                                threshold, children, class-1 fraction,
#                                weighted_n_node_samples, impurity, and
#                                whether the node's best gain is tied
# The split: rows i (1-based) with i % 3 == 0 are the test set, the others
# the training set.
import csv
import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

OUT = "tests/fixtures/forest/"
with open("tests/fixtures/data/wdbc.csv") as f:
    r = csv.reader(f)
    header = next(r)
    rows = [[float(v) for v in row] for row in r]
A = np.array(rows)
X, y = A[:, :-1], A[:, -1].astype(int)
names = header[:-1]
idx = np.arange(1, len(y) + 1)
test = idx % 3 == 0
Xtr, ytr, Xte, yte = X[~test], y[~test], X[test], y[test]

aucs, imps = [], []
for seed in range(1, 11):
    m = RandomForestClassifier(n_estimators=500, max_features="sqrt",
                               min_samples_leaf=1, random_state=seed, n_jobs=2)
    m.fit(Xtr, ytr)
    aucs.append(roc_auc_score(yte, m.predict_proba(Xte)[:, 1]))
    imps.append(m.feature_importances_)
with open(OUT + "sklearn_wdbc_auc.csv", "w") as f:
    f.write("seed,auc\n")
    for s, a in zip(range(1, 11), aucs):
        f.write("%d,%.17g\n" % (s, a))
imps = np.array(imps)
with open(OUT + "sklearn_wdbc_importance.csv", "w") as f:
    f.write("feature,mean,sd\n")
    for j, nm in enumerate(names):
        f.write("%s,%.17g,%.17g\n" % (nm, imps[:, j].mean(), imps[:, j].std(ddof=1)))

# Single trees on all training rows with every feature: the split search
# is deterministic except for ties in the gain, which we detect by
# evaluating every candidate split of every node here (weighted child
# impurity, on the float32 values scikit-learn sees).
X32 = Xtr.astype(np.float32).astype(np.float64)


def impurity(c0, c1, criterion):
    w = c0 + c1
    p0, p1 = c0 / w, c1 / w
    if criterion == "gini":
        return 1 - p0 ** 2 - p1 ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p0 > 0, p0 * np.log2(p0), 0) - np.where(p1 > 0, p1 * np.log2(p1), 0)
    return h


def child_sum(ys, ws, criterion):
    # W_l imp_l + W_r imp_r for every boundary of the sorted rows
    c1 = np.cumsum(ws * ys)[:-1]
    c0 = np.cumsum(ws * (1 - ys))[:-1]
    t1, t0 = (ws * ys).sum(), (ws * (1 - ys)).sum()
    return ((c0 + c1) * impurity(c0, c1, criterion) +
            (t0 - c0 + t1 - c1) * impurity(t0 - c0, t1 - c1, criterion))


def tree_fixture(name, criterion, min_leaf, class_weight):
    m = RandomForestClassifier(n_estimators=1, bootstrap=False, max_features=None,
                               criterion=criterion, min_samples_leaf=min_leaf,
                               class_weight=class_weight, random_state=0)
    m.fit(Xtr, ytr)
    est = m.estimators_[0]
    t = est.tree_
    paths = est.decision_path(Xtr.astype(np.float32)).tocsc()
    if class_weight == "balanced":
        cw = len(ytr) / (2.0 * np.bincount(ytr))
    else:
        cw = np.ones(2)
    w_all = cw[ytr]
    tie = np.zeros(t.node_count, dtype=int)
    for node in range(t.node_count):
        if t.children_left[node] == -1:
            continue
        rows_at = paths[:, node].nonzero()[0]
        cands = []
        for j in range(X.shape[1]):
            order = np.argsort(X32[rows_at, j], kind="stable")
            xs = X32[rows_at, j][order]
            ys = ytr[rows_at][order].astype(float)
            ws = w_all[rows_at][order]
            s = child_sum(ys, ws, criterion)
            nl = np.arange(1, len(xs))
            valid = (xs[1:] > xs[:-1]) & (nl >= min_leaf) & (len(xs) - nl >= min_leaf)
            cands.extend(s[valid].tolist())
        cands = np.array(cands)
        best = cands.min()
        tie[node] = int(np.sum(cands <= best + 1e-9 * max(1.0, abs(best))) > 1)
    with open(OUT + name, "w") as f:
        f.write("node,feature,threshold,left,right,value,cover,impurity,tie\n")
        for k in range(t.node_count):
            v = t.value[k][0]
            leaf = t.children_left[k] == -1
            f.write("%d,%d,%.17g,%d,%d,%.17g,%.17g,%.17g,%d\n" % (
                k, -1 if leaf else t.feature[k], 0.0 if leaf else t.threshold[k],
                t.children_left[k], t.children_right[k], v[1] / v.sum(),
                t.weighted_n_node_samples[k], t.impurity[k], tie[k]))
    print(name, "nodes", t.node_count, "tied", tie.sum())


tree_fixture("sklearn_wdbc_tree.csv", "gini", 1, None)
tree_fixture("sklearn_wdbc_tree_entropy.csv", "entropy", 3, None)
tree_fixture("sklearn_wdbc_tree_balanced.csv", "gini", 1, "balanced")
print("scikit-learn", sklearn.__version__, "mean AUC %.6f" % np.mean(aucs))
