// The surrogates' policies of the fused loops (cpu_fused_kernels.h, included there inside each
// instruction set's namespace; no include guard on purpose). A policy says what one vector of 16
// activated scores v adds to the column statistics and how its gradient is formed:
//   plane_step / plane_finish: a run of one column c (lanes = samples, labels yy, weights w) into
//     per-lane state, then into the column's four statistics st[q * stride];
//   plane_grad: dL/dv of such a vector from the column's float coefficients k = {ad, bd, ao, bo};
//   row_step / row_diag: one row's vector (lanes = columns; lane `diag` is the row's own class, lanes
//     >= n are padding) into the off-label arrays (a, b), and the label's column into (da, db);
//   row_grad / diag_grad: the row's gradient from the coefficient arrays.
// Statistics are double; the four arrays are {u1, u2, d1, d2} (Moments) or {Mn, En, Mp, Ep} (Exp).

// ---- square, linear: the moment sums of math.h.
struct MomentPolicy {
  struct Lanes {
    v8d u1[2] = {}, u2[2] = {}, d1[2] = {}, d2[2] = {};
  };
  void plane_step(const v16f& v, const v16i& yy, int32_t c, const double* w, Lanes& s) const {
    // masked in float (a 16-lane select), then widened: the masked-off lanes add exact zeros
    const v16f zero = {};
    const v16f on = yy == c ? v : zero, off = yy >= 0 ? (yy != c ? v : zero) : zero;
    const v8d onh[2] = {lo_d(on), hi_d(on)}, offh[2] = {lo_d(off), hi_d(off)};
    for (int h = 0; h < 2; ++h) {
      const v8d wv = load<v8d>(w + 8 * h) * offh[h];
      s.u1[h] += wv;
      s.u2[h] += wv * offh[h];
      s.d1[h] += onh[h];
      s.d2[h] += onh[h] * onh[h];
    }
  }
  void plane_finish(const Lanes& s, double* st, int64_t stride) const {
    const v8d* q[4] = {s.u1, s.u2, s.d1, s.d2};
    for (int k = 0; k < 4; ++k) {
      double sum = 0.0;
      for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 8; ++l) sum += q[k][h][l];
      st[k * stride] += sum;
    }
  }
  v16f plane_grad(const v16f& v, const v16i& yy, int32_t c, const double* w, const float* k) const {
    const v16f wf = to_f(load<v8d>(w), load<v8d>(w + 8));
    return yy == c ? k[0] * v + k[1] : wf * (k[2] * v + k[3]);
  }
  void row_step(const v16f& v, int64_t diag, int64_t, double w, double* u1, double* u2) const {
    const v8l lane = {0, 1, 2, 3, 4, 5, 6, 7};
    const v8d zero = {};
    const v8d vh[2] = {lo_d(v), hi_d(v)};
    for (int h = 0; h < 2; ++h) {
      const v8d wv = (lane + 8 * h != diag) ? w * vh[h] : zero;
      store(u1 + 8 * h, load<v8d>(u1 + 8 * h) + wv);
      store(u2 + 8 * h, load<v8d>(u2 + 8 * h) + wv * vh[h]);
    }
  }
  void row_diag(double vy, double* d1, double* d2) const {
    *d1 += vy;
    *d2 += vy * vy;
  }
  v16f row_grad(const v16f& v, float wf, const float* ao, const float* bo) const {
    return wf * (load<v16f>(ao) * v + load<v16f>(bo));
  }
  float diag_grad(float vy, float ad, float bd) const { return ad * vy + bd; }
};

