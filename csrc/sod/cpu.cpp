// CPU kernels of the size-invariant SOD ops (python/torchauc/sod/):
//   sod_frames       connected components of binarised masks (flood fill per image), small ones dropped;
//   sod_si_loss      per-(image, frame) and background sums in one pass over row segments (each
//                    pixel scored once), the loss, and the gradient in a second segment pass;
//   sod_frame_stats  per-(image, region) threshold histograms and MAE sums of the SI metrics.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "sod/args.h"
#include "sod/math.h"

namespace torchauc::sod {
namespace {

// ------------------------------------------------------------------------------ frames
// Components of one image's foreground fg (H x W), numbered 1.. in raster order of their first
// pixel (scikit-image's measure.label order), written to lab; returns the areas.
std::vector<int64_t> label_image(const bool* fg, int32_t* lab, int64_t H, int64_t W, bool eight) {
  std::vector<int64_t> area;
  std::vector<int64_t> stack;
  const int64_t HW = H * W;
  for (int64_t i = 0; i < HW; ++i) lab[i] = 0;
  for (int64_t s = 0; s < HW; ++s) {
    if (!fg[s] || lab[s]) continue;
    const int32_t id = static_cast<int32_t>(area.size() + 1);
    int64_t n = 0;
    lab[s] = id;
    stack.assign(1, s);
    while (!stack.empty()) {
      const int64_t i = stack.back();
      stack.pop_back();
      ++n;
      const int64_t y = i / W, x = i % W;
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) {
          if ((dy == 0 && dx == 0) || (!eight && dy != 0 && dx != 0)) continue;
          const int64_t yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
          const int64_t j = yy * W + xx;
          if (fg[j] && !lab[j]) {
            lab[j] = id;
            stack.push_back(j);
          }
        }
    }
    area.push_back(n);
  }
  return area;
}

std::tuple<at::Tensor, at::Tensor> sod_frames_cpu(const at::Tensor& masks, double threshold, int64_t min_area,
                                                  int64_t connectivity) {
  check_masks(masks, threshold, min_area, connectivity);
  const at::Tensor fg = at::gt(masks, threshold).contiguous();
  const int64_t B = masks.size(0), H = masks.size(1), W = masks.size(2);
  at::Tensor labels = at::empty({B, H, W}, masks.options().dtype(at::kInt));
  at::Tensor counts = at::empty({B}, masks.options().dtype(at::kLong));
  const bool* F = fg.const_data_ptr<bool>();
  int32_t* L = labels.data_ptr<int32_t>();
  int64_t* N = counts.data_ptr<int64_t>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int32_t* lab = L + b * H * W;
      const std::vector<int64_t> area = label_image(F + b * H * W, lab, H, W, connectivity == 8);
      std::vector<int32_t> renum(area.size() + 1, 0);
      int32_t kept = 0;
      for (size_t j = 0; j < area.size(); ++j)
        if (area[j] >= min_area) renum[j + 1] = ++kept;
      if (kept == 0 && !area.empty()) renum[1] = kept = 1;  // none large enough: keep the first
      for (int64_t i = 0; i < H * W; ++i) lab[i] = renum[lab[i]];
      N[b] = kept;
    }
  });
  return {labels, counts};
}

// ------------------------------------------------------------------------------ SI loss
template <typename T>
using acc_of = std::conditional_t<std::is_same_v<T, double>, double, float>;

// The loss frames of every image, clipped once: frames_of[b] = boxes of image b (the whole image
// for the fallback).
std::vector<std::vector<Box>> loss_boxes(const int64_t* BX, const int64_t* N, int64_t B, int64_t K, int64_t H,
                                         int64_t W) {
  std::vector<std::vector<Box>> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const LossFrames f = loss_frames(N, b, K);
    for (int64_t k = 0; k < f.n; ++k) out[b].push_back(loss_box(BX, b, k, K, H, W, f.fallback));
  }
  return out;
}

