'''The spec's own checks for parts 4 and 5 as Python source, run by the exported notebook.

Each reproduces the spec's forward check (its inputs and expected arrays) and its numerical
gradient check, corrected: every lambda perturbs its own argument (the spec's ``fh`` and
``fh_h`` ignore theirs), the LSTM sequence check prints each gradient's own error (the spec
prints dx's five times), and the random draws use ``np.random.default_rng``.
'''

RNN_STEP = """\
import numpy as np
from layers import eval_numerical_gradient_array, rel_error, rnn_step_backward, rnn_step_forward

# Forward: the spec's fixed inputs and expected next_h (error should be ~1e-8 or less)
N, D, H = 3, 10, 4
x = np.linspace(-0.4, 0.7, num=N * D).reshape(N, D)
prev_h = np.linspace(-0.2, 0.5, num=N * H).reshape(N, H)
Wx = np.linspace(-0.1, 0.9, num=D * H).reshape(D, H)
Wh = np.linspace(-0.3, 0.7, num=H * H).reshape(H, H)
b = np.linspace(-0.2, 0.4, num=H)
next_h, _ = rnn_step_forward(x, prev_h, Wx, Wh, b)
expected_next_h = np.asarray([
    [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
    [0.66854692, 0.79562378, 0.87755553, 0.92795967],
    [0.97934501, 0.99144213, 0.99646691, 0.99854353]])
print("next_h error:", rel_error(expected_next_h, next_h))

# Backward: numerical gradient check (errors should be below 1e-8)
rng = np.random.default_rng(0)
N, D, H = 4, 5, 6
x = rng.standard_normal((N, D))
prev_h = rng.standard_normal((N, H))
Wx = rng.standard_normal((D, H))
Wh = rng.standard_normal((H, H))
b = rng.standard_normal(H)
out, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
dnext_h = rng.standard_normal(out.shape)

fx = lambda x: rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
fh = lambda prev_h: rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
fWx = lambda Wx: rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
fWh = lambda Wh: rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
fb = lambda b: rnn_step_forward(x, prev_h, Wx, Wh, b)[0]

dx_num = eval_numerical_gradient_array(fx, x, dnext_h)
dprev_h_num = eval_numerical_gradient_array(fh, prev_h, dnext_h)
dWx_num = eval_numerical_gradient_array(fWx, Wx, dnext_h)
dWh_num = eval_numerical_gradient_array(fWh, Wh, dnext_h)
db_num = eval_numerical_gradient_array(fb, b, dnext_h)

dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
print("dx error:", rel_error(dx_num, dx))
print("dprev_h error:", rel_error(dprev_h_num, dprev_h))
print("dWx error:", rel_error(dWx_num, dWx))
print("dWh error:", rel_error(dWh_num, dWh))
print("db error:", rel_error(db_num, db))
"""

RNN_SEQUENCE = """\
import numpy as np
from layers import eval_numerical_gradient_array, rel_error, rnn_backward, rnn_forward

# Forward: the spec's fixed inputs and expected h (error should be below 1e-7)
N, T, D, H = 2, 3, 4, 5
x = np.linspace(-0.1, 0.3, num=N * T * D).reshape(N, T, D)
h0 = np.linspace(-0.3, 0.1, num=N * H).reshape(N, H)
Wx = np.linspace(-0.2, 0.4, num=D * H).reshape(D, H)
Wh = np.linspace(-0.4, 0.1, num=H * H).reshape(H, H)
b = np.linspace(-0.7, 0.1, num=H)
h, _ = rnn_forward(x, h0, Wx, Wh, b)
expected_h = np.asarray([
    [[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
     [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
     [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
    [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
     [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
     [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]])
print("h error:", rel_error(expected_h, h))

# Backward through time: numerical gradient check (errors should be ~1e-8 or less)
rng = np.random.default_rng(0)
N, D, T, H = 2, 3, 10, 5
x = rng.standard_normal((N, T, D))
h0 = rng.standard_normal((N, H))
Wx = rng.standard_normal((D, H))
Wh = rng.standard_normal((H, H))
b = rng.standard_normal(H)
out, cache = rnn_forward(x, h0, Wx, Wh, b)
dout = rng.standard_normal(out.shape)
dx, dh0, dWx, dWh, db = rnn_backward(dout, cache)

fx = lambda x: rnn_forward(x, h0, Wx, Wh, b)[0]
fh0 = lambda h0: rnn_forward(x, h0, Wx, Wh, b)[0]
fWx = lambda Wx: rnn_forward(x, h0, Wx, Wh, b)[0]
fWh = lambda Wh: rnn_forward(x, h0, Wx, Wh, b)[0]
fb = lambda b: rnn_forward(x, h0, Wx, Wh, b)[0]

print("dx error:", rel_error(eval_numerical_gradient_array(fx, x, dout), dx))
print("dh0 error:", rel_error(eval_numerical_gradient_array(fh0, h0, dout), dh0))
print("dWx error:", rel_error(eval_numerical_gradient_array(fWx, Wx, dout), dWx))
print("dWh error:", rel_error(eval_numerical_gradient_array(fWh, Wh, dout), dWh))
print("db error:", rel_error(eval_numerical_gradient_array(fb, b, dout), db))
"""

