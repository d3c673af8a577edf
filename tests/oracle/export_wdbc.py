# export_wdbc.py - writes scikit-learn's copy of the Wisconsin diagnostic
# breast-cancer data (569 x 30) as tests/fixtures/data/wdbc.csv with the
# outcome `malignant` (1 = malignant, 0 = benign). Run with Debian's python:
#   /usr/bin/python3 tests/oracle/export_wdbc.py
import csv
from sklearn.datasets import load_breast_cancer

d = load_breast_cancer()
names = [n.replace(" ", "_") for n in d.feature_names]
with open("tests/fixtures/data/wdbc.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(names + ["malignant"])
    for row, t in zip(d.data, d.target):
        # scikit-learn codes benign as 1; the study's positive class is malignant.
        w.writerow([repr(float(v)) for v in row] + [int(t == 0)])