// Segments of row y of an image: maximal column ranges [x0, x1) over which the set of frames
// containing the pixels (bit k: frame k) is constant, in column order. Pixels of overlapping frames
// are scored once per segment and the sums added to every frame of the segment.
struct Segment {
  int64_t x0, x1;
  uint64_t frames;  // 0: background
};
void row_segments(const std::vector<Box>& boxes, int64_t y, int64_t W, std::vector<int64_t>& cuts,
                  std::vector<Segment>& out) {
  cuts.assign({int64_t(0), W});
  for (const Box& bx : boxes)
    if (y >= bx.y0 && y < bx.y1 && bx.x0 < bx.x1) cuts.push_back(bx.x0), cuts.push_back(bx.x1);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  out.clear();
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    uint64_t m = 0;
    for (size_t k = 0; k < boxes.size(); ++k)
      if (boxes[k].contains(y, cuts[i])) m |= uint64_t(1) << k;
    out.push_back(Segment{cuts[i], cuts[i + 1], m});
  }
}

// Adds [sum bce, sum p g, sum p, sum g] over n pixels of one channel to e (A: the BCE's precision).
template <typename T, typename A>
void frame_sums(const T* p, const T* g, int64_t n, double* e) {
  double sb = 0, spg = 0, sp = 0, sg = 0;
  for (int64_t i = 0; i < n; ++i) {
    const A pv = static_cast<A>(p[i]), gv = static_cast<A>(g[i]);
    sb += bce<A>(pv, gv);
    spg += (double)pv * (double)gv;
    sp += pv;
    sg += gv;
  }
  e[0] += sb, e[1] += spg, e[2] += sp, e[3] += sg;
}

// d[i] = frames_grad(a, u, v, p[i], g[i]) * s over n pixels of one channel of a frame segment; the
// float instantiation is compiled twice (AVX2 and baseline) and picked at load time.
template <typename T>
void frame_grads(const T* p, const T* g, T* d, int64_t n, double a, double u, double v, double s) {
  if (a != 0.0) {
    for (int64_t i = 0; i < n; ++i)
      d[i] = static_cast<T>(frames_grad(a, u, v, static_cast<double>(p[i]), static_cast<double>(g[i])) * s);
  } else {
    for (int64_t i = 0; i < n; ++i)
      d[i] = static_cast<T>(frames_grad(0.0, u, v, static_cast<double>(p[i]), static_cast<double>(g[i])) * s);
  }
}
__attribute__((target_clones("avx2", "default"))) void frame_grads_f32(const float* p, const float* g, float* d,
                                                                       int64_t n, double a, double u, double v,
                                                                       double s) {
  frame_grads<float>(p, g, d, n, a, u, v, s);
}
template <typename T>
void frame_grads_dispatch(const T* p, const T* g, T* d, int64_t n, double a, double u, double v, double s) {
  if constexpr (std::is_same_v<T, float>)
    frame_grads_f32(p, g, d, n, a, u, v, s);
  else
    frame_grads<T>(p, g, d, n, a, u, v, s);
}

// The same for a background segment of a one-channel image: the frame terms are zero and the mean
// over channels is the prediction itself (computed as the general loop does, so the bits agree).
template <typename T>
void background_grads(const T* p, const T* g, T* d, int64_t n, double bgc, double s) {
  for (int64_t i = 0; i < n; ++i) {
    const double pv = static_cast<double>(p[i]), gv = static_cast<double>(g[i]);
    const double pbar = (0.0 + pv) / 1.0;
    d[i] = static_cast<T>((frames_grad(0.0, 0.0, 0.0, pv, gv) + bgc * (pbar - gv)) * s);
  }
}
__attribute__((target_clones("avx2", "default"))) void background_grads_f32(const float* p, const float* g, float* d,
                                                                            int64_t n, double bgc, double s) {
  background_grads<float>(p, g, d, n, bgc, s);
}

template <typename T>
void background_grads_dispatch(const T* p, const T* g, T* d, int64_t n, double bgc, double s) {
  if constexpr (std::is_same_v<T, float>)
    background_grads_f32(p, g, d, n, bgc, s);
  else
    background_grads<T>(p, g, d, n, bgc, s);
}

