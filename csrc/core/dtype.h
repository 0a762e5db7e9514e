// The element types a CUDA launcher can be handed, named without torch headers (the .cu files see
// none); the glue maps at::ScalarType onto it (core/cuda_glue.h).
#pragma once

namespace torchauc {

enum class Dtype : int { U8, I8, I16, I32, I64, F16, BF16, F32, F64 };

}  // namespace torchauc
