"""The reference for probe/softmax_regression_test: scikit-learn's multinomial logistic
regression on the rows the test wrote.

usage: sklearn_logistic_regression.py PROBLEM.json OUT.json
PROBLEM.json: {"l2": float, "train_x": [[...]], "train_y": [...], "test_x": [[...]]}
OUT.json: {"coef": [[...]], "intercept": [...], "test_predictions": [...], "version": "..."}
C = 1 / (n · l2) makes sklearn's objective (C · Σ losses + ½‖W‖²) the test's (mean loss +
l2/2 · ‖W‖²) times a constant, so both have the same optimum.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

problem = json.load(open(sys.argv[1]))
x = np.array(problem["train_x"], dtype=np.float64)
y = np.array(problem["train_y"])
model = LogisticRegression(C=1.0 / (len(y) * problem["l2"]), solver="lbfgs", tol=1e-10, max_iter=100000)
model.fit(x, y)
json.dump({
    "coef": model.coef_.tolist(),
    "intercept": model.intercept_.tolist(),
    "test_predictions": model.predict(np.array(problem["test_x"], dtype=np.float64)).tolist(),
    "version": sklearn.__version__,
}, open(sys.argv[2], "w"))