constexpr int64_t kBandRows = 16;  // rows of one forward task (a fixed split: the sums do not depend on threads)

std::tuple<at::Tensor, at::Tensor> sod_si_loss_cpu(const at::Tensor& pred_in, const at::Tensor& target_in,
                                                   const at::Tensor& boxes_in, const at::Tensor& counts_in,
                                                   int64_t base, bool compute_grad) {
  check_loss_inputs(pred_in, target_in, boxes_in, counts_in, base);
  const at::Tensor pred = pred_in.contiguous();
  const at::Tensor target = target_in.to(pred.scalar_type()).contiguous();
  const at::Tensor boxes = boxes_in.contiguous(), counts = counts_in.contiguous();
  const int64_t B = pred.size(0), C = pred.size(1), H = pred.size(2), W = pred.size(3), K = boxes.size(1);
  check_box_values(boxes, counts, H, W);
  const int64_t* BX = boxes.const_data_ptr<int64_t>();
  const int64_t* N = counts.const_data_ptr<int64_t>();
  const int b_ = static_cast<int>(base);
  const int64_t Kr = loss_rows(K), S = (Kr + 1) * C * kStats;  // S: doubles of the sums of one image
  const std::vector<std::vector<Box>> frames = loss_boxes(BX, N, B, K, H, W);
  const int64_t bands = (H + kBandRows - 1) / kBandRows;
  std::vector<double> part(static_cast<size_t>(B * bands * S), 0.0);  // sums of each (image, band)
  std::vector<double> sums(static_cast<size_t>(B * S), 0.0);
  at::Tensor loss = at::empty({}, pred.options());
  at::Tensor grad = compute_grad ? at::empty_like(pred) : at::empty({0}, pred.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, pred.scalar_type(), "sod_si_loss", [&] {
    using A = acc_of<scalar_t>;
    const scalar_t* P = pred.const_data_ptr<scalar_t>();
    const scalar_t* G = target.const_data_ptr<scalar_t>();
    // pass 1: the frame and background sums, one task per band of rows of an image
    at::parallel_for(0, B * bands, 1, [&](int64_t t0, int64_t t1) {
      std::vector<int64_t> cuts;
      std::vector<Segment> segs;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / bands, y0 = (t % bands) * kBandRows, y1 = std::min(H, y0 + kBandRows);
        const bool fallback = loss_frames(N, b, K).fallback;
        double* s = part.data() + t * S;
        double* bg = s + Kr * C * kStats;
        for (int64_t y = y0; y < y1; ++y) {
          row_segments(frames[b], y, W, cuts, segs);
          const scalar_t* g = G + (b * H + y) * W;
          for (const Segment& sg : segs) {
            const int64_t n = sg.x1 - sg.x0;
            if (sg.frames != 0) {
              for (int64_t c = 0; c < C; ++c) {
                double e[kStats] = {0, 0, 0, 0};
                frame_sums<scalar_t, A>(P + ((b * C + c) * H + y) * W + sg.x0, g + sg.x0, n, e);
                for (uint64_t m = sg.frames; m; m &= m - 1) {
                  double* f = s + (lowest_bit(m) * C + c) * kStats;
                  f[0] += e[0], f[1] += e[1], f[2] += e[2], f[3] += e[3];
                }
              }
            } else if (!fallback) {
              double sq = 0;
              for (int64_t x = sg.x0; x < sg.x1; ++x) {
                double pbar = 0;
                for (int64_t c = 0; c < C; ++c) pbar += static_cast<double>(P[((b * C + c) * H + y) * W + x]);
                const double d = pbar / (double)C - static_cast<double>(g[x]);
                sq += d * d;
              }
              bg[0] += sq, bg[1] += (double)n;
            }
          }
        }
      }
    });
    at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {  // the bands in order: deterministic
      for (int64_t b = b0; b < b1; ++b)
        for (int64_t t = 0; t < bands; ++t)
          for (int64_t i = 0; i < S; ++i) sums[b * S + i] += part[(b * bands + t) * S + i];
    });
    double total = 0;
    for (int64_t b = 0; b < B; ++b) total += image_loss(b_, sums.data(), BX, N, b, K, C, H, W);
    loss.fill_(total / (double)B);
    if (!compute_grad) return;
    // pass 2: the gradient, one task per image row; a segment's frame coefficients are summed in frame
    // order (as the CUDA kernel's per-pixel loop)
    std::vector<FrameCoef> coef(static_cast<size_t>(B * Kr * C), FrameCoef{0, 0, 0});
    for (int64_t b = 0; b < B; ++b)
      for (size_t k = 0; k < frames[b].size(); ++k)
        for (int64_t c = 0; c < C; ++c)
          coef[(b * Kr + k) * C + c] =
              frame_coef(b_, sums.data() + ((b * (Kr + 1) + k) * C + c) * kStats, (double)frames[b][k].area());
    scalar_t* D = grad.data_ptr<scalar_t>();
    const double inv_b = 1.0 / (double)B;
    at::parallel_for(0, B * H, 4, [&](int64_t r0, int64_t r1) {
      std::vector<int64_t> cuts;
      std::vector<Segment> segs;
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / H, y = r % H;
        const bool fallback = loss_frames(N, b, K).fallback;
        const double bgc = fallback ? 0.0 : background_coef(sums.data(), b, K, C, H, W);
        row_segments(frames[b], y, W, cuts, segs);
        const scalar_t* g = G + (b * H + y) * W;
        for (const Segment& sg : segs) {
          if (sg.frames != 0) {
            for (int64_t c = 0; c < C; ++c) {
              double a = 0, u = 0, v = 0;
              for (uint64_t m = sg.frames; m; m &= m - 1) {
                const FrameCoef& e = coef[(b * Kr + lowest_bit(m)) * C + c];
                a += e.a, u += e.u, v += e.v;
              }
              const int64_t o = ((b * C + c) * H + y) * W + sg.x0;
              frame_grads_dispatch<scalar_t>(P + o, g + sg.x0, D + o, sg.x1 - sg.x0, a, u, v, inv_b);
            }
            continue;
          }
          if (C == 1) {  // background (none in a fallback image)
            const int64_t o = (b * H + y) * W + sg.x0;
            background_grads_dispatch<scalar_t>(P + o, g + sg.x0, D + o, sg.x1 - sg.x0, bgc, inv_b);
            continue;
          }
          for (int64_t x = sg.x0; x < sg.x1; ++x) {
            double m = 0;
            for (int64_t c = 0; c < C; ++c) m += static_cast<double>(P[((b * C + c) * H + y) * W + x]);
            const double pbar = m / (double)C, gv = static_cast<double>(g[x]);
            for (int64_t c = 0; c < C; ++c) {
              const int64_t i = ((b * C + c) * H + y) * W + x;
              double d = frames_grad(0.0, 0.0, 0.0, static_cast<double>(P[i]), gv);
              if (!fallback) d += bgc * (pbar - gv);
              D[i] = static_cast<scalar_t>(d * inv_b);
            }
          }
        }
      }
    });
  });
  return {loss, grad};
}