// ---- exp: per lane a log-sum-exp cell of the positives' keys -m v and one of the negatives' keys m v,
// the weight rho outside the key: E = sum w e^{key - M} (math.h's cells, M + log E the same value). M
// is only kept >= every key: a key above it (the lane's first one, then rarely) raises M to the key
// plus kHeadroom, in double, lane by lane; every other key costs one float exp of key - M in
// [-(kHeadroom + key range), 0], formed in double and rounded to float.
struct ExpPolicy {
  double m;
  // Raising M above the key leaves room for later keys slightly above this one (no raise per record).
  static constexpr double kHeadroom = 1.0;
  static void raise(double& M, double& E, double key, double wt) {
    const double M1 = key + kHeadroom;
    E = E * exp(M - M1) + wt * exp(-kHeadroom);
    M = M1;
  }
  struct Lanes {
    v8d Mp[2], Ep[2] = {}, Mn[2], En[2] = {};
    Lanes() {
      for (int h = 0; h < 2; ++h) Mp[h] = Mn[h] = v8d{} - INFINITY;
    }
  };
  void plane_step(const v16f& v, const v16i& yy, int32_t c, const double* w, Lanes& s) const {
    const v16i on16 = yy == c, off16 = (yy >= 0) & (yy != c);
    const v8d vh[2] = {lo_d(v), hi_d(v)};
    const v8l on[2] = {lo_l(on16), hi_l(on16)}, off[2] = {lo_l(off16), hi_l(off16)};
    v8d key[2], d[2];
    v8l raised[2];
    for (int h = 0; h < 2; ++h) {
      key[h] = on[h] ? -m * vh[h] : m * vh[h];
      const v8d M = on[h] ? s.Mp[h] : s.Mn[h];
      d[h] = key[h] - M;
      raised[h] = (on[h] | off[h]) & (key[h] > M);
    }
    const v16f e = exp_nonpos_lanes(to_f(d[0], d[1]));
    const v8d eh[2] = {lo_d(e), hi_d(e)}, zero = {};
    for (int h = 0; h < 2; ++h) {
      s.Ep[h] += (on[h] & ~raised[h]) ? eh[h] : zero;
      s.En[h] += (off[h] & ~raised[h]) ? load<v8d>(w + 8 * h) * eh[h] : zero;
    }
    if (!any_lane(raised[0] | raised[1])) return;
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 8; ++l) {
        if (!raised[h][l]) continue;
        const bool pos = on[h][l] != 0;
        double M = pos ? s.Mp[h][l] : s.Mn[h][l], E = pos ? s.Ep[h][l] : s.En[h][l];
        raise(M, E, key[h][l], pos ? 1.0 : w[8 * h + l]);
        if (pos) {
          s.Mp[h][l] = M;
          s.Ep[h][l] = E;
        } else {
          s.Mn[h][l] = M;
          s.En[h][l] = E;
        }
      }
    }
  }
  void plane_finish(const Lanes& s, double* st, int64_t stride) const {
    LseCell neg{st[0], st[stride]}, pos{st[2 * stride], st[3 * stride]};
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 8; ++l) {
        lse_merge(neg, LseCell{s.Mn[h][l], s.En[h][l]});
        lse_merge(pos, LseCell{s.Mp[h][l], s.Ep[h][l]});
      }
    }
    st[0] = neg.M;
    st[stride] = neg.E;
    st[2 * stride] = pos.M;
    st[3 * stride] = pos.E;
  }
  // dL/dv = ad e^{-m v - bd} (positives), w ao e^{m v - bo} (negatives); 0 in an inactive column (a = 0)
  v16f plane_grad(const v16f& v, const v16i& yy, int32_t c, const double* w, const float* k) const {
    const v16i on16 = yy == c;
    const v8d vh[2] = {lo_d(v), hi_d(v)};
    const v8l on[2] = {lo_l(on16), hi_l(on16)};
    const double bd = k[1], bo = k[3];
    v8d d[2];
    for (int h = 0; h < 2; ++h) d[h] = on[h] ? -m * vh[h] - bd : m * vh[h] - bo;
    const v16f e = exp_nonpos_lanes(to_f(d[0], d[1]));
    const v16f zero = {};
    const v16f a = on16 ? zero + k[0] : to_f(load<v8d>(w), load<v8d>(w + 8)) * k[2];
    return a != 0.0f ? a * e : zero;
  }
  void row_step(const v16f& v, int64_t diag, int64_t n, double w, double* M, double* E) const {
    const v8l lane = {0, 1, 2, 3, 4, 5, 6, 7};
    const v8d vh[2] = {lo_d(v), hi_d(v)};
    v8d key[2], d[2];
    v8l live[2], raised[2];
    for (int h = 0; h < 2; ++h) {
      const v8l l = lane + 8 * h;
      const v8d Mh = load<v8d>(M + 8 * h);
      live[h] = (l != diag) & (l < n);
      key[h] = m * vh[h];
      d[h] = key[h] - Mh;
      raised[h] = live[h] & (key[h] > Mh);
    }
    const v16f e = exp_nonpos_lanes(to_f(d[0], d[1]));
    const v8d eh[2] = {lo_d(e), hi_d(e)}, zero = {};
    for (int h = 0; h < 2; ++h) store(E + 8 * h, load<v8d>(E + 8 * h) + ((live[h] & ~raised[h]) ? w * eh[h] : zero));
    if (!any_lane(raised[0] | raised[1])) return;
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 8; ++l)
        if (raised[h][l]) raise(M[8 * h + l], E[8 * h + l], key[h][l], w);
  }
  void row_diag(double vy, double* Mp, double* Ep) const {
    LseCell cell{*Mp, *Ep};
    lse_add(cell, -m * vy);
    *Mp = cell.M;
    *Ep = cell.E;
  }
  v16f row_grad(const v16f& v, float wf, const float* ao, const float* bo) const {
    const v16f b = load<v16f>(bo), zero = {};
    const v8d d0 = m * lo_d(v) - lo_d(b), d1 = m * hi_d(v) - hi_d(b);
    const v16f a = wf * load<v16f>(ao);
    return a != 0.0f ? a * exp_nonpos_lanes(to_f(d0, d1)) : zero;
  }
  float diag_grad(float vy, float ad, float bd) const {
    return ad == 0.0f ? 0.0f : static_cast<float>(ad * exp(-m * vy - bd));
  }
};
