"""Fits the float32 erf of cpu/Activations.java: run with /usr/bin/python3 fit_erf.py (numpy).

|x| <= 0.921875: erf(x) = x + x*(c0 - 1 + x^2*P(x^2)), P of degree 5 (weighted least squares on
Chebyshev nodes, relative error); 0.921875 < |x| < 3.93: erf(|x|) = 1 - exp(Q(|x|)), Q of degree 10
fitted to log(erfc), weighted by erfc (the absolute error it causes). Prints the worst error of the
float32 evaluation (FMA emulated in float64, one rounding) over [0, 5] and the coefficients.
"""
import numpy as np, math
# Region 1: |x| <= B1: erf(x) = x * P(x^2)
B1 = 0.921875
xs = np.cos(np.linspace(0, np.pi, 4000)) * B1/2 + B1/2
xs = xs[xs > 1e-6]
f = np.array([math.erf(v)/v for v in xs])
deg = 7
A = np.vstack([xs**(2*i) for i in range(deg)]).T
# weighted least squares relative
w = 1/np.abs(f)
c1, *_ = np.linalg.lstsq(A*w[:,None], f*w, rcond=None)
# Region 2: B1 < |x| < 3.92: erf = 1 - exp(Q(x))
xs2 = np.cos(np.linspace(0, np.pi, 6000)) * (3.93-B1)/2 + (3.93+B1)/2
g = np.array([math.log(math.erfc(v)) for v in xs2])
deg2 = 11
A2 = np.vstack([xs2**i for i in range(deg2)]).T
# weight: error in erf = erfc * dQ -> weight by erfc
w2 = np.array([math.erfc(v) for v in xs2]) / math.erfc(B1)
c2, *_ = np.linalg.lstsq(A2*w2[:,None], g*w2, rcond=None)
def fma(a,b,c): return np.float32(float(a)*float(b)+float(c))
c1f=[np.float32(c) for c in c1]; c2f=[np.float32(c) for c in c2]
c1m=np.float32(c1[0]-1)
def erf32(x):
    x = np.float32(x); a = np.float32(abs(x))
    if a <= B1:
        x2 = np.float32(a*a); p = c1f[-1]
        for c in c1f[-2:0:-1]: p = fma(p, x2, c)
        s = fma(p, x2, c1m)
        r = fma(a, s, a)
    else:
        q = c2f[-1]
        for c in c2f[-2::-1]: q = fma(q, a, c)
        r = np.float32(1) - np.float32(np.exp(np.float32(q))) if a < 3.93 else np.float32(1)
    return r if x >= 0 else -r
test = np.linspace(0, 5, 200001)
errs=[]; ulps=[]
for v in test:
    e = math.erf(float(np.float32(v)))
    r = erf32(v)
    errs.append(abs(float(r)-e))
    ulps.append(abs(float(r)-e)/np.spacing(np.float32(e)) if e>0 else 0)
print("max abs", max(errs), "max ulp", max(ulps))
print("c1", [float(np.float32(c)) for c in c1])
print("c2", [float(np.float32(c)) for c in c2])
errs=np.array(errs); ulps=np.array(ulps)
for lo,hi in [(0,0.5),(0.5,B1),(B1,1.5),(1.5,2.5),(2.5,3.5),(3.5,5)]:
    m=(test>=lo)&(test<hi); print(lo,hi,errs[m].max(), ulps[m].max())
# float64 eval of fits
e64 = max(abs(math.exp(np.polyval(c2[::-1], v)) - math.erfc(v)) for v in np.linspace(B1,3.9,5000))
print("fit2 err (f64)", e64)
e64 = max(abs(v*np.polyval(c1[::-1][0:], 0) ) for v in [0])
print("C1M", repr(float(c1m)), [repr(float(c)) for c in c1f])
print("C2", [repr(float(c)) for c in c2f])