// ------------------------------------------------------------------------------ SI metric statistics
std::tuple<at::Tensor, at::Tensor> sod_frame_stats_cpu(const at::Tensor& pred_in, const at::Tensor& norm_in,
                                                       const at::Tensor& target_in, const at::Tensor& boxes_in,
                                                       const at::Tensor& counts_in, const at::Tensor& thresholds_in,
                                                       bool official) {
  check_stats_inputs(pred_in, norm_in, target_in, boxes_in, counts_in, thresholds_in);
  const at::Tensor pred = pred_in.contiguous();
  const at::Tensor norm = norm_in.to(pred.scalar_type()).contiguous();
  const at::Tensor target = target_in.to(pred.scalar_type()).contiguous();
  const at::Tensor thr = thresholds_in.to(at::kDouble).contiguous();
  const at::Tensor boxes = boxes_in.contiguous(), counts = counts_in.contiguous();
  const int64_t B = pred.size(0), H = pred.size(1), W = pred.size(2), K = boxes.size(1), T = thr.numel();
  const int64_t R = K + 2, NB = T + 1;
  check_box_values(boxes, counts, H, W);
  at::Tensor hist = at::zeros({B, R, 2, NB, 2}, pred.options().dtype(at::kLong));
  at::Tensor sums = at::zeros({B, R, 3}, pred.options().dtype(at::kDouble));
  const int64_t* BX = boxes.const_data_ptr<int64_t>();
  const int64_t* N = counts.const_data_ptr<int64_t>();
  const double* TH = thr.const_data_ptr<double>();
  int64_t* HS = hist.data_ptr<int64_t>();
  double* SM = sums.data_ptr<double>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, pred.scalar_type(), "sod_frame_stats", [&] {
    const scalar_t* P = pred.const_data_ptr<scalar_t>();
    const scalar_t* PN = norm.const_data_ptr<scalar_t>();
    const scalar_t* G = target.const_data_ptr<scalar_t>();
    // one pass per image: each pixel's bins and bitmask once, then every region it belongs to (the
    // CUDA kernel scans region by region; the integer histograms are equal, the sums to rounding)
    at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
      std::vector<uint64_t> vrow(static_cast<size_t>(W));
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t kb = frames_of(N, b, K);
        int64_t* hb = HS + b * R * 2 * NB * 2;
        double* sb = SM + b * R * 3;
        std::vector<Box> bx;
        for (int64_t k = 0; k < kb; ++k) bx.push_back(box_at(BX, b, k, K, H, W));
        auto add = [&](int64_t r, bool do_hist, bool do_sums, int64_t j0, int64_t j1, int64_t gf, double p, double g) {
          if (do_hist) {
            int64_t* h = hb + r * 2 * NB * 2;
            h[j0 * 2] += 1, h[j0 * 2 + 1] += gf, h[(NB + j1) * 2] += 1, h[(NB + j1) * 2 + 1] += gf;
          }
          if (do_sums) {
            double* e = sb + r * 3;
            e[0] += 1, e[1] += g, e[2] += p > g ? p - g : (p < g ? g - p : p - g);
          }
        };
        for (int64_t y = 0; y < H; ++y) {
          std::fill(vrow.begin(), vrow.end(), uint64_t(0));
          for (int64_t k = 0; k < kb; ++k)
            if (y >= bx[k].y0 && y < bx[k].y1)
              for (int64_t x = bx[k].x0; x < bx[k].x1; ++x) vrow[x] |= uint64_t(1) << k;
          for (int64_t x = 0; x < W; ++x) {
            const int64_t i = (b * H + y) * W + x;
            const double p = static_cast<double>(P[i]), g = static_cast<double>(G[i]);
            const int64_t j0 = threshold_bin(TH, T, p), j1 = threshold_bin(TH, T, static_cast<double>(PN[i]));
            const int64_t gf = target_fixed(g);
            const uint64_t v = vrow[x];
            add(K + 1, true, true, j0, j1, gf, p, g);
            if (v == 0) {
              add(K, true, true, j0, j1, gf, p, g);
              continue;
            }
            for (uint64_t m = v; m; m &= m - 1) {
              const int64_t k = lowest_bit(m);
              add(k, !official, true, j0, j1, gf, p, g);
            }
            if (official && v <= (uint64_t)kb) add((int64_t)v - 1, true, false, j0, j1, gf, p, g);
          }
        }
      }
    });
  });
  return {hist, sums};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("sod_frames", &sod_frames_cpu);
  m.impl("sod_si_loss", &sod_si_loss_cpu);
  m.impl("sod_frame_stats", &sod_frame_stats_cpu);
}

}  // namespace torchauc::sod