LSTM_STEP = """\
import numpy as np
from layers import eval_numerical_gradient_array, lstm_step_backward, lstm_step_forward, rel_error

# Forward: the spec's fixed inputs and expected next_h, next_c (errors should be ~1e-8 or less)
N, D, H = 3, 4, 5
x = np.linspace(-0.4, 1.2, num=N * D).reshape(N, D)
prev_h = np.linspace(-0.3, 0.7, num=N * H).reshape(N, H)
prev_c = np.linspace(-0.4, 0.9, num=N * H).reshape(N, H)
Wx = np.linspace(-2.1, 1.3, num=4 * D * H).reshape(D, 4 * H)
Wh = np.linspace(-0.7, 2.2, num=4 * H * H).reshape(H, 4 * H)
b = np.linspace(0.3, 0.7, num=4 * H)
next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
expected_next_h = np.asarray([
    [0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
    [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
    [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]])
expected_next_c = np.asarray([
    [0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
    [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
    [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]])
print("next_h error:", rel_error(expected_next_h, next_h))
print("next_c error:", rel_error(expected_next_c, next_c))

# Backward: numerical gradient check through both outputs (errors should be ~1e-8 or less)
rng = np.random.default_rng(0)
N, D, H = 4, 5, 6
x = rng.standard_normal((N, D))
prev_h = rng.standard_normal((N, H))
prev_c = rng.standard_normal((N, H))
Wx = rng.standard_normal((D, 4 * H))
Wh = rng.standard_normal((H, 4 * H))
b = rng.standard_normal(4 * H)
next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
dnext_h = rng.standard_normal(next_h.shape)
dnext_c = rng.standard_normal(next_c.shape)

# output 0 is next_h, output 1 is next_c; each lambda perturbs its own argument
fx = [lambda x, out=out: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[out] for out in (0, 1)]
fh = [lambda prev_h, out=out: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[out] for out in (0, 1)]
fc = [lambda prev_c, out=out: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[out] for out in (0, 1)]
fWx = [lambda Wx, out=out: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[out] for out in (0, 1)]
fWh = [lambda Wh, out=out: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[out] for out in (0, 1)]
fb = [lambda b, out=out: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[out] for out in (0, 1)]

def num_grad(f, value):
    \"\"\"Numerical gradient of sum(next_h * dnext_h) + sum(next_c * dnext_c) w.r.t. value.\"\"\"
    through_h = eval_numerical_gradient_array(f[0], value, dnext_h)
    through_c = eval_numerical_gradient_array(f[1], value, dnext_c)
    return through_h + through_c

dx, dh, dc, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
print("dx error:", rel_error(num_grad(fx, x), dx))
print("dh error:", rel_error(num_grad(fh, prev_h), dh))
print("dc error:", rel_error(num_grad(fc, prev_c), dc))
print("dWx error:", rel_error(num_grad(fWx, Wx), dWx))
print("dWh error:", rel_error(num_grad(fWh, Wh), dWh))
print("db error:", rel_error(num_grad(fb, b), db))
"""

LSTM_SEQUENCE = """\
import numpy as np
from layers import eval_numerical_gradient_array, lstm_backward, lstm_forward, rel_error

# Forward: the spec's fixed inputs and expected h (error should be ~1e-7 or less)
N, D, H, T = 2, 5, 4, 3
x = np.linspace(-0.4, 0.6, num=N * T * D).reshape(N, T, D)
h0 = np.linspace(-0.4, 0.8, num=N * H).reshape(N, H)
Wx = np.linspace(-0.2, 0.9, num=4 * D * H).reshape(D, 4 * H)
Wh = np.linspace(-0.3, 0.6, num=4 * H * H).reshape(H, 4 * H)
b = np.linspace(0.2, 0.7, num=4 * H)
h, cache = lstm_forward(x, h0, Wx, Wh, b)
expected_h = np.asarray([
    [[0.01764008, 0.01823233, 0.01882671, 0.0194232],
     [0.11287491, 0.12146228, 0.13018446, 0.13902939],
     [0.31358768, 0.33338627, 0.35304453, 0.37250975]],
    [[0.45767879, 0.4761092, 0.4936887, 0.51041945],
     [0.6704845, 0.69350089, 0.71486014, 0.7346449],
     [0.81733511, 0.83677871, 0.85403753, 0.86935314]]])
print("h error:", rel_error(expected_h, h))

# Backward through time: numerical gradient check, each gradient's own error (~1e-8 or less)
rng = np.random.default_rng(0)
N, D, T, H = 2, 3, 10, 6
x = rng.standard_normal((N, T, D))
h0 = rng.standard_normal((N, H))
Wx = rng.standard_normal((D, 4 * H))
Wh = rng.standard_normal((H, 4 * H))
b = rng.standard_normal(4 * H)
out, cache = lstm_forward(x, h0, Wx, Wh, b)
dout = rng.standard_normal(out.shape)
dx, dh0, dWx, dWh, db = lstm_backward(dout, cache)

fx = lambda x: lstm_forward(x, h0, Wx, Wh, b)[0]
fh0 = lambda h0: lstm_forward(x, h0, Wx, Wh, b)[0]
fWx = lambda Wx: lstm_forward(x, h0, Wx, Wh, b)[0]
fWh = lambda Wh: lstm_forward(x, h0, Wx, Wh, b)[0]
fb = lambda b: lstm_forward(x, h0, Wx, Wh, b)[0]

print("dx error:", rel_error(eval_numerical_gradient_array(fx, x, dout), dx))
print("dh0 error:", rel_error(eval_numerical_gradient_array(fh0, h0, dout), dh0))
print("dWx error:", rel_error(eval_numerical_gradient_array(fWx, Wx, dout), dWx))
print("dWh error:", rel_error(eval_numerical_gradient_array(fWh, Wh, dout), dWh))
print("db error:", rel_error(eval_numerical_gradient_array(fb, b, dout), db))
"""
